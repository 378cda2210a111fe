import Hub

/// THE SEAM between presence and webhooks: `changed` is called once per transition of a user
/// (online: their first session; offline: their last one gone for the presence grace), and writes
/// that `presence.online` / `presence.offline` message for every subscribed endpoint, in one
/// statement. Today this node's `PresenceTracker` decides the transitions (through
/// `ChannelDependencies.userPresenceChanged`); cluster presence calls the same function once per
/// cluster instead.
public final class PresenceWebhooks: Sendable {
    private let pool: DatabasePool
    private let logger: Logger
    private let onQueued: @Sendable () -> Void

    public init(pool: DatabasePool, logger: Logger, onQueued: @escaping @Sendable () -> Void) {
        self.pool = pool
        self.logger = logger
        self.onQueued = onQueued
    }

    static let statement = """
        WITH change AS (SELECT $1::bigint AS user_id, $2::text AS type, $3::text AS status)
        \(WebhookOutbox.insert(type: "c.type", data: """
            jsonb_build_object('user_id', c.user_id, 'status', c.status, 'at', hub_iso(now()))
            """, from: "change c"))
        """

    /// Writes the transition's messages on a database worker (never blocks the caller).
    public func changed(userID: Int64, online: Bool) {
        let logger = self.logger, onQueued = self.onQueued
        pool.submit { connection in
            do {
                let written = try connection.get().executePrepared(Self.statement, [
                    String(userID), online ? "presence.online" : "presence.offline", online ? "online" : "offline",
                ]).affectedRows
                if written > 0 { onQueued() }
            } catch {
                logger.warning("presence webhook not written", [("user_id", .int(userID)), ("error", .string("\(error)"))])
            }
        }
    }
}
