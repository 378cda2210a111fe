import Channels
import Foundation
import Glibc
import Hub

/// A notification as stored, serialised the way the REST API shows it and as it is pushed.
/// Read from a row (lists, history) or made by the pipeline from the event it just stored (no
/// read-back): both write the same JSON.
public struct StoredNotification: Sendable {
    public let id: Int64
    /// nil for an announcement (shown to everyone).
    public let recipientID: Int64?
    public let type: String
    public var category: String
    public var priority: String
    public var title: String
    public var titles: Localized
    public var message: String
    public var messages: Localized
    /// The data object's JSON text.
    public var data: String
    public var relatedObjectType: String?
    public var relatedObjectID: String?
    public var status = "SENT"
    public var deliveryMethod = "IN_APP"
    public var isRead = false
    public var readAt: String?
    public var requiresAction = false
    public var actionTaken = false
    public var createdAt: String
    public var eventID: Int64?
    public var seenAt: String?
    public var archivedAt: String?
    public var snoozedUntil: String?
    public var expiresAt: String?

    /// A notification the pipeline has just stored for `recipient`, in `language`.
    init(id: Int64, recipientID: Int64?, event: EventRequest, eventID: Int64, language: Language, deliveryMethod: String,
         createdAt: String)
    {
        self.id = id
        self.recipientID = recipientID
        type = event.type
        category = event.category
        priority = event.priority.rawValue
        title = event.title[language]
        titles = event.title
        message = event.message[language]
        messages = event.message
        data = event.data
        relatedObjectType = event.relatedObjectType
        relatedObjectID = event.relatedObjectID
        requiresAction = event.requiresAction
        self.deliveryMethod = deliveryMethod
        self.createdAt = createdAt
        self.eventID = eventID
        expiresAt = event.expiresAt
    }

    /// A row selected with `NotificationStore.columns`.
    init(row: QueryResult.Row) {
        id = Int64(row.int("id") ?? 0)
        recipientID = row.int("recipient_id").map(Int64.init)
        type = row.string("notification_type") ?? "notification"
        category = row.string("category") ?? ""
        priority = row.string("priority") ?? ""
        title = row.string("title") ?? ""
        titles = Localized(en: title, ar: row.string("title_arabic") ?? "", fr: row.string("title_french") ?? "")
        message = row.string("message") ?? ""
        messages = Localized(en: message, ar: row.string("message_arabic") ?? "", fr: row.string("message_french") ?? "")
        data = row.string("data") ?? "{}"
        relatedObjectType = row.string("related_object_type")
        relatedObjectID = row.string("related_object_id")
        status = row.string("status") ?? ""
        deliveryMethod = row.string("delivery_method") ?? "IN_APP"
        isRead = row.bool("is_read") ?? false
        readAt = row.string("read_at")
        requiresAction = row.bool("requires_action") ?? false
        actionTaken = row.bool("action_taken") ?? false
        createdAt = row.string("created_at") ?? ""
        eventID = row.int("event_id").map(Int64.init)
        seenAt = row.string("seen_at")
        archivedAt = row.string("archived_at")
        snoozedUntil = row.string("snoozed_until")
        expiresAt = row.string("expires_at")
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        writeMembers(to: &json)
        json.endObject()
    }

    /// The members of the REST object, without its braces.
    /// `holes`: the id and the recipient are left as holes, for `pushTemplate`.
    func writeMembers(to json: inout JSONWriter, holes: Bool = false) {
        json.key("id"); if holes { json.hole() } else { json.int(id) }
        json.key("recipient")
        if holes { json.hole() } else if let recipientID { json.int(recipientID) } else { json.null() }
        json.field("notification_type", type)
        json.field("notification_display", Self.display(type))
        json.field("category", category)
        json.field("priority", priority)
        json.field("title", title)
        json.field("title_arabic", titles.ar)
        json.field("title_french", titles.fr)
        json.field("message", message)
        json.field("message_arabic", messages.ar)
        json.field("message_french", messages.fr)
        json.field("status", status)
        json.key("delivery_method")
        json.beginArray()
        for method in deliveryMethod.split(separator: ",") { json.string(String(method)) }
        json.endArray()
        json.key("reference_type"); optional(relatedObjectType, &json)
        json.key("reference_id"); optional(relatedObjectID, &json)
        json.key("event_id"); if let eventID { json.int(eventID) } else { json.null() }
        json.field("is_announcement", recipientID == nil)
        json.key("data"); json.raw(Array(data.utf8))
        json.key("related_object_type"); optional(relatedObjectType, &json)
        json.key("related_object_id"); optional(relatedObjectID, &json)
        json.key("read_at"); optional(readAt, &json)
        json.field("is_read", isRead)
        json.field("requires_action", requiresAction)
        json.field("action_taken", actionTaken)
        json.field("created_at", createdAt)
        json.field("sent_at", createdAt)
        writeSeedFields(to: &json)
        json.field("is_seen", isRead || seenAt != nil)
        json.key("seen_at"); optional(seenAt, &json)
        json.field("is_archived", archivedAt != nil)
        json.key("archived_at"); optional(archivedAt, &json)
        json.key("snoozed_until"); optional(snoozedUntil, &json)
        json.key("expires_at"); optional(expiresAt, &json)
    }

    /// What the seeds' lists show from the event's data: Madrasti's `student`, `student_name` and
    /// `auto_generated`; for khatma types, Khatma's `related_khatma` and `related_khatma_name`
    /// (from themselves, or `khatma_id` and `khatma_name`). The data is parsed only when it can
    /// hold one of them.
    private func writeSeedFields(to json: inout JSONWriter) {
        let khatma = category == "khatma"
        var object: [String: Any] = [:]
        if khatma || Self.mentions(data, "student") || Self.mentions(data, "auto_generated") {
            object = ((try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any]) ?? [:]
        }
        json.key("student")
        if let id = JSONNumber.integer(object["student_id"] ?? object["student"], acceptingStrings: true) { json.int(id) } else { json.null() }
        json.key("student_name"); optional(object["student_name"] as? String, &json)
        json.field("auto_generated", JSONNumber.bool(object["auto_generated"] ?? true) ?? true)
        guard khatma else { return }
        json.key("related_khatma")
        if let id = JSONNumber.integer(object["related_khatma"] ?? object["khatma_id"], acceptingStrings: true) {
            json.int(id)
        } else {
            json.null()
        }
        json.key("related_khatma_name")
        optional((object["related_khatma_name"] ?? object["khatma_name"]) as? String, &json)
    }

    /// Does `text` contain `word`? A scan of the UTF-8 bytes (memchr for the first byte, memcmp
    /// for the rest): Foundation's `contains` bridged to NSString, and the generic
    /// `firstRange(of:)` took 28% of hubd pushing 10,000 notifications a second.
    static func mentions(_ text: String, _ word: StaticString) -> Bool {
        var text = text
        let needle = word.utf8Start, length = word.utf8CodeUnitCount
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, length > 0, bytes.count >= length else { return false }
            var offset = 0
            let last = bytes.count - length
            while offset <= last {
                guard let found = memchr(base + offset, Int32(needle.pointee), last - offset + 1) else { return false }
                let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + at, needle, length) == 0 { return true }
                offset = at + 1
            }
            return false
        }
    }

    private func optional(_ value: String?, _ json: inout JSONWriter) {
        if let value { json.string(value) } else { json.null() }
    }

    /// The notification with `title` and `message` in `language` (a REST caller's
    /// `Accept-Language`, ahead of the profile's). Arabic and French are stored beside the text;
    /// English only as the text of a recipient who reads English, so it is kept otherwise.
    public func localized(_ language: Language?) -> StoredNotification {
        guard let language, language != .en else { return self }
        var copy = self
        if !titles[language].isEmpty { copy.title = titles[language] }
        if !messages[language].isEmpty { copy.message = messages[language] }
        return copy
    }

    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 768)
        write(to: &writer)
        return writer.bytes
    }

    /// The WebSocket push, in the channel's envelope: the type, the id (resume cursor), and in
    /// `data` the event's own payload as the backend posted it (Madrasti's front end reads
    /// `data.student_name`, `data.status`), with the stored notification, as REST shows it, under
    /// `data.notification` (written last: a payload member of that name gives way to it).
    /// `notification_unsnoozed` (a snooze that ended) carries the counts after it too.
    public func push(now: Int64 = WallClock.nowMillis(), as messageType: String? = nil, counts: InboxCounts? = nil)
        -> [UInt8]
    {
        Self.push(pushTemplate(now: now, as: messageType, counts: counts), id: id, recipientID: recipientID)
    }

    /// The push with its id (twice) and recipient left as holes: one event's notifications to
    /// the recipients who read the same language through the same channels differ by no more,
    /// so the pipeline writes it once for all of them (`push(_:id:recipientID:)`).
    func pushTemplate(now: Int64, as messageType: String? = nil, counts: InboxCounts? = nil) -> JSONTemplate {
        Envelope.template(messageType ?? type, now: now) { json in
            let members = Self.members(ofObject: data)
            if !members.isEmpty { json.raw(members) }
            json.key("notification")
            json.beginObject()
            writeMembers(to: &json, holes: true)
            json.endObject()
            counts?.write(to: &json)
        }
    }

    /// A push made from `pushTemplate`.
    static func push(_ template: JSONTemplate, id: Int64, recipientID: Int64?) -> [UInt8] {
        template.filled { hole in hole == 2 ? recipientID : id }
    }

    /// `attendance_marked` shown as "Attendance Marked". Types are identifiers (letters, digits,
    /// `_`); anything else goes through Foundation's `capitalized`, which this matches for them
    /// (and is ten times slower: it showed in the profile of a room's pushes).
    static func display(_ type: String) -> String {
        let identifier = type.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"))
        }
        guard identifier else {
            return type.split(separator: "_").map { $0.capitalized }.joined(separator: " ")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(type.utf8.count)
        var wordStart = true
        for byte in type.utf8 {
            if byte == UInt8(ascii: "_") {
                if !wordStart { bytes.append(UInt8(ascii: " ")) }
                wordStart = true
                continue
            }
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            bytes.append(isLetter ? (wordStart ? byte & ~0x20 : byte | 0x20) : byte)
            wordStart = false
        }
        if bytes.last == UInt8(ascii: " ") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The text between an object's braces (the stored data is always an object).
    static func members(ofObject text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")), let close = bytes.lastIndex(of: UInt8(ascii: "}")),
              open < close
        else { return [] }
        let inner = bytes[(open + 1)..<close]
        return inner.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) ? [] : Array(inner)
    }
}
