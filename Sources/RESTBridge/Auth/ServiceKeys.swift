/// API keys of platform backends: from `HUB_SERVICE_KEYS` and the `service_keys` table (which
/// keeps only SHA-256 digests). Presented as `Authorization: Api-Key <key>`.
public struct ServiceKeys: Sendable {
    private let configured: [[UInt8]]
    let pool: DatabasePool?

    public init(keys: [String], pool: DatabasePool?) {
        configured = keys.map { Crypto.sha256(Array($0.utf8)) }
        self.pool = pool
    }

    /// The key's name if it is valid. Configured keys are compared in constant time, every one of
    /// them, so timing tells nothing about which or how much matched.
    public func authenticate(_ key: String) async throws -> String? {
        let digest = Crypto.sha256(Array(key.utf8))
        var matched = false
        for candidate in configured { matched = Crypto.constantTimeEquals(candidate, digest) || matched }
        if matched { return "config" }
        guard let pool else { return nil }
        let hex = Crypto.hex(digest)
        return try await pool.run { connection in
            try connection.executePrepared("SELECT name FROM service_keys WHERE key_sha256 = $1 AND revoked_at IS NULL",
                                           [hex]).first?.string("name")
        }
    }
}
