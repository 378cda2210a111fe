import Foundation
import Hub

/// What the operator console reads and does in PostgreSQL: the outbox by channel, failed
/// deliveries (retry, cancel), the last events with their fan-out.
public struct AdminStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    /// Outbox rows not yet sent, by channel: due now and due later.
    public func outbox() async throws -> [QueryResult.Row] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT channel, count(*) FILTER (WHERE status IN ('PENDING', 'RETRY', 'SENDING') AND available_at <= now()) AS due,
                    count(*) FILTER (WHERE status IN ('PENDING', 'RETRY', 'SENDING') AND available_at > now()) AS later,
                    count(*) FILTER (WHERE status = 'FAILED') AS failed
                FROM deliveries GROUP BY channel ORDER BY channel
                """).rows
        }
    }

    /// Deliveries in `status`, newest first, with their notification and recipient.
    public func deliveries(status: String, limit: Int) async throws -> [QueryResult.Row] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT d.id, d.notification_id, d.channel, d.destination, d.status, d.attempts, d.last_error,
                    hub_iso(d.updated_at) AS updated_at, n.title, u.email
                FROM deliveries d JOIN notifications n ON n.id = d.notification_id JOIN users u ON u.id = d.user_id
                WHERE d.status = $1 ORDER BY d.updated_at DESC, d.id DESC LIMIT $2
                """, [status, String(limit)]).rows
        }
    }

    public enum Change: Sendable { case retry, cancel }

    /// Retries a failed or cancelled delivery now (with a fresh count of attempts), or cancels one
    /// not yet delivered. nil: no such delivery; false: its status does not allow it.
    public func change(_ change: Change, deliveryID: Int64) async throws -> Bool? {
        try await pool.run { connection in
            let sql: String
            switch change {
            case .retry:
                sql = """
                    UPDATE deliveries SET status = 'PENDING', attempts = 0, available_at = now(), last_error = NULL,
                        updated_at = now()
                    WHERE id = $1 AND status IN ('FAILED', 'CANCELLED') RETURNING id
                    """
            case .cancel:
                sql = """
                    UPDATE deliveries SET status = 'CANCELLED', last_error = 'cancelled by staff', updated_at = now()
                    WHERE id = $1 AND status IN ('PENDING', 'RETRY', 'FAILED') RETURNING id
                    """
            }
            if try connection.executePrepared(sql, [String(deliveryID)]).first != nil { return true }
            return try connection.executePrepared("SELECT 1 FROM deliveries WHERE id = $1", [String(deliveryID)]).first
                == nil ? nil : false
        }
    }

    /// The latest events with how many notifications and deliveries each made.
    public func recentEvents(limit: Int) async throws -> [QueryResult.Row] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT e.id, e.event_type, hub_iso(e.created_at) AS created_at, e.recipients::text AS recipients,
                    (SELECT count(*) FROM notifications n WHERE n.event_id = e.id) AS notifications,
                    (SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id
                     WHERE n.event_id = e.id) AS deliveries
                FROM events e ORDER BY e.id DESC LIMIT $1
                """, [String(limit)]).rows
        }
    }

    /// Users online per node (the cluster's presence table; empty with one node).
    public func onlineUsersByNode() async throws -> [String: Int] {
        try await pool.run { connection in
            var counts: [String: Int] = [:]
            for row in try connection.executePrepared(
                "SELECT node, count(DISTINCT user_id) AS n FROM hub_presence GROUP BY node").rows {
                if let node = row.string("node") { counts[node] = row.int("n") ?? 0 }
            }
            return counts
        }
    }

    /// Names of users, by id.
    public func names(_ ids: [Int64]) async throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        return try await pool.run { connection in
            var names: [Int64: String] = [:]
            for row in try connection.executePrepared("""
                SELECT id, COALESCE(NULLIF(trim(first_name || ' ' || last_name), ''), email) AS name
                FROM users WHERE id = ANY($1::bigint[])
                """, [PostgresArray.bigint(ids)]).rows {
                if let id = row.int("id") { names[Int64(id)] = row.string("name") }
            }
            return names
        }
    }
}
