import Channels
import Foundation
import Hub

/// The notification endpoints this far: create (staff or service key; stored, then pushed live),
/// list, detail, unread count, mark read / all read, with the seeds' aliases. Every change of
/// read state also reaches the user's open sessions as `notification_read`.
public enum NotificationRoutes {
    public static func register(on router: inout Router, context: APIContext, store: NotificationStore, hub: ChannelHub,
                                pipeline: EventPipeline)
    {
        context.route(&router, .POST, ["/api/v1/notifications/", "/api/notifications/", "/api/attendance/notifications/"],
                      access: .staffOrService) { request in
            let event = try createdNotification(try request.body())
            guard let stored = try await pipeline.accept([event])[0].notifications.first else {
                throw APIError.validation([("recipient", ["No active user with this id."])])
            }
            return .json(.created, stored.json)
        }
        context.route(&router, .GET, ["/api/v1/notifications/", "/api/notifications/", "/api/attendance/notifications/"]) { request in
            try await list(request, store: store, settings: context.settings, unreadOnly: false)
        }
        context.route(&router, .GET, ["/api/v1/notifications/unread/", "/api/notifications/unread/",
                                      "/api/attendance/notifications/unread/"]) { request in
            try await list(request, store: store, settings: context.settings, unreadOnly: true)
        }
        context.route(&router, .POST, ["/api/v1/notifications/bulk-read/", "/api/v1/notifications/bulk_read/",
                                       "/api/notifications/bulk-read/", "/api/attendance/notifications/bulk_read/"]) { request in
            let user = try request.requireUser()
            let body = try request.body()
            var errors = FieldErrors()
            let ids = body.integers("ids", &errors, maxCount: 1000,
                                    message: "A non-empty list of at most 1000 notification ids is required.")
            try errors.throwIfAny()
            let outcome = try await store.markRead(userID: user.id, ids: ids)
            announceRead(hub, user.id, outcome)
            return .json(.ok, outcome.answer(state: nil))
        }
        context.route(&router, .GET, ["/api/v1/notifications/{id}/deliveries/"]) { request in
            let user = try request.requireUser()
            let notification = try await owned(request, user: user, store: store)
            let rows = try await store.deliveries(notificationID: notification.id)
            var json = JSONWriter()
            json.beginObject()
            json.key("notification_id"); json.int(notification.id)
            json.key("results")
            json.beginArray()
            json.beginObject()
            json.field("channel", "IN_APP")
            json.field("status", "DELIVERED")
            json.endObject()
            for row in rows {
                json.beginObject()
                for name in ["channel", "destination", "status", "last_error", "provider_id", "available_at", "created_at",
                             "updated_at"]
                {
                    json.key(name)
                    if let value = row.string(name) { json.string(value) } else { json.null() }
                }
                json.field("attempts", row.int("attempts") ?? 0)
                // An escalation step: when it is due (available_at) and what must still hold then;
                // a read cancels it (status CANCELLED, last_error "read").
                json.key("escalation")
                if let condition = row.string("send_if") {
                    json.beginObject()
                    json.field("after", row.int("step_after") ?? 0)
                    json.field("if", condition)
                    json.endObject()
                } else {
                    json.null()
                }
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return .json(.ok, json.bytes)
        }
        context.route(&router, .GET, ["/api/v1/notifications/unread-count/", "/api/notifications/unread-count/",
                                      "/api/attendance/notifications/unread_count/"]) { request in
            let user = try request.requireUser()
            let counts = try await store.unreadCount(userID: user.id)
            return .json(.ok, Array(#"{"unread_count":\#(counts.unread),"count":\#(counts.unread),"unseen_count":\#(counts.unseen)}"#.utf8))
        }
        context.route(&router, .GET, ["/api/v1/notifications/{id}/", "/api/notifications/{id}/",
                                      "/api/attendance/notifications/{id}/"]) { request in
            let user = try request.requireUser()
            let notification = try await owned(request, user: user, store: store)
            return .json(.ok, notification.localized(request.acceptedLanguage).json)
        }
        let readPaths = ["/api/v1/notifications/{id}/read/", "/api/v1/notifications/{id}/mark-read/",
                         "/api/notifications/{id}/read/", "/api/attendance/notifications/{id}/mark_read/"]
        for method in [HTTPMethod.POST, .PATCH] {
            context.route(&router, method, readPaths) { request in
                let user = try request.requireUser()
                let notification = try await owned(request, user: user, store: store)
                let outcome = try await store.markRead(userID: user.id, ids: [notification.id])
                announceRead(hub, user.id, outcome)
                guard let (updated, _) = try await store.find(id: notification.id, for: user.id) else {
                    throw APIError.notFound("Notification")
                }
                return .json(.ok, updated.localized(request.acceptedLanguage).json)
            }
            context.route(&router, method, ["/api/v1/notifications/mark-all-read/", "/api/notifications/mark-all-read/",
                                            "/api/attendance/notifications/mark_all_read/"]) { request in
                let user = try request.requireUser()
                let outcome = try await store.markRead(userID: user.id, ids: nil)
                announceRead(hub, user.id, outcome)
                return .json(.ok, outcome.answer(state: nil))
            }
        }
    }

    /// `POST /api/v1/notifications/`: one notification with its own texts, for one recipient; it
    /// takes the event pipeline like any event.
    static func createdNotification(_ body: JSONBody) throws(APIError) -> EventRequest {
        var errors = FieldErrors()
        let recipient = body.integer("recipient", &errors, required: true)
        let type = body.string("notification_type", &errors, required: true, maxLength: 64)
        let title = body.string("title", &errors, required: true, maxLength: 255)
        let message = body.string("message", &errors, required: true, maxLength: 5000)
        var priority = Priority.medium
        if let given = body.string("priority", &errors, maxLength: 10) {
            if let parsed = Priority(parsing: given) { priority = parsed } else {
                errors.add("priority", "Must be one of: \(Priority.choices).")
            }
        }
        var data = "{}"
        var object: [String: Any] = [:]
        if let value = body.object["data"], !isJSONNull(value) {
            if let given = value as? [String: Any] { object = given } else { errors.add("data", "Must be a JSON object.") }
        }
        // Madrasti's parent notification names its student beside the recipient.
        if let student = body.integer("student", &errors) { object["student_id"] = object["student_id"] ?? student }
        if let name = body.string("student_name", &errors, maxLength: 300) { object["student_name"] = object["student_name"] ?? name }
        if let auto = body.bool("auto_generated", &errors) { object["auto_generated"] = auto }
        if !object.isEmpty, let encoded = try? JSONSerialization.data(withJSONObject: object) {
            data = String(decoding: encoded, as: UTF8.self)
        }
        var event = EventRequest(
            type: type ?? "", category: body.string("category", &errors, maxLength: 64) ?? "general", priority: priority,
            title: Localized(en: title ?? "", ar: body.string("title_arabic", &errors, maxLength: 255) ?? title ?? "",
                             fr: body.string("title_french", &errors, maxLength: 255) ?? title ?? ""),
            message: Localized(en: message ?? "", ar: body.string("message_arabic", &errors, maxLength: 5000) ?? message ?? "",
                               fr: body.string("message_french", &errors, maxLength: 5000) ?? message ?? ""),
            data: data, recipients: Recipients(users: [recipient ?? 0]))
        event.relatedObjectType = body.string("related_object_type", &errors, maxLength: 64)
        event.relatedObjectID = body.string("related_object_id", &errors, maxLength: 64)
        event.requiresAction = body.bool("requires_action", &errors) ?? false
        try errors.throwIfAny()
        return event
    }

    static func announceRead(_ hub: ChannelHub, _ userID: Int64, _ outcome: InboxOutcome) {
        hub.announceRead(userID: userID, ids: outcome.ids, counts: outcome.counts)
    }

    /// The notification named in the path, if it is the caller's: 404 when absent, 403 when another's.
    static func owned(_ request: APIRequest, user: User, store: NotificationStore) async throws -> StoredNotification {
        guard let id = request.http.parameter("id").flatMap({ Int64($0) }) else { throw APIError.notFound("Notification") }
        guard let (notification, owner) = try await store.find(id: id, for: user.id) else {
            throw APIError.notFound("Notification")
        }
        guard owner else { throw APIError.forbidden("This notification belongs to another user") }
        return notification
    }

    /// The list with DRF pagination and the filters of DESIGN; each bad filter is named in details.
    static func list(_ request: APIRequest, store: NotificationStore, settings: APISettings, unreadOnly: Bool) async throws
        -> HTTPResponse
    {
        let user = try request.requireUser()
        let query = request.http.query
        var errors = FieldErrors()
        let pagination = Pagination(query, &errors)
        var filters = NotificationStore.Filters()
        if let text = query["is_read"] {
            switch text.lowercased() {
            case "true", "1": filters.isRead = true
            case "false", "0": filters.isRead = false
            default: errors.add("is_read", "Must be true or false.")
            }
        }
        if unreadOnly { filters.isRead = false }
        for (name, keyPath) in [("is_seen", \NotificationStore.Filters.isSeen), ("archived", \NotificationStore.Filters.archivedFlag)] {
            guard let text = query[name] else { continue }
            switch text.lowercased() {
            case "true", "1": filters[keyPath: keyPath] = true
            case "false", "0": filters[keyPath: keyPath] = false
            default: errors.add(name, "Must be true or false.")
            }
        }
        if let text = query["expires_at__gte"] {
            if InboxTime.isTimestamp(text) { filters.expiresFrom = text } else { errors.add("expires_at__gte", "Use an ISO-8601 date or time.") }
        }
        filters.type = query["notification_type"].flatMap { $0.isEmpty ? nil : $0 }
        filters.category = query["category"].flatMap { $0.isEmpty ? nil : $0 }
        if let priority = query["priority"] {
            if ["LOW", "MEDIUM", "HIGH", "URGENT"].contains(priority.uppercased()) {
                filters.priority = priority.uppercased()
            } else {
                errors.add("priority", "Must be one of: LOW, MEDIUM, HIGH, URGENT.")
            }
        }
        for (name, keyPath) in [("created_at__gte", \NotificationStore.Filters.createdFrom),
                                ("created_at__lte", \NotificationStore.Filters.createdTo)]
        {
            guard let text = query[name] else { continue }
            if InboxTime.isTimestamp(text) { filters[keyPath: keyPath] = text } else { errors.add(name, "Use an ISO-8601 date or time.") }
        }
        if let search = query["search"], !search.isEmpty {
            if search.count > 200 { errors.add("search", "At most 200 characters.") } else { filters.search = search }
        }
        if let ordering = query["ordering"] {
            if NotificationStore.Filters.orderings[ordering] != nil {
                filters.ordering = ordering
            } else {
                errors.add("ordering", "Must be one of: \(NotificationStore.Filters.orderings.keys.sorted().joined(separator: ", ")).")
            }
        }
        try errors.throwIfAny()
        let (items, total) = try await store.list(userID: user.id, filters: filters, offset: pagination.offset,
                                                  limit: pagination.size)
        let language = request.acceptedLanguage
        return .json(.ok, pagination.envelope(total: total, request: request.http, settings: settings) { json in
            for item in items { item.localized(language).write(to: &json) }
        })
    }
}
