import Channels
import Foundation
import Hub

/// The inbox states beside read, over REST: seen (`POST …/seen/ {up_to_id | ids}`), archive and
/// unarchive, snooze (`{until}`) and delete for the recipient. Every change reaches all of the
/// user's tabs as `notification_updated {ids, state, unread_count, unseen_count}`, and answers the
/// same numbers. Canonical under `/api/v1/notifications/`, with Khatma's `/api/notifications/`.
public enum InboxRoutes {
    static let bases = ["/api/v1/notifications/", "/api/notifications/"]

    public static func register(on router: inout Router, context: APIContext, store: NotificationStore, hub: ChannelHub) {
        context.route(&router, .POST, bases.map { $0 + "seen/" }) { request in
            let user = try request.requireUser()
            let body = try request.body()
            var errors = FieldErrors()
            let upTo = body.integer("up_to_id", &errors)
            let ids = upTo == nil ? body.integers("ids", &errors, maxCount: 1000,
                                                  message: "Give up_to_id, or a non-empty list of at most 1000 ids.") : []
            if let upTo, upTo < 1 { errors.add("up_to_id", "Must be a notification id.") }
            try errors.throwIfAny()
            return try await apply(.seen(ids: ids, upTo: upTo), user: user, store: store, hub: hub)
        }
        typealias Reader = @Sendable (Int64, JSONBody) throws(APIError) -> InboxChange
        let actions: [(String, Reader)] = [("archive", { id, _ in .archive([id]) }), ("unarchive", { id, _ in .unarchive([id]) }),
                                           ("snooze", snooze)]
        for (action, change) in actions {
            context.route(&router, .POST, bases.map { $0 + "{id}/\(action)/" }) { request in
                let user = try request.requireUser()
                let notification = try await NotificationRoutes.owned(request, user: user, store: store)
                return try await apply(try change(notification.id, try request.body()), user: user, store: store, hub: hub)
            }
        }
        // Madrasti's `PATCH /api/attendance/notifications/{id}/`: the recipient (or staff) records
        // that the action a notification asked for was taken.
        context.route(&router, .PATCH, (bases + ["/api/attendance/notifications/"]).map { $0 + "{id}/" }) { request in
            let user = try request.requireUser()
            guard let id = request.http.parameter("id").flatMap({ Int64($0) }),
                  let (notification, owner) = try await store.find(id: id, for: user.id)
            else { throw APIError.notFound("Notification") }
            guard owner || user.role.isStaff else { throw APIError.forbidden("This notification belongs to another user") }
            let body = try request.body()
            var errors = FieldErrors()
            for key in body.object.keys where key != "action_taken" { errors.add(key, "Only action_taken can be changed here.") }
            let taken = body.bool("action_taken", &errors)
            if taken == nil && errors.isEmpty { errors.add("action_taken", "This field is required.") }
            try errors.throwIfAny()
            try await store.setActionTaken(id: notification.id, taken!)
            guard let (updated, _) = try await store.find(id: notification.id, for: user.id) else {
                throw APIError.notFound("Notification")
            }
            return .json(.ok, updated.localized(request.acceptedLanguage).json)
        }
        context.route(&router, .DELETE, bases.map { $0 + "{id}/" }) { request in
            let user = try request.requireUser()
            let notification = try await NotificationRoutes.owned(request, user: user, store: store)
            _ = try await apply(.delete([notification.id]), user: user, store: store, hub: hub)
            return HTTPResponse(status: .noContent)
        }
    }

    /// `{until}`: an ISO 8601 time in the future.
    private static func snooze(_ id: Int64, _ body: JSONBody) throws(APIError) -> InboxChange {
        var errors = FieldErrors()
        let until = body.string("until", &errors, required: true, maxLength: 40)
        if let until, !InboxTime.isTimestamp(until) { errors.add("until", "Use an ISO-8601 time, such as 2026-12-03T18:00:00Z.") }
        try errors.throwIfAny()
        return .snooze([id], until: until!)
    }

    private static func apply(_ change: InboxChange, user: User, store: NotificationStore, hub: ChannelHub) async throws
        -> HTTPResponse
    {
        let outcome = try await store.change(userID: user.id, change)
        hub.announceChange(userID: user.id, ids: outcome.ids, state: change.state, counts: outcome.counts)
        return .json(.ok, outcome.answer(state: change.state))
    }
}

extension InboxOutcome {
    /// The REST answer of a change: `{state, ids, unread_count, unseen_count}`, or for a read
    /// (no state) `{marked, ids, unread_count, unseen_count}`.
    func answer(state: String?) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        if let state { json.field("state", state) } else { json.field("marked", ids.count) }
        json.key("ids")
        json.beginArray()
        for id in ids { json.int(id) }
        json.endArray()
        counts.write(to: &json)
        json.endObject()
        return json.bytes
    }
}
