import Foundation
import Hub

/// The two numbers every inbox message carries: unread, and unseen (not read and the bell not
/// opened since it arrived). Archived, snoozed and expired notifications count in neither.
/// Stored as two 32-bit numbers: every session's `ChannelUser` holds one (see SessionLimitsTests).
public struct InboxCounts: Sendable, Equatable {
    private var storedUnread: Int32
    private var storedUnseen: Int32

    public var unread: Int {
        get { Int(storedUnread) }
        set { storedUnread = Int32(clamping: newValue) }
    }
    public var unseen: Int {
        get { Int(storedUnseen) }
        set { storedUnseen = Int32(clamping: newValue) }
    }

    public init(unread: Int, unseen: Int) {
        storedUnread = Int32(clamping: unread)
        storedUnseen = Int32(clamping: unseen)
    }

    public static let zero = InboxCounts(unread: 0, unseen: 0)

    /// `"unread_count": …, "unseen_count": …` inside an object being written.
    public func write(to json: inout JSONWriter) {
        json.field("unread_count", unread)
        json.field("unseen_count", unseen)
    }
}

/// A change of inbox state asked by a client (socket or REST), beside read.
public enum InboxChange: Sendable, Equatable {
    /// The bell was opened: these ids, or every one up to `upTo`.
    case seen(ids: [Int64], upTo: Int64?)
    case archive([Int64])
    case unarchive([Int64])
    /// Hidden from lists and counts until `until` (ISO 8601), then announced again.
    case snooze([Int64], until: String)
    /// Deleted for the recipient.
    case delete([Int64])

    /// The `state` of the `notification_updated` message.
    public var state: String {
        switch self {
        case .seen: "seen"
        case .archive: "archived"
        case .unarchive: "unarchived"
        case .snooze: "snoozed"
        case .delete: "deleted"
        }
    }
}

/// What a change did: the ids whose state changed and the counts after it.
public struct InboxOutcome: Sendable, Equatable {
    public var ids: [Int64]
    public var counts: InboxCounts

    public init(ids: [Int64], counts: InboxCounts) {
        self.ids = ids
        self.counts = counts
    }
}

/// Times given by clients (`until`, `expires_at`, list filters).
public enum InboxTime {
    /// `2026-11-22`, `2026-11-22T10:30:00Z`, with optional fraction and offset.
    public static func isTimestamp(_ text: String) -> Bool {
        let pattern = #"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"#
        guard text.range(of: pattern, options: .regularExpression) != nil else { return false }
        let parts = text.prefix(10).split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]), parts[0] >= 1 else { return false }
        if text.count > 19, let sign = text.dropFirst(19).firstIndex(where: { $0 == "+" || $0 == "-" }) {
            let digits = text[text.index(after: sign)...].filter(\.isNumber)
            guard let hours = Int(digits.prefix(2)), let minutes = Int(digits.dropFirst(2).prefix(2)), hours <= 14, minutes < 60
            else { return false }
        }
        return true
    }

    /// Unix milliseconds of a time `isTimestamp` accepts (no offset: UTC); nil if unreadable.
    public static func millis(_ text: String) -> Int64? {
        var normalized = text.replacingOccurrences(of: " ", with: "T")
        if normalized.count == 10 { normalized += "T00:00:00" }
        if normalized.count == 16 { normalized += ":00" }
        if !(normalized.hasSuffix("Z") || normalized.dropFirst(19).contains(where: { $0 == "+" || $0 == "-" })) {
            normalized += "Z"
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = normalized.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.date(from: normalized).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }
}
