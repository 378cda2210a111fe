import Foundation
import Testing
@testable import RESTBridge

/// Parents' weekly attendance summary on an injected clock, against the real PostgreSQL.
@Suite struct AttendanceSummaryTests {
    private func at(_ text: String) -> Date { ScheduleRequest.parseTimestamp(text)! }

    @Test func countsTheChildsWeekOnceAtTheParentsDayAndTime() throws {
        try withSchema { connection throws in
            func user(_ name: String, _ role: String) throws -> Int {
                try connection.execute("""
                    INSERT INTO users (email, password, first_name, last_name, role) VALUES ($1, '!', $2, 'Alaoui', $3) RETURNING id
                    """, ["\(name)@school.ma", name, role]).first!.int("id")!
            }
            let parent = try user("khadija", "PARENT"), child = try user("yasmine", "STUDENT")
            try connection.execute("INSERT INTO guardians (parent_id, student_id) VALUES ($1, $2)", [String(parent), String(child)])
            try connection.execute("""
                INSERT INTO notification_preferences (user_id, digest_day, digest_time) VALUES ($1, 'friday', '17:00')
                """, [String(parent)])
            func note(_ recipient: Int, _ type: String, _ category: String, _ created: String, data: String = "{}",
                      guardiansOf: Int? = nil) throws {
                let recipients = guardiansOf.map { #"{"guardians_of": [\#($0)]}"# } ?? #"{"users": [\#(recipient)]}"#
                let event = try connection.execute("INSERT INTO events (event_type, recipients) VALUES ($1, $2::jsonb) RETURNING id",
                                                   [type, recipients]).first!.int("id")!
                try connection.execute("""
                    INSERT INTO notifications (recipient_id, notification_type, category, title, message, data, event_id, created_at)
                    VALUES ($1, $2, $3, 't', 'm', $4::jsonb, $5, $6::timestamptz)
                    """, [String(recipient), type, category, data, String(event), created])
            }
            try note(child, "ABSENCE_ALERT", "attendance", "2026-12-02T08:00:00Z")
            try note(child, "LATE_ALERT", "attendance", "2026-12-03T08:00:00Z")
            try note(parent, "attendance_alert", "attendance", "2026-12-01T08:00:00Z", data: #"{"status": "absent"}"#,
                     guardiansOf: child)
            try note(child, "ABSENCE_ALERT", "attendance", "2026-11-20T08:00:00Z")  // the week before
            try note(child, "homework_assigned", "homework", "2026-12-02T09:00:00Z")  // not attendance
            let parser = EventParser(catalogue: try EventCatalogue.bundled())
            #expect(try AttendanceSummary.due(now: at("2026-12-04T16:59:00Z"), parser: parser, on: connection).isEmpty)
            #expect(try AttendanceSummary.due(now: at("2026-12-05T17:01:00Z"), parser: parser, on: connection).isEmpty,
                    "more than a day late: that week is not sent")
            let due = try AttendanceSummary.due(now: at("2026-12-04T18:00:00Z"), parser: parser, on: connection)
            #expect(due.count == 1)
            #expect(due.first?.recipients.users == [Int64(parent)])
            #expect(due.first?.message.en == "2026-11-27 to 2026-12-04: 2 absence(s), 1 late arrival(s), 3 attendance notification(s) in all.")
            #expect(due.first?.title.en == "Weekly attendance: yasmine Alaoui")
            _ = try EventStore.store(due, on: connection)
            #expect(try AttendanceSummary.due(now: at("2026-12-04T18:30:00Z"), parser: parser, on: connection).isEmpty,
                    "sent once")
        }
    }
}
