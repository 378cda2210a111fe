import Foundation
import Testing
@testable import RESTBridge

/// Reminder rules on an injected clock: each answer is the next occurrence after a given instant.
@Suite struct ReminderRuleTests {
    private func utc(_ text: String) -> Date { ScheduleRequest.parseTimestamp(text)! }
    private func zone(_ name: String) -> TimeZone { TimeZone(identifier: name)! }
    private func rule(_ json: String) -> ReminderRule? {
        var errors = FieldErrors()
        return ReminderRule.parse(try! JSONSerialization.jsonObject(with: Data(json.utf8)), &errors)
    }
    private func errors(_ json: String) -> [String] {
        var errors = FieldErrors()
        _ = ReminderRule.parse(try! JSONSerialization.jsonObject(with: Data(json.utf8)), &errors)
        return errors.fields.map(\.0)
    }

    @Test func dailyFollowsTheLocalClockAcrossDaylightSavingInParis() throws {
        let daily = try #require(rule(#"{"daily": "20:00"}"#))
        let paris = zone("Europe/Paris")
        // 2026-03-29: Paris moves from UTC+1 to UTC+2.
        #expect(daily.next(after: utc("2026-03-28T12:00:00Z"), in: paris)?.at == utc("2026-03-28T19:00:00Z"))
        #expect(daily.next(after: utc("2026-03-28T19:00:00Z"), in: paris)?.at == utc("2026-03-29T18:00:00Z"))
        // 02:30 does not exist on 2026-03-29 in Paris: it goes when the clocks do, at 03:30 local.
        let early = try #require(rule(#"{"daily": "02:30"}"#))
        #expect(early.next(after: utc("2026-03-29T00:00:00Z"), in: paris)?.at == utc("2026-03-29T01:30:00Z"))
        // Back to UTC+1 on 2026-10-25.
        #expect(daily.next(after: utc("2026-10-24T19:00:00Z"), in: paris)?.at == utc("2026-10-25T19:00:00Z"))
    }

    @Test func cairoHasDaylightSavingAgain() throws {
        let daily = try #require(rule(#"{"daily": "17:00"}"#))
        let cairo = zone("Africa/Cairo")
        #expect(daily.next(after: utc("2026-01-10T00:00:00Z"), in: cairo)?.at == utc("2026-01-10T15:00:00Z"))  // UTC+2
        #expect(daily.next(after: utc("2026-07-10T00:00:00Z"), in: cairo)?.at == utc("2026-07-10T14:00:00Z"))  // UTC+3
    }

    @Test func weeklyCrossesTheYearEndInEachZone() throws {
        let weekly = try #require(rule(#"{"weekly": {"days": ["monday", "Wednesday"], "at": "17:00"}}"#))
        // 2026-12-31 is a Thursday: the next Monday is 2027-01-04.
        let after = utc("2026-12-31T12:00:00Z")
        #expect(weekly.next(after: after, in: zone("UTC"))?.at == utc("2027-01-04T17:00:00Z"))
        #expect(weekly.next(after: after, in: zone("Asia/Tashkent"))?.at == utc("2027-01-04T12:00:00Z"))
        #expect(weekly.next(after: after, in: zone("America/New_York"))?.date.description == "2027-01-04")
        // Wednesday 2026-12-30 at 17:00 in Tashkent (12:00Z) is already past at 12:00Z.
        #expect(weekly.next(after: utc("2026-12-30T11:59:59Z"), in: zone("Asia/Tashkent"))?.at == utc("2026-12-30T12:00:00Z"))
    }

    @Test func aSkippedDateIsPassedOver() throws {
        let daily = try #require(rule(#"{"daily": "08:00"}"#))
        let skipped: Set = [LocalDate(parsing: "2026-05-02")!]
        #expect(daily.next(after: utc("2026-05-01T09:00:00Z"), in: zone("UTC"), skipped: skipped)?.at
            == utc("2026-05-03T08:00:00Z"))
    }

    @Test func halakaRemindsBeforeEachSessionWithinItsDates() throws {
        let halaka = try #require(rule("""
            {"frequency": "weekly", "days": ["sunday", "tuesday"], "startTime": "18:00", "duration": 90,
             "startDate": "2025-08-01T00:00:00.000Z", "endDate": "2025-12-01T00:00:00.000Z", "timezone": "Africa/Cairo",
             "before_minutes": 30}
            """))
        #expect(halaka.timezone == "Africa/Cairo")
        let cairo = zone("Africa/Cairo")
        // 2025-08-01 is a Friday: the first session is Sunday 2025-08-03, 18:00 Cairo (UTC+3 in August 2025).
        let first = halaka.next(after: utc("2025-07-01T00:00:00Z"), in: cairo)
        #expect(first?.date.description == "2025-08-03" && first?.at == utc("2025-08-03T14:30:00Z"))
        #expect(first?.time.description == "18:00")
        // The last session is Sunday 2025-11-30 (UTC+2 after 2025-10-30): nothing after it.
        let last = halaka.next(after: utc("2025-11-27T00:00:00Z"), in: cairo)
        #expect(last?.date.description == "2025-11-30" && last?.at == utc("2025-11-30T15:30:00Z"))
        #expect(halaka.next(after: utc("2025-11-30T16:00:00Z"), in: cairo) == nil)
    }

    @Test func aCancelledSessionExtendsTheScheduleAndStillFiresAsANotice() throws {
        let halaka = try #require(rule("""
            {"frequency": "weekly", "days": ["friday"], "startTime": "19:00", "duration": 60,
             "startDate": "2025-08-01", "endDate": "2025-12-01", "timezone": "UTC"}
            """))
        let cancelled: Set = [LocalDate(parsing: "2025-08-15T00:00:00.000Z")!]
        // Halaka's document: cancelling 2025-08-15 moves the end from 2025-12-01 to 2025-12-05.
        #expect(halaka.extendedEnd(skipped: cancelled)?.description == "2025-12-05")
        #expect(halaka.extendedEnd(skipped: [])?.description == "2025-12-01")
        // A date that is not a session day extends nothing.
        #expect(halaka.extendedEnd(skipped: [LocalDate(parsing: "2025-08-16")!])?.description == "2025-12-01")
        #expect(halaka.next(after: utc("2025-08-14T00:00:00Z"), in: zone("UTC"), skipped: cancelled)?.date.description
            == "2025-08-15")
        #expect(halaka.next(after: utc("2025-12-01T00:00:00Z"), in: zone("UTC"), skipped: cancelled)?.date.description
            == "2025-12-05")
        #expect(halaka.next(after: utc("2025-12-01T00:00:00Z"), in: zone("UTC")) == nil)
    }

    @Test func badRulesNameTheirField() {
        #expect(errors(#"{"hourly": 3}"#) == ["rule"])
        #expect(errors(#"{"daily": "25:00"}"#) == ["rule.daily"])
        #expect(errors(#"{"daily": "8:00"}"#) == ["rule.daily"])
        #expect(errors(#"{"weekly": {"days": ["funday"], "at": "17:00"}}"#) == ["rule.weekly.days"])
        #expect(errors(#"{"daily": "20:00", "timezone": "Mars/Olympus"}"#) == ["rule.timezone"])
        #expect(errors(#"{"frequency": "weekly", "days": ["monday"], "startTime": "5pm", "duration": 60, "startDate": "2025-08-01", "endDate": "2025-09-01"}"#)
            == ["rule.startTime"])
        #expect(errors(#"{"frequency": "weekly", "days": ["monday"], "startTime": "17:00", "duration": 60, "startDate": "2025-08-01", "endDate": "2025-07-01"}"#)
            == ["rule.endDate"])
        #expect(errors(#"{"frequency": "monthly", "startTime": "17:00", "duration": 0, "startDate": "x", "endDate": "2025-07-01"}"#)
            == ["rule.frequency", "rule.duration", "rule.startDate"])
    }

    @Test func localDatesRoundTripAndKnowTheirWeekday() {
        for text in ["1970-01-01", "2000-02-29", "2024-12-31", "2026-03-29", "2100-03-01"] {
            #expect(LocalDate(parsing: text)?.description == text)
        }
        #expect(LocalDate(parsing: "2026-12-03")?.weekday == 4)  // a Thursday
        #expect(LocalDate(parsing: "2025-02-29") == nil)
        #expect(LocalDate(parsing: "2025-1-01") == nil)
    }
}
