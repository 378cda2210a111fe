import Foundation
import Channels
import Hub

/// Reads events from request bodies (`POST /api/v1/events/` and each element of
/// `POST /api/v1/events/bulk/`), with every problem named by field: `recipients.users`, or
/// `events[3].type` inside a bulk request.
public struct EventParser: Sendable {
    public let catalogue: EventCatalogue

    public init(catalogue: EventCatalogue) { self.catalogue = catalogue }

    /// Most events in one request to `events/bulk/`.
    public static let maxEventsPerRequest = 1000

    /// Largest lists accepted in one event.
    static let maxUserIDs = 100_000
    static let maxRooms = 1000

    /// The event in `body`, or nil with the reasons added to `errors`.
    public func parse(_ body: JSONBody, _ errors: inout FieldErrors) -> EventRequest? {
        let before = errors.fields.count
        let prefix = body.fieldPrefix
        let type = body.string("type", &errors, required: true, maxLength: 64) ?? ""
        let entry = catalogue.entries[type]
        var dataJSON = "{}"
        var placeholders: [String: String] = [:]
        if let raw = body.object["data"], !isJSONNull(raw) {
            // As posted (cut out of the body); encoded again only when it cannot be found there.
            let reencoded = { (object: [String: Any]) in
                (try? JSONSerialization.data(withJSONObject: object)).map { String(decoding: $0, as: UTF8.self) }
            }
            if let object = raw as? [String: Any], let text = body.rawText("data") ?? reencoded(object) {
                dataJSON = text
                for (key, value) in object {
                    if let text = value as? String { placeholders[key] = text }
                    if let number = value as? NSNumber { placeholders[key] = number.stringValue }
                }
            } else {
                errors.add(prefix + "data", "Must be a JSON object.")
            }
        }
        var title = Localized(en: "", ar: "", fr: ""), message = title
        let givenTitle = body.string("title", &errors, maxLength: 255)
        let givenMessage = body.string("message", &errors, maxLength: 5000)
        if let givenTitle, let givenMessage {
            title = Localized(en: givenTitle, ar: body.string("title_arabic", &errors, maxLength: 255) ?? givenTitle,
                              fr: body.string("title_french", &errors, maxLength: 255) ?? givenTitle)
            message = Localized(en: givenMessage, ar: body.string("message_arabic", &errors, maxLength: 5000) ?? givenMessage,
                                fr: body.string("message_french", &errors, maxLength: 5000) ?? givenMessage)
        } else if let entry {
            title = entry.renderTitle(placeholders)
            message = entry.renderMessage(placeholders)
        } else if !type.isEmpty && Self.hasRecipients(body.object["recipients"]) {
            errors.add(prefix + "type", "Unknown event type; add it to the catalogue or give title and message.")
        }
        var priority = entry.flatMap { Priority(parsing: $0.priority) } ?? .medium
        if let given = body.string("priority", &errors, maxLength: 10) {
            if let parsed = Priority(parsing: given) {
                priority = parsed
            } else {
                errors.add(prefix + "priority", "Must be one of: \(Priority.choices).")
            }
        }
        let category = body.string("category", &errors, maxLength: 64) ?? entry?.category ?? "general"
        var event = EventRequest(type: type, category: category, priority: priority, title: title, message: message,
                                 data: dataJSON, recipients: Recipients())
        event.idempotencyKey = body.string("idempotency_key", &errors, maxLength: 255)
        event.relatedObjectType = body.string("related_object_type", &errors, maxLength: 64)
        event.relatedObjectID = body.string("related_object_id", &errors, maxLength: 64)
        event.requiresAction = body.bool("requires_action", &errors) ?? false
        if let policy = body.object["escalation"], !isJSONNull(policy) {
            event.escalation = EscalationStep.parse(policy, field: prefix + "escalation", &errors) ?? []
        } else if let entry {
            event.escalation = EscalationStep.applying(entry.escalation, to: priority)
        }
        event.includeNewUsers = body.bool("include_new_users", &errors) ?? false
        if let expires = body.string("expires_at", &errors, maxLength: 40) {
            if InboxTime.isTimestamp(expires) { event.expiresAt = expires } else {
                errors.add(prefix + "expires_at", "Use an ISO-8601 date or time, such as 2026-12-31T23:00:00Z.")
            }
        } else if let expires = placeholders["expires_at"], InboxTime.isTimestamp(expires) {
            event.expiresAt = expires  // Madrasti's system_alert carries it in its data
        }
        // Recipients are optional: an event without any (`enrollment.created`) stores no
        // notification and exists for the webhook endpoints subscribed to its type.
        if let recipients = body.object["recipients"] as? [String: Any] {
            event.recipients = Self.recipients(recipients, prefix: prefix + "recipients.", &errors)
        } else if body.has("recipients") {
            errors.add(prefix + "recipients", "Give recipients: {users, rooms, roles, guardians_of, all}, or leave them out.")
        }
        return errors.fields.count == before ? event : nil
    }

    /// Does the event name anyone (so its notification needs a title and message)?
    private static func hasRecipients(_ value: Any?) -> Bool {
        guard let object = value as? [String: Any] else { return false }
        return object.contains { key, value in
            if isJSONNull(value) || !["users", "rooms", "roles", "guardians_of", "all"].contains(key) { return false }
            if key == "all" { return JSONNumber.bool(value) != false }
            return (value as? [Any])?.isEmpty != true
        }
    }

    /// `{events: [...]}`: 1 to 1,000 events, every one valid, or nothing is stored.
    public func parseBulk(_ body: JSONBody) throws(APIError) -> [EventRequest] {
        guard let list = body.object["events"] as? [Any] else {
            throw APIError.validation([("events", ["A list of events is required."])])
        }
        guard !list.isEmpty else { throw APIError.validation([("events", ["Give at least one event."])]) }
        let limit = Self.maxEventsPerRequest
        guard list.count <= limit else {
            throw APIError(.contentTooLarge, code: "TOO_MANY_EVENTS",
                           message: "At most \(limit) events per request; this one has \(list.count)",
                           details: [("events", ["At most \(limit) events per request."])])
        }
        var errors = FieldErrors()
        var events: [EventRequest] = []
        events.reserveCapacity(list.count)
        let ranges = body.rawElements("events").flatMap { $0.count == list.count ? $0 : nil }
        for (index, element) in list.enumerated() {
            guard let object = element as? [String: Any] else {
                errors.add("events[\(index)]", "Must be an event object.")
                continue
            }
            for name in ["send_at", "cancellation_key", "cancel_if_read"] where object[name] != nil {
                errors.add("events[\(index)].\(name)", "Schedule events one at a time, with POST /api/v1/events/.")
            }
            if let event = parse(body.nested(object, at: ranges?[index], fieldPrefix: "events[\(index)]."), &errors) {
                events.append(event)
            }
        }
        try errors.throwIfAny()
        return events
    }

    private static func recipients(_ object: [String: Any], prefix: String, _ errors: inout FieldErrors) -> Recipients {
        var recipients = Recipients()
        recipients.users = ids(object["users"], prefix + "users", &errors)
        recipients.guardiansOf = ids(object["guardians_of"], prefix + "guardians_of", &errors)
        if let rooms = object["rooms"] {
            if let list = rooms as? [String], list.count <= maxRooms, list.allSatisfy(RoomName.isValid) {
                recipients.rooms = list
            } else {
                errors.add(prefix + "rooms", "A list of at most \(maxRooms) room names such as class:5 or khatma:12.")
            }
        }
        if let roles = object["roles"] {
            if let list = roles as? [String], let parsed = Optional(list.compactMap { Role(rawValue: $0.uppercased()) }),
               parsed.count == list.count
            {
                recipients.roles = parsed
            } else {
                errors.add(prefix + "roles", "Roles are: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
        }
        if let all = object["all"] {
            if let flag = JSONNumber.bool(all) { recipients.everyone = flag } else { errors.add(prefix + "all", "Must be a boolean.") }
        }
        return recipients
    }

    private static func ids(_ value: Any?, _ field: String, _ errors: inout FieldErrors) -> [Int64] {
        guard let value else { return [] }
        guard let ids = JSONNumber.integers(value), ids.count <= maxUserIDs else {
            errors.add(field, "A list of at most \(maxUserIDs) integer user ids.")
            return []
        }
        return ids
    }
}

extension EventCatalogue.Entry {
    /// The title rendered in every language with the event's data (the fallback wording where a field is missing).
    func renderTitle(_ data: [String: String]) -> Localized { render(title, fallbackTitle, data) }

    func renderMessage(_ data: [String: String]) -> Localized { render(message, fallbackMessage, data) }

    private func render(_ templates: [String: String], _ fallback: [String: String], _ data: [String: String]) -> Localized {
        func one(_ language: String) -> String {
            EventCatalogue.render(templates[language] ?? "", data: data) ?? fallback[language] ?? ""
        }
        return Localized(en: one("en"), ar: one("ar"), fr: one("fr"))
    }
}
