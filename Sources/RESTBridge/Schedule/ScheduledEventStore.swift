import Foundation
import Hub

/// Events posted with `send_at`: kept in `scheduled_events` until their time, then run through the
/// `EventPipeline` by the `EventScheduler`. Each keeps an idempotency key (the caller's, or
/// `scheduled:<id>`), which the event statement honours: a row sent twice (a node dies between the
/// pipeline's commit and marking the row sent) is one event.
public struct ScheduledEventStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    public struct Scheduled: Sendable {
        public let id: Int64
        public let sendAt: String
        /// The same idempotency key was scheduled before: this is that event.
        public let duplicate: Bool
    }

    /// Keeps `event` until `schedule.sendAt`.
    public func schedule(_ event: EventRequest, _ schedule: ScheduleRequest) async throws -> Scheduled {
        let parameters: [String?] = [event.type, event.storedJSON, String(schedule.sendAt.timeIntervalSince1970),
                                     schedule.cancellationKey, schedule.cancelIfRead.map(String.init), event.idempotencyKey]
        return try await pool.run { connection in
            if let row = try connection.executePrepared("""
                WITH next AS (SELECT nextval('scheduled_events_id_seq') AS id)
                INSERT INTO scheduled_events (id, event_type, event, send_at, cancellation_key, cancel_if_read, idempotency_key)
                SELECT id, $1, $2::jsonb, GREATEST(to_timestamp($3::double precision), now()), $4, $5::bigint,
                    COALESCE($6, 'scheduled:' || id) FROM next
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id, hub_iso(send_at) AS send_at
                """, parameters).first, let id = row.int("id") {
                return Scheduled(id: Int64(id), sendAt: row.string("send_at") ?? "", duplicate: false)
            }
            let row = try connection.executePrepared(
                "SELECT id, hub_iso(send_at) AS send_at FROM scheduled_events WHERE idempotency_key = $1",
                [event.idempotencyKey]).first
            return Scheduled(id: Int64(row?.int("id") ?? 0), sendAt: row?.string("send_at") ?? "", duplicate: true)
        }
    }

    /// Cancels every pending event with `key`; returns how many.
    public func cancel(key: String) async throws -> Int {
        try await pool.run { connection in
            try connection.executePrepared("""
                WITH cancelled AS (
                    UPDATE scheduled_events SET status = 'CANCELLED', reason = 'cancelled by key', updated_at = now()
                    WHERE cancellation_key = $1 AND status = 'PENDING' RETURNING 1)
                SELECT count(*) AS n FROM cancelled
                """, [key]).first?.int("n") ?? 0
        }
    }

    /// Pending events, soonest first (with `key`: only those).
    public func pending(key: String?, limit: Int) async throws -> [QueryResult.Row] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT id, event_type, hub_iso(send_at) AS send_at, cancellation_key, cancel_if_read,
                    hub_iso(created_at) AS created_at
                FROM scheduled_events WHERE status = 'PENDING' AND ($1::text IS NULL OR cancellation_key = $1)
                ORDER BY send_at, id LIMIT $2
                """, [key, String(limit)]).rows
        }
    }

    /// A due event as the scheduler takes it.
    struct Due: Sendable {
        let id: Int64
        let event: EventRequest
    }

    /// Claims up to `limit` due events for `leaseSeconds` (`SKIP LOCKED`: several workers and nodes
    /// share the table; a claim whose worker died is taken again when its lease ends). Events whose
    /// `cancel_if_read` notification was read are cancelled in the same statement.
    static func claimDue(limit: Int, leaseSeconds: Int, on connection: PostgresConnection) throws -> [Due] {
        try connection.executePrepared("""
            WITH due AS (
                SELECT s.id, EXISTS (SELECT 1 FROM notifications n WHERE n.id = s.cancel_if_read AND n.is_read) AS read
                FROM scheduled_events s
                WHERE s.status IN ('PENDING', 'SENDING') AND s.send_at <= now()
                    AND (s.status = 'PENDING' OR s.lease_until < now())
                ORDER BY s.send_at, s.id LIMIT $1 FOR UPDATE SKIP LOCKED)
            UPDATE scheduled_events s SET
                status = CASE WHEN due.read THEN 'CANCELLED' ELSE 'SENDING' END,
                reason = CASE WHEN due.read THEN 'read' END,
                lease_until = now() + make_interval(secs => $2), updated_at = now()
            FROM due WHERE s.id = due.id
            RETURNING s.id, s.status, s.idempotency_key, (s.event - 'data')::text AS event,
                COALESCE(s.event->'data', '{}')::text AS data
            """, [String(limit), String(leaseSeconds)]).rows.compactMap { row in
            guard row.string("status") == "SENDING", let id = row.int("id"),
                  var event = EventRequest(stored: row.string("event") ?? "", data: row.string("data") ?? "{}")
            else { return nil }
            event.idempotencyKey = row.string("idempotency_key")
            return Due(id: Int64(id), event: event)
        }
    }

    /// Marks the events sent, each with the event it became.
    static func markSent(_ ids: [Int64], eventIDs: [Int64], on connection: PostgresConnection) throws {
        try connection.executePrepared("""
            UPDATE scheduled_events s SET status = 'SENT', event_id = sent.event_id, lease_until = NULL, updated_at = now()
            FROM unnest($1::bigint[], $2::bigint[]) AS sent(id, event_id) WHERE s.id = sent.id
            """, [PostgresArray.bigint(ids), PostgresArray.bigint(eventIDs)])
    }
}
