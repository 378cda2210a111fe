/// One webhook message for one endpoint, as the outbox claimed it: where it goes, its stable id
/// (the same on every retry and replay), the exact body to sign, and the secrets that sign it
/// (the current one, and the previous one during a rotation's overlap).
public struct WebhookMessage: Sendable {
    public let url: String
    public let id: String
    public let body: [UInt8]
    public let secrets: [String]

    public init(url: String, id: String, body: [UInt8], secrets: [String]) {
        self.url = url
        self.id = id
        self.body = body
        self.secrets = secrets
    }

    /// The Standard Webhooks headers of one attempt at `timestamp` (Unix seconds, signed with it).
    public func headers(timestamp: Int64, userAgent: String) -> [(String, String)] {
        [("Content-Type", "application/json"), ("User-Agent", userAgent), ("webhook-id", id),
         ("webhook-timestamp", String(timestamp)),
         ("webhook-signature", WebhookSignature.header(secrets: secrets, id: id, timestamp: timestamp, body: body))]
    }
}
