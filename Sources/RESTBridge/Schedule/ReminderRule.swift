import Foundation
import Hub

/// When a recurring reminder fires: `{"daily": "20:00"}`, `{"weekly": {"days": [...], "at": "17:00"}}`,
/// or Halaka's own schedule object with `before_minutes`. Times are wall-clock times in a zone:
/// the rule's `timezone` when it names one, else each recipient's own. Pure: every answer is a
/// function of the instant passed in (tests give any clock).
public struct ReminderRule: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case daily(LocalTime)
        case weekly(days: Set<Int>, at: LocalTime)
        /// Sessions on `days` at `start` from `startDate` to `endDate` (each skipped session moves
        /// the end to the next session day), reminded `beforeMinutes` ahead.
        case halaka(days: Set<Int>, start: LocalTime, durationMinutes: Int, startDate: LocalDate, endDate: LocalDate,
                    beforeMinutes: Int)
    }

    public var kind: Kind
    /// The rule's own zone; nil: each recipient's.
    public var timezone: String?

    /// One firing: when, and the session (or day) it is for.
    public struct Occurrence: Sendable, Equatable {
        public let at: Date
        public let date: LocalDate
        public let time: LocalTime
    }

    public var isHalaka: Bool { if case .halaka = kind { true } else { false } }

    /// The first occurrence strictly after `instant` in `zone`. Daily and weekly rules pass over
    /// skipped dates; a Halaka schedule keeps them (they fire as cancellation notices) and runs
    /// one session longer for each.
    public func next(after instant: Date, in zone: TimeZone, skipped: Set<LocalDate> = []) -> Occurrence? {
        let today = WallTime.date(of: instant, in: zone)
        // Far enough for a weekly rule around a year end, and for a reminder days before its session.
        for offset in -2...400 {
            let date = today.adding(days: offset)
            guard let (time, lead) = session(on: date, skipped: skipped) else { continue }
            let at = WallTime.instant(date, time, in: zone).addingTimeInterval(-Double(lead) * 60)
            if at > instant { return Occurrence(at: at, date: date, time: time) }
        }
        return nil
    }

    /// The time of the day's session or reminder and how many minutes ahead it fires, if any.
    private func session(on date: LocalDate, skipped: Set<LocalDate>) -> (LocalTime, Int)? {
        switch kind {
        case .daily(let time):
            return skipped.contains(date) ? nil : (time, 0)
        case .weekly(let days, let time):
            return days.contains(date.weekday) && !skipped.contains(date) ? (time, 0) : nil
        case .halaka(let days, let start, _, let startDate, let endDate, let before):
            guard days.contains(date.weekday), date >= startDate,
                  date <= Self.extendedEnd(days: days, startDate: startDate, endDate: endDate, skipped: skipped)
            else { return nil }
            return (start, before)
        }
    }

    /// The end date after cancellations: each skipped session inside the schedule adds the next
    /// session day after the current end (Halaka's "cancelled sessions extend the schedule").
    public static func extendedEnd(days: Set<Int>, startDate: LocalDate, endDate: LocalDate, skipped: Set<LocalDate>)
        -> LocalDate
    {
        guard !days.isEmpty else { return endDate }
        var end = endDate
        for date in skipped.sorted() where date >= startDate && date <= end && days.contains(date.weekday) {
            var next = end.adding(days: 1)
            while !days.contains(next.weekday) { next = next.adding(days: 1) }
            end = next
        }
        return end
    }

    /// The Halaka schedule's end after `skipped`; nil for other rules.
    public func extendedEnd(skipped: Set<LocalDate>) -> LocalDate? {
        guard case .halaka(let days, _, _, let startDate, let endDate, _) = kind else { return nil }
        return Self.extendedEnd(days: days, startDate: startDate, endDate: endDate, skipped: skipped)
    }
}

extension ReminderRule {
    /// The rule in `value`, or nil with each problem added to `errors` under `rule.…`.
    static func parse(_ value: Any?, _ errors: inout FieldErrors) -> ReminderRule? {
        let before = errors.fields.count
        guard let object = value as? [String: Any] else {
            errors.add("rule", "Give {\"daily\": \"20:00\"}, {\"weekly\": {\"days\": [...], \"at\": \"17:00\"}} or a Halaka schedule.")
            return nil
        }
        var timezone: String?
        if let zone = object["timezone"] {
            if let name = zone as? String, TimeZone(identifier: name) != nil, name.contains("/") || name == "UTC" {
                timezone = name
            } else {
                errors.add("rule.timezone", "An IANA time zone such as Africa/Cairo.")
            }
        }
        var kind: Kind?
        if let daily = object["daily"] {
            kind = time(daily, "rule.daily", &errors).map(Kind.daily)
        } else if let weekly = object["weekly"] {
            let fields = weekly as? [String: Any] ?? [:]
            let days = weekdays(fields["days"], "rule.weekly.days", &errors)
            let at = time(fields["at"], "rule.weekly.at", &errors)
            if let days, let at { kind = .weekly(days: days, at: at) }
        } else if object["frequency"] != nil || object["startTime"] != nil {
            kind = halaka(object, &errors)
        } else {
            errors.add("rule", "Unknown rule: use daily, weekly, or a Halaka schedule {frequency, days, startTime, ...}.")
        }
        guard errors.fields.count == before, let kind else { return nil }
        return ReminderRule(kind: kind, timezone: timezone)
    }

    private static func halaka(_ object: [String: Any], _ errors: inout FieldErrors) -> Kind? {
        var days: Set<Int>?
        switch object["frequency"] as? String {
        case "weekly": days = weekdays(object["days"], "rule.days", &errors)
        case "daily": days = Set(0...6)
        default: errors.add("rule.frequency", "Must be weekly or daily.")
        }
        let start = time(object["startTime"], "rule.startTime", &errors)
        var duration = 0
        if let minutes = JSONNumber.integer(object["duration"]), (1...1440).contains(minutes) {
            duration = Int(minutes)
        } else {
            errors.add("rule.duration", "Minutes: a positive integer up to 1440.")
        }
        let startDate = date(object["startDate"], "rule.startDate", &errors)
        let endDate = date(object["endDate"], "rule.endDate", &errors)
        if let startDate, let endDate, endDate < startDate {
            errors.add("rule.endDate", "Must not be before startDate.")
        }
        var beforeMinutes = 0
        if let value = object["before_minutes"] {
            if let minutes = JSONNumber.integer(value), (0...10_080).contains(minutes) {
                beforeMinutes = Int(minutes)
            } else {
                errors.add("rule.before_minutes", "Minutes before each session: 0 to 10080.")
            }
        }
        guard let days, let start, let startDate, let endDate, endDate >= startDate else { return nil }
        return .halaka(days: days, start: start, durationMinutes: duration, startDate: startDate, endDate: endDate,
                       beforeMinutes: beforeMinutes)
    }

    private static func time(_ value: Any?, _ field: String, _ errors: inout FieldErrors) -> LocalTime? {
        guard let text = value as? String, let time = LocalTime(parsing: text) else {
            errors.add(field, "A time as HH:MM (24-hour).")
            return nil
        }
        return time
    }

    private static func date(_ value: Any?, _ field: String, _ errors: inout FieldErrors) -> LocalDate? {
        guard let text = value as? String, let date = LocalDate(parsing: text) else {
            errors.add(field, "An ISO 8601 date (2025-08-01 or 2025-08-01T00:00:00.000Z).")
            return nil
        }
        return date
    }

    private static func weekdays(_ value: Any?, _ field: String, _ errors: inout FieldErrors) -> Set<Int>? {
        let names = value as? [String] ?? []
        let days = names.compactMap { LocalDate.weekdayNames.firstIndex(of: $0.lowercased()) }
        guard !names.isEmpty, days.count == names.count else {
            errors.add(field, "At least one of: \(LocalDate.weekdayNames.joined(separator: ", ")).")
            return nil
        }
        return Set(days)
    }
}
