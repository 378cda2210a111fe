import Foundation
import Hub

/// `/api/v1/reminders/`: recurring reminders (service key or staff). A reminder is an event as
/// `POST /api/v1/events/` takes it (type, recipients, data, or title and message) plus a `rule`;
/// each occurrence runs through the pipeline with `date` and `time` added to its data.
public enum ReminderRoutes {
    public static func register(on router: inout Router, context: APIContext, store: ReminderStore, parser: EventParser,
                                scheduler: EventScheduler)
    {
        let collection = ["/api/v1/reminders/"]
        let item = ["/api/v1/reminders/{id}/"]
        context.route(&router, .POST, collection, access: .staffOrService) { request in
            let input = try Input.parse(request.body().object, parser: parser)
            let reminder = try await store.create(event: input.event, type: input.type, rule: input.rule,
                                                  timezone: input.timezone, cancellationKey: input.cancellationKey)
            scheduler.wake()
            return .json(.created, json(reminder))
        }
        context.route(&router, .GET, collection, access: .staffOrService) { _ in
            let reminders = try await store.list(limit: 1000)
            return .json(.ok, resultsJSON(reminders, bytesEach: 600) { reminder, writer in write(reminder, &writer) })
        }
        context.route(&router, .GET, item, access: .staffOrService) { request in
            .json(.ok, json(try await find(request, store)))
        }
        context.route(&router, .PATCH, item, access: .staffOrService) { request in
            let current = try await find(request, store)
            let changes = try request.body().object
            var merged = (try? JSONSerialization.jsonObject(with: Data(current.event.utf8))) as? [String: Any] ?? [:]
            merged["rule"] = (try? JSONSerialization.jsonObject(with: Data(current.rule.utf8))) ?? [:]
            merged["cancellation_key"] = current.cancellationKey
            for (key, value) in changes where key != "active" { merged[key] = isJSONNull(value) ? nil : value }
            let input = try Input.parse(merged, parser: parser, active: changes["active"])
            guard let reminder = try await store.update(id: current.id, event: input.event, type: input.type, rule: input.rule,
                                                        timezone: .some(input.timezone),
                                                        cancellationKey: .some(input.cancellationKey), active: input.active)
            else { throw APIError.notFound("Reminder") }
            scheduler.wake()
            return .json(.ok, json(reminder))
        }
        context.route(&router, .DELETE, item, access: .staffOrService) { request in
            let reminder = try await find(request, store)
            _ = try await store.delete(id: reminder.id)
            return HTTPResponse(status: .noContent)
        }
        for (path, skipping) in [("/api/v1/reminders/{id}/skip/", true), ("/api/v1/reminders/{id}/unskip/", false)] {
            context.route(&router, .POST, [path], access: .staffOrService) { request in
                let reminder = try await find(request, store)
                let body = try request.body()
                var errors = FieldErrors()
                // Halaka's cancel-session and restore-session send `sessionDate`.
                let name = body.has("sessionDate") && !body.has("date") ? "sessionDate" : "date"
                let text = body.string(name, &errors, required: true, maxLength: 40)
                let reason = skipping ? body.string("reason", &errors, maxLength: 500) : nil
                let date = text.flatMap(LocalDate.init(parsing:))
                if text != nil && date == nil { errors.add(name, "An ISO 8601 date (2025-08-15 or 2025-08-15T00:00:00.000Z).") }
                try errors.throwIfAny()
                guard let updated = try await store.setSkipped(id: reminder.id, date: date!, reason: reason, skipped: skipping)
                else { throw APIError.notFound("Reminder") }
                scheduler.wake()
                return .json(.ok, json(updated))
            }
        }
    }

    private static func find(_ request: APIRequest, _ store: ReminderStore) async throws -> ReminderStore.Reminder {
        guard let id = request.http.parameter("id").flatMap({ Int64($0) }), id > 0,
              let reminder = try await store.find(id: id)
        else { throw APIError.notFound("Reminder") }
        return reminder
    }

    /// A reminder as posted, checked: the event part as the events endpoint checks it, the rule,
    /// and the fields an occurrence sets itself refused.
    struct Input {
        let event: String
        let type: String
        let rule: String
        let timezone: String?
        let cancellationKey: String?
        let active: Bool?

        static func parse(_ object: [String: Any], parser: EventParser, active: Any? = nil) throws(APIError) -> Input {
            var errors = FieldErrors()
            let rule = ReminderRule.parse(object["rule"], &errors)
            var eventObject = object
            for key in ["rule", "cancellation_key"] { eventObject[key] = nil }
            for key in ["send_at", "cancel_if_read", "idempotency_key"] where object[key] != nil {
                errors.add(key, "A reminder's occurrences set this themselves.")
            }
            let body = JSONBody(object: eventObject, fieldPrefix: "")
            let event = parser.parse(body, &errors)
            if event?.recipients.everyone == true && rule != nil && rule?.timezone == nil {
                errors.add("recipients.all", "A reminder to everyone needs rule.timezone (announcements have no one clock).")
            }
            let key = JSONBody(object: object, fieldPrefix: "").string("cancellation_key", &errors, maxLength: 255)
            var activeFlag: Bool?
            if let active {
                if let flag = JSONNumber.bool(active) { activeFlag = flag } else { errors.add("active", "Must be a boolean.") }
            }
            try errors.throwIfAny()
            let eventJSON = (try? JSONSerialization.data(withJSONObject: eventObject)).map { String(decoding: $0, as: UTF8.self) }
            let ruleJSON = (try? JSONSerialization.data(withJSONObject: object["rule"] ?? [:])).map { String(decoding: $0, as: UTF8.self) }
            return Input(event: eventJSON ?? "{}", type: event!.type, rule: ruleJSON ?? "{}", timezone: rule!.timezone,
                         cancellationKey: key, active: activeFlag)
        }
    }

    static func json(_ reminder: ReminderStore.Reminder) -> [UInt8] {
        var writer = JSONWriter(capacity: 600)
        write(reminder, &writer)
        return writer.bytes
    }

    static func write(_ reminder: ReminderStore.Reminder, _ json: inout JSONWriter) {
        let event = (try? JSONSerialization.jsonObject(with: Data(reminder.event.utf8))) as? [String: Any] ?? [:]
        json.beginObject()
        json.key("id"); json.int(reminder.id)
        json.field("type", event["type"] as? String ?? "")
        json.key("event"); json.raw(Array(reminder.event.utf8))
        json.key("rule"); json.raw(Array(reminder.rule.utf8))
        json.key("cancellation_key"); if let key = reminder.cancellationKey { json.string(key) } else { json.null() }
        json.key("skipped")
        json.beginArray()
        for (date, reason) in reminder.skipped.sorted(by: { $0.key < $1.key }) {
            json.beginObject()
            json.field("date", date)
            json.field("reason", reason)
            json.endObject()
        }
        json.endArray()
        json.key("end_date")
        if let end = reminder.parsedRule?.extendedEnd(skipped: reminder.skippedDates) { json.string(end.description) } else { json.null() }
        json.key("next_at"); if let next = reminder.nextAt { json.string(next) } else { json.null() }
        json.field("active", reminder.active)
        json.field("created_at", reminder.createdAt)
        json.endObject()
    }
}
