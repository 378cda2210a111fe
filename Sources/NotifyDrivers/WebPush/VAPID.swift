import Foundation
import Hub

/// The application server's identity (RFC 8292): an ES256 JWT for the push service's origin,
/// sent as `Authorization: vapid t=<JWT>, k=<public key>`.
public struct VAPID: Sendable {
    public let key: P256Key
    /// `mailto:` or `https:` contact of the operator, the JWT's `sub`.
    public let subject: String
    /// How long a JWT is valid; RFC 8292 allows at most 24 h, push services expect ≤ 12 h.
    public var lifetimeSeconds = 12 * 3600

    public init(key: P256Key, subject: String) {
        self.key = key
        self.subject = subject
    }

    /// The key as `HUB_VAPID_PRIVATE_KEY` gives it: PEM, or base64url of the raw 32-byte scalar.
    public static func parseKey(_ text: String) throws(WebPushCryptoError) -> P256Key {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("-----BEGIN") { return try P256Key.privateKey(pem: trimmed + "\n") }
        guard let raw = Base64URL.decode(trimmed), raw.count == 32 else {
            throw WebPushCryptoError("must be a PEM P-256 private key or base64url of its raw 32 bytes")
        }
        return try P256Key.privateKey(raw: raw)
    }

    /// Whether `subject` is a contact RFC 8292 accepts.
    public static func isValidSubject(_ subject: String) -> Bool {
        (subject.hasPrefix("mailto:") && subject.count > 7) || (subject.hasPrefix("https://") && subject.count > 8)
    }

    /// The public key as browsers take it (`applicationServerKey`): base64url of the 65-byte point.
    public var publicKeyBase64URL: String { Base64URL.encode(key.publicKey) }

    /// `scheme://host[:port]` of a push endpoint, the JWT's `aud`; the port only when not the default.
    public static func origin(of endpoint: URL) -> String? {
        guard let scheme = endpoint.scheme?.lowercased(), let host = endpoint.host?.lowercased(), !host.isEmpty else { return nil }
        let hostText = host.contains(":") ? "[\(host)]" : host
        if let port = endpoint.port, port != (scheme == "https" ? 443 : 80) { return "\(scheme)://\(hostText):\(port)" }
        return "\(scheme)://\(hostText)"
    }

    /// The signed JWT for `audience`, expiring `lifetimeSeconds` after `now`.
    public func token(audience: String, now: Date = Date()) throws(WebPushCryptoError) -> String {
        let expiry = Int(now.timeIntervalSince1970) + lifetimeSeconds
        let header = Base64URL.encode(Array(#"{"typ":"JWT","alg":"ES256"}"#.utf8))
        var claims = JSONWriter(capacity: 160)
        claims.beginObject()
        claims.field("aud", audience)
        claims.field("exp", expiry)
        claims.field("sub", subject)
        claims.endObject()
        let signingInput = header + "." + Base64URL.encode(claims.bytes)
        guard let raw = ECDSASignature.raw(fromDER: try key.signSHA256(Array(signingInput.utf8))) else {
            throw WebPushCryptoError("OpenSSL answered a malformed ECDSA signature")
        }
        return signingInput + "." + Base64URL.encode(raw)
    }

    /// The `Authorization` header value for a request to `endpoint`.
    public func authorization(for endpoint: URL, now: Date = Date()) throws(WebPushCryptoError) -> String {
        guard let audience = Self.origin(of: endpoint) else { throw WebPushCryptoError("the endpoint has no origin") }
        return "vapid t=\(try token(audience: audience, now: now)), k=\(publicKeyBase64URL)"
    }
}
