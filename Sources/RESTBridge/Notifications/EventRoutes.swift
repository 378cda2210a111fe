import Channels
import Foundation
import Hub

/// `POST /api/v1/events/`: a backend's domain event becomes one stored notification per recipient
/// (or one announcement for `all`), in one transaction of a few statements whatever the audience,
/// with outbox rows for the external channels each recipient's preferences allow; then 202, then
/// the live pushes. The same idempotency key twice creates nothing new.
public enum EventRoutes {
    public static func register(on router: inout Router, context: APIContext, catalogue: EventCatalogue, hub: ChannelHub,
                                onQueued: @escaping @Sendable () -> Void = {}) {
        context.route(&router, .POST, ["/api/v1/events/", "/api/events/"], access: .staffOrService) { request in
            let event = try parse(request, catalogue: catalogue)
            let outcome = try await store(event, pool: context.pool)
            if outcome.deliveries > 0 { onQueued() }
            if !outcome.duplicate {
                for push in outcome.pushes {
                    hub.publish(to: push.recipient.map { .user($0) } ?? .everyone, json: push.json, notificationID: push.id)
                }
            }
            var json = JSONWriter(capacity: 128 + outcome.ids.count * 8)
            json.beginObject()
            json.key("event_id"); json.int(outcome.eventID)
            json.field("count", outcome.ids.count)
            json.key("notification_ids")
            json.beginArray()
            for id in outcome.ids { json.int(id) }
            json.endArray()
            json.field("duplicate", outcome.duplicate)
            json.field("deliveries_queued", outcome.deliveries)
            json.endObject()
            return .json(.accepted, json.bytes)
        }
    }

    struct Event: Sendable {
        var type: String
        var category: String
        var priority: String
        var title: [String: String]
        var message: [String: String]
        var dataJSON: String
        var recipientsJSON: String
        var users: [Int64] = []
        var rooms: [String] = []
        var roles: [String] = []
        var guardiansOf: [Int64] = []
        var everyone = false
        var idempotencyKey: String?
        var relatedType: String?
        var relatedID: String?
    }

    static func parse(_ request: APIRequest, catalogue: EventCatalogue) throws(APIError) -> Event {
        var errors = FieldErrors()
        let body = try request.body()
        let type = body.string("type", &errors, required: true, maxLength: 64) ?? ""
        let entry = catalogue.entries[type]
        var title: [String: String] = [:], message: [String: String] = [:]
        var data: [String: String] = [:]
        var dataJSON = "{}"
        if let raw = body.object["data"], !(raw is NSNull) {
            if let object = raw as? [String: Any], let encoded = try? JSONSerialization.data(withJSONObject: object) {
                dataJSON = String(decoding: encoded, as: UTF8.self)
                for (key, value) in object {
                    if let text = value as? String { data[key] = text }
                    if let number = value as? NSNumber { data[key] = number.stringValue }
                }
            } else {
                errors.add("data", "Must be a JSON object.")
            }
        }
        let givenTitle = body.string("title", &errors, maxLength: 255)
        let givenMessage = body.string("message", &errors, maxLength: 5000)
        if let givenTitle, let givenMessage {
            title = ["en": givenTitle, "ar": body.string("title_arabic", &errors, maxLength: 255) ?? givenTitle,
                     "fr": body.string("title_french", &errors, maxLength: 255) ?? givenTitle]
            message = ["en": givenMessage, "ar": body.string("message_arabic", &errors, maxLength: 5000) ?? givenMessage,
                       "fr": body.string("message_french", &errors, maxLength: 5000) ?? givenMessage]
        } else if let entry {
            for language in ["en", "ar", "fr"] {
                title[language] = EventCatalogue.render(entry.title[language]!, data: data)
                message[language] = EventCatalogue.render(entry.message[language]!, data: data)
            }
        } else if !type.isEmpty {
            errors.add("type", "Unknown event type; add it to the catalogue or give title and message.")
        }
        var priority = entry?.priority ?? "MEDIUM"
        if let given = body.string("priority", &errors, maxLength: 10) {
            if ["LOW", "MEDIUM", "HIGH", "URGENT"].contains(given.uppercased()) {
                priority = given.uppercased()
            } else {
                errors.add("priority", "Must be one of: LOW, MEDIUM, HIGH, URGENT.")
            }
        }
        let category = body.string("category", &errors, maxLength: 64) ?? entry?.category ?? "general"
        var event = Event(type: type, category: category, priority: priority, title: title, message: message,
                          dataJSON: dataJSON, recipientsJSON: "{}")
        event.idempotencyKey = body.string("idempotency_key", &errors, maxLength: 255)
        event.relatedType = body.string("related_object_type", &errors, maxLength: 64)
        event.relatedID = body.string("related_object_id", &errors, maxLength: 64)

        guard let recipients = body.object["recipients"] as? [String: Any] else {
            errors.add("recipients", "Give recipients: {users, rooms, roles, guardians_of, all}.")
            try errors.throwIfAny()
            return event
        }
        if let encoded = try? JSONSerialization.data(withJSONObject: recipients) {
            event.recipientsJSON = String(decoding: encoded, as: UTF8.self)
        }
        event.users = ids(recipients["users"], "recipients.users", &errors)
        event.guardiansOf = ids(recipients["guardians_of"], "recipients.guardians_of", &errors)
        if let rooms = recipients["rooms"] {
            if let list = rooms as? [String], list.count <= 1000, list.allSatisfy(RoomName.isValid) {
                event.rooms = list
            } else {
                errors.add("recipients.rooms", "A list of room names such as class:5 or khatma:12.")
            }
        }
        if let roles = recipients["roles"] {
            if let list = roles as? [String], list.allSatisfy({ Role(rawValue: $0.uppercased()) != nil }) {
                event.roles = list.map { $0.uppercased() }
            } else {
                errors.add("recipients.roles", "Roles are: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
        }
        if let all = recipients["all"] {
            if let flag = JSONNumber.bool(all) { event.everyone = flag } else {
                errors.add("recipients.all", "Must be a boolean.")
            }
        }
        if errors.isEmpty && !event.everyone && event.users.isEmpty && event.rooms.isEmpty && event.roles.isEmpty
            && event.guardiansOf.isEmpty
        {
            errors.add("recipients", "Name at least one recipient (users, rooms, roles, guardians_of or all).")
        }
        try errors.throwIfAny()
        return event
    }

    private static func ids(_ value: Any?, _ field: String, _ errors: inout FieldErrors) -> [Int64] {
        guard let value else { return [] }
        guard let ids = JSONNumber.integers(value), ids.count <= 100_000 else {
            errors.add(field, "A list of at most 100000 integer user ids.")
            return []
        }
        return ids
    }

    struct Outcome: Sendable {
        let eventID: Int64
        let ids: [Int64]
        let duplicate: Bool
        let deliveries: Int
        let pushes: [Push]
    }

    struct Push: Sendable {
        let id: Int64
        let recipient: Int64?
        let json: [UInt8]
    }

    static func array(_ ids: [Int64]) -> String { "{" + ids.map(String.init).joined(separator: ",") + "}" }

    static func textArray(_ items: [String]) -> String {
        "{" + items.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    /// The whole event in one transaction: at most six statements, whatever the number of recipients.
    static func store(_ event: Event, pool: DatabasePool) async throws -> Outcome {
        try await pool.transaction { connection in
            let inserted = try connection.executePrepared("""
                INSERT INTO events (idempotency_key, event_type, recipients, data) VALUES ($1, $2, $3::jsonb, $4::jsonb)
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
                """, [event.idempotencyKey, event.type, event.recipientsJSON, event.dataJSON])
            guard let eventID = inserted.first?.int("id").map(Int64.init) else {
                let existing = try connection.executePrepared(
                    "SELECT id, array_to_string(notification_ids, ',') AS ids FROM events WHERE idempotency_key = $1",
                    [event.idempotencyKey]).first
                let ids = (existing?.string("ids") ?? "").split(separator: ",").compactMap { Int64($0) }
                return Outcome(eventID: Int64(existing?.int("id") ?? 0), ids: ids, duplicate: true, deliveries: 0, pushes: [])
            }
            let common: [String?] = [event.type, event.category, event.priority, event.title["en"], event.title["ar"],
                                     event.title["fr"], event.message["en"], event.message["ar"], event.message["fr"],
                                     event.dataJSON, String(eventID), event.relatedType, event.relatedID]
            let rows: QueryResult
            if event.everyone {
                rows = try connection.executePrepared("""
                    INSERT INTO notifications (recipient_id, notification_type, category, priority, title, title_arabic,
                        title_french, message, message_arabic, message_french, data, event_id, related_object_type,
                        related_object_id)
                    VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)
                    RETURNING id
                    """, common)
            } else {
                // Recipients resolved and notifications written in one statement; the title and
                // message are in each recipient's language (preference, else profile). Only users
                // named by id (the common case) take the index straight; rooms, roles and
                // guardians are gathered as a union, planned for the arrays at hand (a generic plan
                // would size every branch for a whole role and scan the users).
                let onlyUsers = event.rooms.isEmpty && event.roles.isEmpty && event.guardiansOf.isEmpty
                if !onlyUsers { try connection.execute("SET LOCAL plan_cache_mode = force_custom_plan") }
                let recipients = onlyUsers ? "SELECT unnest($14::bigint[]) AS id" : """
                    SELECT unnest($14::bigint[]) AS id
                    UNION SELECT user_id FROM room_members WHERE room = ANY($15::text[])
                    UNION SELECT id FROM users WHERE role = ANY($16::text[])
                    UNION SELECT parent_id FROM guardians WHERE student_id = ANY($17::bigint[])
                    """
                let parameters = common + (onlyUsers ? [array(event.users)]
                    : [array(event.users), textArray(event.rooms), textArray(event.roles), array(event.guardiansOf)])
                rows = try connection.executePrepared("""
                    WITH recipients AS (\(recipients))
                    INSERT INTO notifications (recipient_id, notification_type, category, priority, title, title_arabic,
                        title_french, message, message_arabic, message_french, data, event_id, related_object_type,
                        related_object_id)
                    SELECT u.id, $1, $2, $3,
                        CASE COALESCE(p.language, u.language) WHEN 'ar' THEN $5 WHEN 'fr' THEN $6 ELSE $4 END, $5, $6,
                        CASE COALESCE(p.language, u.language) WHEN 'ar' THEN $8 WHEN 'fr' THEN $9 ELSE $7 END, $8, $9,
                        $10::jsonb, $11, $12, $13
                    FROM recipients r JOIN users u ON u.id = r.id LEFT JOIN notification_preferences p ON p.user_id = u.id
                    WHERE u.is_active
                    ORDER BY u.id
                    RETURNING id
                    """, parameters)
            }
            let ids = rows.rows.compactMap { $0.int("id").map(Int64.init) }
            // An announcement has no recipient of its own, so no outbox rows: one round trip fewer.
            let deliveries = event.everyone ? 0 : try connection.executePrepared("""
                INSERT INTO deliveries (notification_id, user_id, channel, destination, available_at)
                SELECT n.id, n.recipient_id, c.channel, c.destination,
                    COALESCE(CASE WHEN n.priority <> 'URGENT' AND p.quiet_hours_enabled
                        THEN hub_quiet_until(p.timezone, p.quiet_hours_start, p.quiet_hours_end, now()) END, now())
                FROM notifications n
                JOIN users u ON u.id = n.recipient_id
                JOIN notification_preferences p ON p.user_id = n.recipient_id
                CROSS JOIN LATERAL (VALUES
                    ('EMAIL', CASE WHEN p.email_enabled THEN u.email END),
                    ('SMS', CASE WHEN p.sms_enabled THEN COALESCE(p.phone_number, u.phone) END),
                    ('TELEGRAM', CASE WHEN p.telegram_enabled THEN p.telegram_chat_id END)) AS c (channel, destination)
                WHERE n.event_id = $1 AND c.destination IS NOT NULL
                    AND CASE n.category
                        WHEN 'payment' THEN p.payment_notifications WHEN 'homework' THEN p.homework_notifications
                        WHEN 'lesson' THEN p.lesson_notifications WHEN 'attendance' THEN p.attendance_notifications
                        WHEN 'gamification' THEN p.gamification_notifications WHEN 'grades' THEN p.grades_notifications
                        WHEN 'khatma' THEN p.khatma_notifications WHEN 'halaka' THEN p.halaka_notifications
                        WHEN 'course' THEN p.course_notifications WHEN 'system' THEN p.system_notifications
                        ELSE true END
                """, [String(eventID)]).affectedRows
            if deliveries > 0 {
                try connection.executePrepared("""
                    UPDATE notifications n SET delivery_method = 'IN_APP,' || d.channels
                    FROM (SELECT notification_id, string_agg(channel, ',' ORDER BY channel) AS channels
                          FROM deliveries WHERE notification_id IN (SELECT id FROM notifications WHERE event_id = $1)
                          GROUP BY notification_id) d
                    WHERE n.id = d.notification_id
                    """, [String(eventID)])
            }
            try connection.executePrepared("UPDATE events SET notification_ids = $2::bigint[] WHERE id = $1",
                                           [String(eventID), array(ids)])
            // The pushes: each notification as its recipient will see it, read back in one query.
            let stored = try connection.executePrepared("""
                SELECT \(NotificationStore.columns) FROM notifications n
                LEFT JOIN announcement_reads ar ON ar.notification_id = n.id AND ar.user_id = 0
                WHERE n.event_id = $1 ORDER BY n.id
                """, [String(eventID)]).rows.map(StoredNotification.init(row:))
            let pushes = stored.map { Push(id: $0.id, recipient: $0.recipientID, json: $0.push) }
            return Outcome(eventID: eventID, ids: ids, duplicate: false, deliveries: deliveries, pushes: pushes)
        }
    }
}
