import Hub

/// THE SEAM between presence and webhooks: `changed` is called once per transition of a user
/// (online: their first session; offline: their last one gone for the presence grace), and writes
/// that `presence.online` / `presence.offline` message for every subscribed endpoint. One node's
/// `PresenceTracker` decides the transitions itself (`ChannelDependencies.userPresenceChanged`);
/// with several nodes PostgreSQL decides them once for the cluster (`PostgresBus.onTransitions`).
/// Transitions that arrive while a statement runs leave together in the next one: a reconnect
/// storm of ten thousand sessions is a few statements and commits, not one per session.
public final class PresenceWebhooks: Sendable {
    private let batcher: Batcher<(userID: Int64, online: Bool), Void>
    private let logger: Logger

    public init(pool: DatabasePool, logger: Logger, onQueued: @escaping @Sendable () -> Void) {
        batcher = Batcher(pool: pool, maxInFlight: 1, maxCost: 5000) { connection, changes in
            let written = try connection.executePrepared(Self.statement, [
                PostgresArray.bigint(changes.map(\.userID)),
                PostgresArray.text(changes.map { $0.online ? "presence.online" : "presence.offline" }),
            ]).affectedRows
            if written > 0 { onQueued() }
            return changes.map { _ in () }
        }
        self.logger = logger
    }

    /// The changes in the order they happened (a user's online before their offline), each
    /// endpoint's messages in that order.
    static let statement = """
        WITH change AS (
            SELECT c.user_id, c.type, CASE c.type WHEN 'presence.online' THEN 'online' ELSE 'offline' END AS status, c.ord
            FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS c(user_id, type, ord)
        )
        \(WebhookOutbox.insert(type: "c.type", data: """
            jsonb_build_object('user_id', c.user_id, 'status', c.status, 'at', hub_iso(now()))
            """, from: "change c"))
        ORDER BY c.ord, e.id
        """

    /// Queues the transition's messages for the next statement (never blocks the caller).
    public func changed(userID: Int64, online: Bool) {
        let logger = self.logger
        batcher.submit((userID, online)) { result in
            if case .failure(let error) = result {
                logger.warning("presence webhook not written", [("user_id", .int(userID)), ("error", .string("\(error)"))])
            }
        }
    }
}
