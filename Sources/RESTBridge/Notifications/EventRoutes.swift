import Foundation
import Hub

/// `POST /api/v1/events/` and `POST /api/v1/events/bulk/`: backends' domain events, parsed here and
/// handed to the `EventPipeline`, which stores, pushes and queues them. 202 once committed.
public enum EventRoutes {
    public static func register(on router: inout Router, context: APIContext, parser: EventParser, pipeline: EventPipeline,
                                scheduled: ScheduledEventStore, scheduler: EventScheduler)
    {
        context.route(&router, .POST, ["/api/v1/events/", "/api/events/"], access: .staffOrService) { request in
            var errors = FieldErrors()
            let body = try request.body()
            let event = parser.parse(body, &errors)
            let schedule = ScheduleRequest.parse(body, now: Date(), &errors)
            try errors.throwIfAny()
            if let schedule {
                let kept = try await scheduled.schedule(event!, schedule)
                if schedule.sendAt.timeIntervalSinceNow < 1 { scheduler.wake() }
                var json = JSONWriter()
                json.beginObject()
                json.key("scheduled_id"); json.int(kept.id)
                json.field("send_at", kept.sendAt)
                json.field("duplicate", kept.duplicate)
                json.endObject()
                return .json(.accepted, json.bytes)
            }
            let result = try await pipeline.accept([event!])[0]
            var json = JSONWriter(capacity: 128 + result.notificationIDs.count * 8)
            write(result, to: &json)
            return .json(.accepted, json.bytes)
        }
        context.route(&router, .POST, ["/api/v1/events/bulk/", "/api/events/bulk/"], access: .staffOrService) { request in
            let events = try parser.parseBulk(try request.body())
            let results = try await pipeline.accept(events)
            var json = JSONWriter(capacity: 256 + results.count * 96)
            json.beginObject()
            json.field("count", results.count)
            json.field("notifications_sent", results.reduce(0) { $0 + ($1.duplicate ? 0 : $1.notificationIDs.count) })
            json.key("results")
            json.beginArray()
            for result in results { write(result, to: &json) }
            json.endArray()
            json.endObject()
            return .json(.accepted, json.bytes)
        }
    }

    static func write(_ result: EventPipeline.Result, to json: inout JSONWriter) {
        json.beginObject()
        json.key("event_id"); json.int(result.eventID)
        json.field("count", result.notificationIDs.count)
        json.key("notification_ids")
        json.beginArray()
        for id in result.notificationIDs { json.int(id) }
        json.endArray()
        json.field("duplicate", result.duplicate)
        json.field("deliveries_queued", result.deliveriesQueued)
        json.endObject()
    }
}
