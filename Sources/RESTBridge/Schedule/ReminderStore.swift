import Foundation
import Hub

/// Recurring reminders (`reminders`) and when each fires next (`reminder_runs`: one row per time
/// zone the reminder fires in: the rule's own, or, without one, every zone the hub's users have,
/// so each recipient hears it at the rule's time on their own clock).
public struct ReminderStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    /// A reminder as stored: the event as posted (without `rule`), its rule, and its skipped dates.
    public struct Reminder: Sendable {
        public let id: Int64
        public let event: String
        public let rule: String
        public let cancellationKey: String?
        /// Skipped dates (`2025-08-15`) and their reasons.
        public let skipped: [String: String]
        public let active: Bool
        public let nextAt: String?
        public let createdAt: String

        init(row: QueryResult.Row) {
            id = Int64(row.int("id") ?? 0)
            event = row.string("event") ?? "{}"
            rule = row.string("rule") ?? "{}"
            cancellationKey = row.string("cancellation_key")
            let skippedJSON = (try? JSONSerialization.jsonObject(with: Data((row.string("skipped") ?? "{}").utf8))) as? [String: Any]
            skipped = (skippedJSON ?? [:]).mapValues { $0 as? String ?? "" }
            active = row.bool("active") ?? true
            nextAt = row.string("next_at")
            createdAt = row.string("created_at") ?? ""
        }

        public var parsedRule: ReminderRule? {
            var errors = FieldErrors()
            return ReminderRule.parse(try? JSONSerialization.jsonObject(with: Data(rule.utf8)), &errors)
        }

        public var skippedDates: Set<LocalDate> { Set(skipped.keys.compactMap(LocalDate.init(parsing:))) }
    }

    static let columns = """
        m.id, m.event::text AS event, m.rule::text AS rule, m.cancellation_key, m.skipped::text AS skipped, m.active,
        hub_iso(m.created_at) AS created_at,
        (SELECT hub_iso(min(r.next_at)) FROM reminder_runs r WHERE r.reminder_id = m.id AND r.next_at < 'infinity') AS next_at
        """

    public func create(event: String, type: String, rule: String, timezone: String?, cancellationKey: String?) async throws
        -> Reminder
    {
        try await pool.transaction { connection in
            let id = try connection.executePrepared("""
                INSERT INTO reminders (event_type, event, rule, timezone, cancellation_key)
                VALUES ($1, $2::jsonb, $3::jsonb, $4, $5) RETURNING id
                """, [type, event, rule, timezone, cancellationKey]).first?.int("id") ?? 0
            try Self.replanRuns(reminderID: Int64(id), on: connection)
            return try Self.find(Int64(id), on: connection)!
        }
    }

    public func find(id: Int64) async throws -> Reminder? {
        try await pool.run { connection in try Self.find(id, on: connection) }
    }

    public func list(limit: Int) async throws -> [Reminder] {
        try await pool.run { connection in
            try connection.executePrepared("SELECT \(Self.columns) FROM reminders m ORDER BY m.id DESC LIMIT $1",
                                           [String(limit)]).rows.map(Reminder.init(row:))
        }
    }

    /// Replaces what PATCH changed (nil: kept), then plans the runs again.
    public func update(id: Int64, event: String?, type: String?, rule: String?, timezone: String??, cancellationKey: String??,
                       active: Bool?) async throws -> Reminder?
    {
        let parameters: [String?] = [String(id), event, type, rule, timezone == nil ? "keep" : "set", timezone ?? nil,
                                     cancellationKey == nil ? "keep" : "set", cancellationKey ?? nil, active.map { $0 ? "true" : "false" }]
        return try await pool.transaction { connection in
            guard try connection.executePrepared("""
                UPDATE reminders SET event = COALESCE($2::jsonb, event), event_type = COALESCE($3, event_type),
                    rule = COALESCE($4::jsonb, rule), timezone = CASE WHEN $5 = 'set' THEN $6 ELSE timezone END,
                    cancellation_key = CASE WHEN $7 = 'set' THEN $8 ELSE cancellation_key END,
                    active = COALESCE($9::boolean, active), updated_at = now()
                WHERE id = $1 RETURNING id
                """, parameters).first != nil else { return nil }
            try Self.replanRuns(reminderID: id, on: connection)
            return try Self.find(id, on: connection)
        }
    }

    public func delete(id: Int64) async throws -> Bool {
        try await pool.run { connection in
            try connection.executePrepared("DELETE FROM reminders WHERE id = $1 RETURNING id", [String(id)]).first != nil
        }
    }

    /// Skips (with a reason) or restores one date; plans the runs again.
    public func setSkipped(id: Int64, date: LocalDate, reason: String?, skipped: Bool) async throws -> Reminder? {
        try await pool.transaction { connection in
            guard try connection.executePrepared("""
                UPDATE reminders SET updated_at = now(),
                    skipped = CASE WHEN $3::boolean THEN skipped || jsonb_build_object($2::text, COALESCE($4, ''))
                                   ELSE skipped - $2::text END
                WHERE id = $1 RETURNING id
                """, [String(id), date.description, skipped ? "true" : "false", reason]).first != nil else { return nil }
            try Self.replanRuns(reminderID: id, on: connection)
            return try Self.find(id, on: connection)
        }
    }

    /// Deactivates every reminder with `key` (`POST /api/v1/events/cancel/`); returns how many.
    public func cancel(key: String) async throws -> Int {
        try await pool.run { connection in
            try connection.executePrepared("""
                WITH stopped AS (UPDATE reminders SET active = false, updated_at = now()
                                 WHERE cancellation_key = $1 AND active RETURNING id),
                gone AS (DELETE FROM reminder_runs WHERE reminder_id IN (SELECT id FROM stopped))
                SELECT count(*) AS n FROM stopped
                """, [key]).first?.int("n") ?? 0
        }
    }

    static func find(_ id: Int64, on connection: PostgresConnection) throws -> Reminder? {
        try connection.executePrepared("SELECT \(columns) FROM reminders m WHERE m.id = $1", [String(id)]).first
            .map(Reminder.init(row:))
    }

    /// The zones a reminder without a zone of its own fires in: every zone in the preferences, and UTC.
    static let userZones = "SELECT DISTINCT timezone FROM notification_preferences UNION SELECT 'UTC'"

    /// Drops the reminder's runs and plans them from now: one per zone, at its next occurrence
    /// ('infinity' once a schedule has ended).
    static func replanRuns(reminderID: Int64, on connection: PostgresConnection) throws {
        try connection.executePrepared("DELETE FROM reminder_runs WHERE reminder_id = $1", [String(reminderID)])
        try connection.executePrepared("""
            INSERT INTO reminder_runs (reminder_id, timezone)
            SELECT m.id, z.timezone FROM reminders m
            CROSS JOIN LATERAL (SELECT m.timezone AS timezone WHERE m.timezone IS NOT NULL
                                UNION SELECT timezone FROM (\(userZones)) u WHERE m.timezone IS NULL) z
            WHERE m.id = $1 AND m.active
            """, [String(reminderID)])
        try planUnplanned(on: connection)
    }

    /// Adds runs for zones that users took up since (a new zone in someone's preferences).
    static func addNewZones(on connection: PostgresConnection) throws {
        try connection.executePrepared("""
            INSERT INTO reminder_runs (reminder_id, timezone)
            SELECT m.id, z.timezone FROM reminders m CROSS JOIN (\(userZones)) z
            WHERE m.active AND m.timezone IS NULL ON CONFLICT DO NOTHING
            """)
    }

    /// Gives every run without a time its next occurrence after now (PostgreSQL's clock).
    static func planUnplanned(on connection: PostgresConnection) throws {
        let rows = try connection.executePrepared("""
            SELECT r.reminder_id, r.timezone, m.rule::text AS rule, m.skipped::text AS skipped,
                extract(epoch FROM now())::double precision AS now
            FROM reminder_runs r JOIN reminders m ON m.id = r.reminder_id WHERE r.next_at IS NULL LIMIT 1000
            """).rows
        for row in rows {
            let reminder = Reminder(row: row)
            let now = Date(timeIntervalSince1970: row.double("now") ?? Date().timeIntervalSince1970)
            let next = reminder.parsedRule.flatMap { rule in
                TimeZone(identifier: row.string("timezone") ?? "UTC").flatMap { rule.next(after: now, in: $0, skipped: reminder.skippedDates) }
            }
            try setNext(reminderID: row.int("reminder_id") ?? 0, zone: row.string("timezone") ?? "UTC", next, on: connection)
        }
    }

    static func setNext(reminderID: Int, zone: String, _ next: ReminderRule.Occurrence?, on connection: PostgresConnection) throws {
        try connection.executePrepared("""
            UPDATE reminder_runs SET next_at = COALESCE(to_timestamp($3::double precision), 'infinity'),
                occurrence_date = $4::date, occurrence_time = $5
            WHERE reminder_id = $1 AND timezone = $2
            """, [String(reminderID), zone, next.map { String($0.at.timeIntervalSince1970) }, next?.date.description,
                  next?.time.description])
    }
}
