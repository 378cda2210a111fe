import Foundation
import Hub

/// The weekly `attendance_summary` for parents, built from the hub's own data: for each child, the
/// attendance notifications of the week (sent to the child, or to the parent about the child
/// through `guardians_of`), as absences, late arrivals and the total. It is due at the parent's
/// `digest_day` and `digest_time` (Sunday 18:00 by default) on their clock, and sent within the
/// day after that moment (a hub that was down longer does not send old weeks). Each summary's
/// idempotency key names the parent, the child and the week, so it is sent once.
enum AttendanceSummary {
    static let type = "attendance_summary"

    /// The summaries due at `now` (PostgreSQL's clock when nil), as events.
    static func due(now: Date? = nil, parser: EventParser, on connection: PostgresConnection) throws -> [EventRequest] {
        let rows = try connection.executePrepared("""
            WITH clock AS (SELECT COALESCE(to_timestamp($1::double precision), now()) AS now),
            parents AS (
                SELECT u.id AS parent_id, COALESCE(p.timezone, 'UTC') AS tz,
                    hub_digest_until('weekly', COALESCE(p.timezone, 'UTC'), COALESCE(p.digest_time, '18:00'),
                                     COALESCE(p.digest_day, 'sunday'), clock.now - interval '7 days', 0) AS week_end
                FROM clock, users u LEFT JOIN notification_preferences p ON p.user_id = u.id
                WHERE u.is_active AND EXISTS (SELECT 1 FROM guardians g WHERE g.parent_id = u.id)
            )
            SELECT pa.parent_id, g.student_id, trim(s.first_name || ' ' || s.last_name) AS student_name,
                to_char((pa.week_end - interval '7 days') AT TIME ZONE pa.tz, 'YYYY-MM-DD') AS week_start,
                to_char(pa.week_end AT TIME ZONE pa.tz, 'YYYY-MM-DD') AS week_end,
                count(DISTINCT x.event_id) FILTER (WHERE x.notification_type = 'ABSENCE_ALERT'
                    OR x.data->>'status' = 'absent') AS absences,
                count(DISTINCT x.event_id) FILTER (WHERE x.notification_type = 'LATE_ALERT'
                    OR x.data->>'status' = 'late') AS lates,
                count(DISTINCT x.event_id) AS total
            FROM parents pa CROSS JOIN clock
            JOIN guardians g ON g.parent_id = pa.parent_id
            JOIN users s ON s.id = g.student_id
            LEFT JOIN LATERAL (
                SELECT n.event_id, n.notification_type, n.data FROM notifications n
                WHERE n.recipient_id = g.student_id AND n.category = 'attendance' AND n.notification_type <> $2
                    AND n.created_at > pa.week_end - interval '7 days' AND n.created_at <= pa.week_end
                UNION ALL
                SELECT n.event_id, n.notification_type, n.data FROM notifications n JOIN events e ON e.id = n.event_id
                WHERE n.recipient_id = pa.parent_id AND n.category = 'attendance' AND n.notification_type <> $2
                    AND n.created_at > pa.week_end - interval '7 days' AND n.created_at <= pa.week_end
                    AND e.recipients->'guardians_of' @> to_jsonb(g.student_id)
            ) x ON true
            WHERE pa.week_end <= clock.now AND pa.week_end > clock.now - interval '1 day'
                AND NOT EXISTS (SELECT 1 FROM events e WHERE e.idempotency_key =
                    'attendance_summary:' || pa.parent_id || ':' || g.student_id || ':'
                    || to_char(pa.week_end AT TIME ZONE pa.tz, 'YYYY-MM-DD'))
            GROUP BY pa.parent_id, g.student_id, s.first_name, s.last_name, pa.week_end, pa.tz
            ORDER BY pa.parent_id, g.student_id
            """, [now.map { String($0.timeIntervalSince1970) }, type]).rows
        return rows.compactMap { row in
            guard let parent = row.int("parent_id"), let student = row.int("student_id"), let weekEnd = row.string("week_end")
            else { return nil }
            let data: [String: Any] = [
                "student_id": student, "student_name": row.string("student_name") ?? "",
                "week_start": row.string("week_start") ?? "", "week_end": weekEnd,
                "absences": row.int("absences") ?? 0, "lates": row.int("lates") ?? 0, "total": row.int("total") ?? 0,
            ]
            var errors = FieldErrors()
            return parser.parse(JSONBody(object: [
                "type": type, "recipients": ["users": [parent]], "data": data,
                "idempotency_key": "attendance_summary:\(parent):\(student):\(weekEnd)",
            ], fieldPrefix: ""), &errors)
        }
    }
}
