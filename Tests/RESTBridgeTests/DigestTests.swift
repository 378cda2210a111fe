import Foundation
import Testing
@testable import RESTBridge

/// Digest windows (`hub_digest_until`, on an injected instant) and the one message a digest sends.
@Suite struct DigestTests {
    private func until(_ kind: String, _ zone: String, at: String, time: String = "18:00", day: String = "sunday",
                       windowSeconds: Int = 0, on connection: PostgresConnection) throws -> String {
        try connection.execute("""
            SELECT to_char(hub_digest_until($1, $2, $3::time, $4, $5::timestamptz, $6::integer) AT TIME ZONE 'UTC',
                           'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS t
            """, [kind, zone, time, day, at, String(windowSeconds)]).first?.string("t") ?? ""
    }

    @Test func windowsEndAtTheNextHourDayOrWeekOnTheUsersClock() throws {
        try withSchema { connection throws in
            #expect(try until("hourly", "UTC", at: "2026-12-31T23:20:00Z", on: connection) == "2027-01-01T00:00:00Z")
            // Tashkent is UTC+5: 18:00 there is 13:00Z.
            #expect(try until("daily", "Asia/Tashkent", at: "2026-12-03T12:59:00Z", on: connection) == "2026-12-03T13:00:00Z")
            #expect(try until("daily", "Asia/Tashkent", at: "2026-12-03T13:00:00Z", on: connection) == "2026-12-04T13:00:00Z")
            // 2026-12-03 is a Thursday; the next Sunday 18:00 in Paris (UTC+1) is 2026-12-06T17:00Z.
            #expect(try until("weekly", "Europe/Paris", at: "2026-12-03T10:00:00Z", on: connection) == "2026-12-06T17:00:00Z")
            #expect(try until("weekly", "Europe/Paris", at: "2026-12-31T10:00:00Z", day: "friday", on: connection)
                == "2027-01-01T17:00:00Z")
            // Across DST in Paris (2026-03-29): the daily window still ends at 18:00 local, now UTC+2.
            #expect(try until("daily", "Europe/Paris", at: "2026-03-28T18:00:00Z", on: connection) == "2026-03-29T16:00:00Z")
            // An hour in Kolkata (UTC+05:30) ends on its own clock's hour.
            #expect(try until("hourly", "Asia/Kolkata", at: "2026-12-03T10:10:00Z", on: connection) == "2026-12-03T10:30:00Z")
            #expect(try until("hourly", "UTC", at: "2026-12-03T10:00:07Z", windowSeconds: 5, on: connection)
                == "2026-12-03T10:00:10Z")
        }
    }

    @Test func oneMessageCountsByCategoryAndListsTheNewestTitles() {
        let items = (1...12).map { DigestMessage.Item(title: "Title \(13 - $0)", category: $0 % 3 == 0 ? "grades" : "homework") }
        let message = DigestMessage(items: items, language: "en")
        #expect(message.subject == "Your digest: 12 notifications")
        let lines = message.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "12 notifications since your last digest, by category:")
        #expect(lines[2...3] == ["- homework: 8", "- grades: 4"])
        #expect(lines.filter { $0.hasPrefix("• ") }.count == DigestMessage.maxTitles)
        #expect(lines.contains("• Title 12") && !lines.contains("• Title 2"))
        #expect(lines.last == "… and 2 more")
        let arabic = DigestMessage(items: [DigestMessage.Item(title: "واجب جديد", category: "homework")], language: "ar")
        #expect(arabic.subject == "ملخّصك: 1 إشعارات" && arabic.text.contains("• واجب جديد"))
        #expect(DigestMessage(items: items, language: "xx").subject == message.subject, "unknown languages get English")
    }
}
