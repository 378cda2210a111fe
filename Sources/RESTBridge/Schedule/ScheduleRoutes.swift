import Foundation
import Hub

/// `POST /api/v1/events/cancel/` and `GET /api/v1/events/scheduled/` (service key or staff).
/// Scheduling itself is `POST /api/v1/events/` with `send_at` (EventRoutes).
public enum ScheduleRoutes {
    public static func register(on router: inout Router, context: APIContext, store: ScheduledEventStore,
                                reminders: ReminderStore)
    {
        context.route(&router, .POST, ["/api/v1/events/cancel/"], access: .staffOrService) { request in
            var errors = FieldErrors()
            let key = try request.body().string("cancellation_key", &errors, required: true, maxLength: 255)
            try errors.throwIfAny()
            let count = try await store.cancel(key: key!)
            let stopped = try await reminders.cancel(key: key!)
            return .json(.ok, Array(#"{"cancelled":\#(count),"reminders_stopped":\#(stopped)}"#.utf8))
        }
        context.route(&router, .GET, ["/api/v1/events/scheduled/"], access: .staffOrService) { request in
            let key = request.http.query["cancellation_key"]
            if let key, key.isEmpty || key.count > 255 {
                throw APIError.validation([("cancellation_key", ["At most 255 characters, not empty."])])
            }
            let rows = try await store.pending(key: key, limit: 1000)
            return .json(.ok, resultsJSON(rows) { row, json in
                json.beginObject()
                json.key("scheduled_id"); json.int(Int64(row.int("id") ?? 0))
                json.field("type", row.string("event_type") ?? "")
                json.field("send_at", row.string("send_at") ?? "")
                json.key("cancellation_key"); if let key = row.string("cancellation_key") { json.string(key) } else { json.null() }
                json.key("cancel_if_read"); if let id = row.int("cancel_if_read") { json.int(id) } else { json.null() }
                json.field("status", "PENDING")
                json.field("created_at", row.string("created_at") ?? "")
                json.endObject()
            })
        }
    }
}
