import Foundation
import Hub
import NotifyDrivers

/// An `EventRequest` kept in PostgreSQL until its time: written as the object the event statement
/// reads (`EventStore.element`), read back here when it is due.
extension EventRequest {
    /// The event as one JSON object (its element of the event statement's input).
    var storedJSON: String { String(decoding: EventStore.element(self), as: UTF8.self) }

    /// The event from `storedJSON` as PostgreSQL gives it back; `data` is its `data` member's text.
    init?(stored json: String, data: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              let type = object["event_type"] as? String, let category = object["category"] as? String,
              let priority = (object["priority"] as? String).flatMap(Priority.init(parsing:))
        else { return nil }
        func text(_ name: String) -> String { object[name] as? String ?? "" }
        func ints(_ name: String) -> [Int64] { JSONNumber.integers(object[name] ?? []) ?? [] }
        self.init(type: type, category: category, priority: priority,
                  title: Localized(en: text("title"), ar: text("title_arabic"), fr: text("title_french")),
                  message: Localized(en: text("message"), ar: text("message_arabic"), fr: text("message_french")),
                  data: data,
                  recipients: Recipients(users: ints("users"), rooms: object["rooms"] as? [String] ?? [],
                                         roles: (object["roles"] as? [String] ?? []).compactMap(Role.init(rawValue:)),
                                         guardiansOf: ints("guardians_of"),
                                         everyone: JSONNumber.bool(object["everyone"]) ?? false),
                  idempotencyKey: object["idempotency_key"] as? String)
        relatedObjectType = object["related_object_type"] as? String
        relatedObjectID = object["related_object_id"] as? String
        requiresAction = JSONNumber.bool(object["requires_action"]) ?? false
        var errors = FieldErrors()
        escalation = (object["escalation"]).flatMap { EscalationStep.parse($0, field: "escalation", &errors) } ?? []
        expiresAt = object["expires_at"] as? String
        includeNewUsers = JSONNumber.bool(object["include_new_users"]) ?? false
    }
}
