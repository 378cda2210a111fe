import Hub

/// The browser subscriptions of Web Push (one row per endpoint): saved from
/// `PushSubscription.toJSON()`, listed and deleted by their owner, deleted by the outbox when the
/// push service answers 404/410.
public struct PushSubscriptionStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    /// One subscription as the API shows it.
    public struct Subscription: Sendable {
        public let id: Int64
        public let endpoint: String
        public let userAgent: String?
        public let createdAt: String

        init?(row: QueryResult.Row) {
            guard let id = row.int("id"), let endpoint = row.string("endpoint") else { return nil }
            self.id = Int64(id)
            self.endpoint = endpoint
            userAgent = row.string("user_agent")
            createdAt = row.string("created_at") ?? ""
        }

        func write(to json: inout JSONWriter) {
            json.beginObject()
            json.field("id", Int(id))
            json.field("endpoint", endpoint)
            json.key("user_agent"); if let userAgent { json.string(userAgent) } else { json.null() }
            json.field("created_at", createdAt)
            json.endObject()
        }
    }

    /// Saves a subscription for `userID`; the same endpoint again (a renewed key, or another user
    /// signed in on that browser) updates the row. Answers it and whether it is new.
    public func save(userID: Int64, endpoint: String, p256dh: String, auth: String, userAgent: String?) async throws
        -> (Subscription, created: Bool)
    {
        try await pool.run { connection in
            let row = try connection.executePrepared("""
                INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh,
                    auth = EXCLUDED.auth, user_agent = EXCLUDED.user_agent, updated_at = now()
                RETURNING id, endpoint, user_agent, hub_iso(created_at) AS created_at, (xmax = 0) AS created
                """, [String(userID), endpoint, p256dh, auth, userAgent]).first
            guard let row, let subscription = Subscription(row: row) else { throw DatabaseError.query(sqlState: "", message: "INSERT answered no row") }
            return (subscription, row.bool("created") ?? true)
        }
    }

    public func list(userID: Int64) async throws -> [Subscription] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT id, endpoint, user_agent, hub_iso(created_at) AS created_at FROM push_subscriptions
                WHERE user_id = $1 ORDER BY id
                """, [String(userID)]).rows.compactMap(Subscription.init(row:))
        }
    }

    /// Deletes one of `userID`'s subscriptions; false if they have none with this id.
    public func delete(id: Int64, userID: Int64) async throws -> Bool {
        try await pool.run { connection in
            try connection.executePrepared("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2",
                                           [String(id), String(userID)]).affectedRows == 1
        }
    }
}
