import Foundation

/// `HUB_SMTP_URL`: `smtp://user:pass@host:587?starttls=required` (or `opportunistic`, `never`),
/// `smtps://…` for TLS from the first byte; `ca_file=/path` trusts a CA, `tls_insecure=1` accepts
/// self-signed certificates (local test servers only).
public struct SMTPConfiguration: Sendable {
    public enum StartTLS: String, Sendable { case required, opportunistic, never }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var implicitTLS: Bool
    public var startTLS: StartTLS
    public var tls: TLSOptions
    public var from: String
    public var fromName: String
    public var timeoutSeconds: Double = 15
    /// The name we give in EHLO.
    public var heloName = "hub.localdomain"

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(url text: String, from: String, fromName: String = "Hub") throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme),
              let host = url.host, !host.isEmpty
        else { throw Invalid(description: "HUB_SMTP_URL must look like smtp://user:pass@host:587?starttls=required") }
        self.host = host
        implicitTLS = scheme == "smtps"
        port = url.port ?? (implicitTLS ? 465 : 587)
        username = url.user.map { $0.removingPercentEncoding ?? $0 }
        password = url.password.map { $0.removingPercentEncoding ?? $0 }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        if let value = query["starttls"] {
            guard let mode = StartTLS(rawValue: value) else {
                throw Invalid(description: "HUB_SMTP_URL starttls must be required, opportunistic or never")
            }
            startTLS = mode
        } else {
            startTLS = implicitTLS ? .never : .opportunistic
        }
        tls = TLSOptions(caFile: query["ca_file"].flatMap { $0.isEmpty ? nil : $0 },
                                            allowSelfSigned: ["1", "true", "yes"].contains(query["tls_insecure"] ?? ""))
        guard from.contains("@") else { throw Invalid(description: "HUB_SMTP_FROM must be an email address") }
        self.from = from
        self.fromName = fromName
    }
}
