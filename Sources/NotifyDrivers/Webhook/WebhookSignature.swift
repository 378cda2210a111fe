import COpenSSL
import Foundation

/// Standard Webhooks signing: a secret is `whsec_` + base64 of its key bytes; a signature is
/// `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")); the
/// `webhook-signature` header lists one per secret, separated by spaces.
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"

    /// A new secret: `whsec_` + base64 of 32 random bytes.
    public static func newSecret() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        precondition(RAND_bytes(&bytes, Int32(bytes.count)) == 1, "OpenSSL RAND_bytes failed")
        return secretPrefix + Data(bytes).base64EncodedString()
    }

    /// The key bytes of a secret (with or without the prefix), nil when it is not base64.
    public static func key(of secret: String) -> [UInt8]? {
        let text = secret.hasPrefix(secretPrefix) ? String(secret.dropFirst(secretPrefix.count)) : secret
        guard let data = Data(base64Encoded: text), !data.isEmpty else { return nil }
        return Array(data)
    }

    /// `v1,<base64 signature>` of one message under one secret; nil for a malformed secret.
    public static func sign(secret: String, id: String, timestamp: Int64, body: [UInt8]) -> String? {
        guard let key = key(of: secret) else { return nil }
        let signed = Array("\(id).\(timestamp).".utf8) + body
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        guard HMAC(EVP_sha256(), key, Int32(key.count), signed, signed.count, &out, &length) != nil else { return nil }
        return "v1," + Data(out.prefix(Int(length))).base64EncodedString()
    }

    /// The `webhook-signature` header: one `v1,` signature per secret, space-separated.
    public static func header(secrets: [String], id: String, timestamp: Int64, body: [UInt8]) -> String {
        secrets.compactMap { sign(secret: $0, id: id, timestamp: timestamp, body: body) }.joined(separator: " ")
    }
}
