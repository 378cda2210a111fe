import Foundation

/// When and under what conditions a posted event is to run through the pipeline later:
/// `send_at`, `cancellation_key` and `cancel_if_read` of `POST /api/v1/events/`.
public struct ScheduleRequest: Sendable, Equatable {
    /// When the event runs (never before now: a time in the past means now).
    public var sendAt: Date
    /// Cancels it (and every other pending event with the same key) through `POST /api/v1/events/cancel/`.
    public var cancellationKey: String?
    /// The event does not run if this notification was read by then.
    public var cancelIfRead: Int64?

    /// How far ahead an event may be scheduled.
    public static let maxAhead: TimeInterval = 90 * 24 * 3600

    /// The schedule in `body`, nil when it has no `send_at`; problems go to `errors` by field.
    static func parse(_ body: JSONBody, now: Date, _ errors: inout FieldErrors) -> ScheduleRequest? {
        let prefix = body.fieldPrefix
        let key = body.string("cancellation_key", &errors, maxLength: 255)
        let cancelIfRead = body.integer("cancel_if_read", &errors)
        guard body.has("send_at") else {
            if key != nil { errors.add(prefix + "cancellation_key", "Only a scheduled event (with send_at) can be cancelled.") }
            if cancelIfRead != nil { errors.add(prefix + "cancel_if_read", "Only a scheduled event (with send_at) can be cancelled.") }
            return nil
        }
        guard let text = body.string("send_at", &errors, maxLength: 64) else { return nil }
        guard let date = parseTimestamp(text) else {
            errors.add(prefix + "send_at", "An ISO 8601 time with its offset, such as 2026-12-01T17:00:00Z.")
            return nil
        }
        guard date.timeIntervalSince(now) <= maxAhead else {
            errors.add(prefix + "send_at", "At most 90 days ahead.")
            return nil
        }
        if let cancelIfRead, cancelIfRead < 1 { errors.add(prefix + "cancel_if_read", "A notification id.") }
        return ScheduleRequest(sendAt: max(date, now), cancellationKey: key, cancelIfRead: cancelIfRead)
    }

    /// `2026-12-01T17:00:00Z`, with a fraction of a second or an offset (`+01:00`) too.
    static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
