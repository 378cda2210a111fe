import Hub

/// One Web Push message for one subscription: where it goes, the subscription's keys, the JSON
/// the service worker shows, and the push service headers (RFC 8030 §5.2-5.4).
public struct WebPushMessage: Sendable {
    public var endpoint: String
    /// The subscription's `p256dh` (65-byte point) and `auth` (16 bytes), base64url.
    public var p256dh: String
    public var auth: String
    /// The plaintext: `{id, type, title, message, url, priority, timestamp}` (see `payload`).
    public var payload: [UInt8]
    public var ttlSeconds: Int
    public var urgency: String
    public var topic: String?

    public init(endpoint: String, p256dh: String, auth: String, payload: [UInt8], ttlSeconds: Int, urgency: String,
                topic: String?)
    {
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
        self.payload = payload
        self.ttlSeconds = ttlSeconds
        self.urgency = urgency
        self.topic = topic
    }

    /// How long a push service keeps an undelivered message, by priority: a low one is stale
    /// after a day, an urgent one is worth a week. An event's `data.ttl` (seconds) overrides it.
    public static func ttl(priority: String, override: Int?) -> Int {
        if let override { return max(0, min(override, 28 * 86_400)) }
        switch priority {
        case "LOW": return 86_400
        case "MEDIUM": return 3 * 86_400
        default: return 7 * 86_400
        }
    }

    /// RFC 8030 §5.3 `Urgency`: low, normal or high (URGENT and HIGH both wake the device).
    public static func urgency(priority: String) -> String {
        switch priority {
        case "LOW": return "low"
        case "HIGH", "URGENT": return "high"
        default: return "normal"
        }
    }

    /// RFC 8030 §5.4: a topic is at most 32 base64url characters; a collapse key that is not
    /// becomes a base64url digest of itself, so the same key still replaces the same message.
    public static func topic(collapseKey: String?) -> String? {
        guard let key = collapseKey, !key.isEmpty else { return nil }
        let allowed = key.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x2D || byte == 0x5F
        }
        if allowed && key.utf8.count <= 32 { return key }
        return String(Base64URL.encode(WebPushPrimitives.sha256(Array(key.utf8))).prefix(32))
    }

    /// The payload JSON, at most `WebPushEncryption.maxPlaintext` bytes: when too long, the message
    /// is shortened (whole characters, ending in "…"), never the JSON around it. `collapse_key` is
    /// added when the event gave one: the service worker uses it as the notification's `tag`.
    public static func payload(id: Int64, type: String, title: String, message: String, url: String?, priority: String,
                               timestamp: String, collapseKey: String? = nil) -> [UInt8]
    {
        func encode(_ text: String) -> [UInt8] {
            var json = JSONWriter(capacity: 256 + text.utf8.count)
            json.beginObject()
            json.field("id", Int(id))
            json.field("type", type)
            json.field("title", title)
            json.field("message", text)
            json.key("url"); if let url { json.string(url) } else { json.null() }
            json.field("priority", priority)
            json.field("timestamp", timestamp)
            if let collapseKey { json.field("collapse_key", String(collapseKey.prefix(200))) }
            json.endObject()
            return json.bytes
        }
        let full = encode(message)
        if full.count <= WebPushEncryption.maxPlaintext { return full }
        let characters = Array(message)
        var low = 0, high = characters.count
        var best = encode("…")
        while low <= high {
            let middle = (low + high) / 2
            let candidate = encode(String(characters[..<middle]) + "…")
            if candidate.count <= WebPushEncryption.maxPlaintext {
                best = candidate
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return best
    }
}
