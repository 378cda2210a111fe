import Foundation
import Hub

/// Fires due reminder runs (on the scheduler's thread and connection): each becomes an event for
/// the recipients in the run's zone, rendered with the occurrence's `date` and `time`; a skipped
/// Halaka session becomes a `halaka_session_cancelled` notice with its reason instead. The runs
/// stay locked (`FOR UPDATE SKIP LOCKED`) until their next occurrence is written, and each event's
/// idempotency key names its occurrence, so a run fired twice (a crash between the pipeline's
/// commit and this one) is one event.
struct ReminderRunner: Sendable {
    let parser: EventParser
    let logger: Logger

    static let cancelledType = "halaka_session_cancelled"

    /// Fires what is due; returns how many runs fired.
    func runDue(on connection: PostgresConnection, accept: ([EventRequest]) throws -> [EventPipeline.Result]) throws -> Int {
        try connection.execute("BEGIN")
        do {
            let due = try connection.executePrepared("""
                SELECT r.reminder_id AS id, r.timezone AS zone, m.timezone AS own_zone, r.occurrence_date::text AS date,
                    r.occurrence_time AS time, extract(epoch FROM r.next_at)::double precision AS at,
                    m.event::text AS event, m.rule::text AS rule, m.skipped::text AS skipped
                FROM reminder_runs r JOIN reminders m ON m.id = r.reminder_id
                WHERE r.next_at <= now() AND m.active
                ORDER BY r.next_at LIMIT 200 FOR UPDATE OF r SKIP LOCKED
                """).rows
            var events: [EventRequest] = []
            for row in due {
                if let event = event(for: row) { events.append(event) }
            }
            _ = try accept(events)
            for row in due {
                let reminder = ReminderStore.Reminder(row: row)
                let after = Date(timeIntervalSince1970: row.double("at") ?? 0)
                let next = reminder.parsedRule.flatMap { rule in
                    TimeZone(identifier: row.string("zone") ?? "UTC").flatMap {
                        rule.next(after: after, in: $0, skipped: reminder.skippedDates)
                    }
                }
                try ReminderStore.setNext(reminderID: row.int("id") ?? 0, zone: row.string("zone") ?? "UTC", next, on: connection)
            }
            try connection.execute("COMMIT")
            if !due.isEmpty { logger.info("reminders fired", [("runs", .int(Int64(due.count))), ("events", .int(Int64(events.count)))]) }
            return due.count
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// The event one run fires, or nil when its stored event no longer parses (logged).
    private func event(for row: QueryResult.Row) -> EventRequest? {
        let reminder = ReminderStore.Reminder(row: row)
        guard var object = (try? JSONSerialization.jsonObject(with: Data(reminder.event.utf8))) as? [String: Any],
              let date = row.string("date"), let time = row.string("time"), let zone = row.string("zone")
        else { return nil }
        var data = object["data"] as? [String: Any] ?? [:]
        data["date"] = date
        data["time"] = time
        if let reason = reminder.skipped[date], reminder.parsedRule?.isHalaka == true {
            object["type"] = Self.cancelledType
            data["reason"] = reason
            for key in ["title", "message", "title_arabic", "message_arabic", "title_french", "message_french", "category"] {
                object[key] = nil
            }
        }
        object["data"] = data
        object["idempotency_key"] = "reminder:\(reminder.id):\(zone):\(date)T\(time)"
        var errors = FieldErrors()
        guard var event = parser.parse(JSONBody(object: object, fieldPrefix: ""), &errors) else {
            logger.warning("reminder skipped: its event does not parse", [("reminder_id", .int(reminder.id)),
                ("errors", .string(errors.fields.map { "\($0.0): \($0.1.joined(separator: " "))" }.joined(separator: "; ")))])
            return nil
        }
        if row.string("own_zone") == nil { event.recipientTimezone = zone }
        return event
    }
}
