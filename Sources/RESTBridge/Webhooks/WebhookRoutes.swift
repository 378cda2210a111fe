import Channels
import Foundation
import Hub
import NotifyDrivers

/// `/api/v1/webhooks/…` (service key or staff): endpoints (create answers the secret once; list,
/// detail, PATCH, DELETE), `rotate-secret/`, `test/`, the delivery log `deliveries/`, `recover/`
/// `{since}`, and `messages/{id}/replay/`. Messages are sent by the outbox (`onQueued` wakes it).
public enum WebhookRoutes {
    static let listPaths = ["/api/v1/webhooks/endpoints/"]
    static let itemPaths = ["/api/v1/webhooks/endpoints/{id}/"]

    public static func register(on router: inout Router, context: APIContext, settings: WebhookSettings,
                                onQueued: @escaping @Sendable () -> Void)
    {
        let store = WebhookEndpointStore(pool: context.pool)
        context.route(&router, .POST, listPaths, access: .staffOrService) { request in
            let input = try await WebhookEndpointInput.parse(try request.body(), partial: false, settings: settings)
            let secret = WebhookSignature.newSecret()
            let endpoint = try await store.create(url: input.url!, eventTypes: input.eventTypes!,
                                                  description: input.description ?? "", disabled: input.disabled ?? false,
                                                  secret: secret)
            var json = JSONWriter(capacity: 512)
            endpoint.write(to: &json, secret: secret)
            return .json(.created, json.bytes)
        }
        context.route(&router, .GET, listPaths, access: .staffOrService) { _ in
            let endpoints = try await store.list()
            return .json(.ok, resultsJSON(endpoints, bytesEach: 400) { endpoint, json in endpoint.write(to: &json) })
        }
        context.route(&router, .GET, itemPaths, access: .staffOrService) { request in
            guard let endpoint = try await store.find(id: try endpointID(request)) else { throw APIError.notFound("Webhook endpoint") }
            return answer(endpoint)
        }
        context.route(&router, .PATCH, itemPaths, access: .staffOrService) { request in
            let id = try endpointID(request)
            let input = try await WebhookEndpointInput.parse(try request.body(), partial: true, settings: settings)
            guard let endpoint = try await store.update(id: id, url: input.url, eventTypes: input.eventTypes,
                                                        description: input.description, disabled: input.disabled)
            else { throw APIError.notFound("Webhook endpoint") }
            return answer(endpoint)
        }
        context.route(&router, .DELETE, itemPaths, access: .staffOrService) { request in
            guard try await store.delete(id: try endpointID(request)) else { throw APIError.notFound("Webhook endpoint") }
            return HTTPResponse(status: .noContent)
        }
        context.route(&router, .POST, ["/api/v1/webhooks/endpoints/{id}/rotate-secret/"], access: .staffOrService) { request in
            let secret = WebhookSignature.newSecret()
            guard let endpoint = try await store.rotate(id: try endpointID(request), secret: secret) else {
                throw APIError.notFound("Webhook endpoint")
            }
            var json = JSONWriter(capacity: 512)
            endpoint.write(to: &json, secret: secret)
            return .json(.ok, json.bytes)
        }
        context.route(&router, .POST, ["/api/v1/webhooks/endpoints/{id}/test/"], access: .staffOrService) { request in
            try queued(try await store.queueTest(endpointID: try endpointID(request)), "Webhook endpoint", onQueued)
        }
        context.route(&router, .POST, ["/api/v1/webhooks/messages/{id}/replay/"], access: .staffOrService) { request in
            guard let id = request.http.parameter("id").flatMap({ Int64($0) }), id > 0 else {
                throw APIError.notFound("Webhook message")
            }
            return try queued(try await store.replay(messageID: id), "Webhook message", onQueued)
        }
        context.route(&router, .POST, ["/api/v1/webhooks/endpoints/{id}/recover/"], access: .staffOrService) { request in
            let id = try endpointID(request)
            let body = try request.body()
            var errors = FieldErrors()
            let since = body.string("since", &errors, required: true, maxLength: 64)
            if let since, !InboxTime.isTimestamp(since) { errors.add("since", "Use an ISO-8601 date or time.") }
            try errors.throwIfAny()
            guard let count = try await store.recover(endpointID: id, since: since!) else { throw APIError.notFound("Webhook endpoint") }
            guard count >= 0 else { throw disabledConflict }
            if count > 0 { onQueued() }
            var json = JSONWriter(capacity: 64)
            json.beginObject()
            json.field("queued", count)
            json.endObject()
            return .json(.accepted, json.bytes)
        }
        context.route(&router, .GET, ["/api/v1/webhooks/endpoints/{id}/deliveries/"], access: .staffOrService) { request in
            try await deliveries(request, store: store)
        }
    }

    static let disabledConflict = APIError(.conflict, code: "ENDPOINT_DISABLED", message: "The endpoint is disabled; enable it first.")

    private static func endpointID(_ request: APIRequest) throws(APIError) -> Int64 {
        guard let id = request.http.parameter("id").flatMap({ Int64($0) }), id > 0 else {
            throw APIError.notFound("Webhook endpoint")
        }
        return id
    }

    private static func answer(_ endpoint: WebhookEndpointStore.Endpoint) -> HTTPResponse {
        var json = JSONWriter(capacity: 512)
        endpoint.write(to: &json)
        return .json(.ok, json.bytes)
    }

    /// 202 `{message_id, webhook_id}` for a queued message, else 404 or 409.
    private static func queued(_ outcome: WebhookEndpointStore.Queued, _ resource: String,
                               _ onQueued: @Sendable () -> Void) throws(APIError) -> HTTPResponse
    {
        switch outcome {
        case .notFound:
            throw APIError.notFound(resource)
        case .conflict(let message):
            throw APIError(.conflict, code: message.contains("disabled") ? "ENDPOINT_DISABLED" : "MESSAGE_IN_FLIGHT",
                           message: message)
        case .queued(let id, let webhookID):
            onQueued()
            var json = JSONWriter(capacity: 96)
            json.beginObject()
            json.field("message_id", Int(id))
            json.field("webhook_id", webhookID)
            json.endObject()
            return .json(.accepted, json.bytes)
        }
    }

    static let statuses = ["PENDING", "SENDING", "RETRY", "DELIVERED", "FAILED"]

    /// The delivery log: each message (newest first) with every attempt, paged like every list.
    private static func deliveries(_ request: APIRequest, store: WebhookEndpointStore) async throws -> HTTPResponse {
        let id = try endpointID(request)
        let query = request.http.query
        var errors = FieldErrors()
        let pagination = Pagination(query, &errors, capped: false)
        let (page, size) = (pagination.page, pagination.size)
        let status = query["status"]?.uppercased()
        if let status, !statuses.contains(status) { errors.add("status", "Must be one of: \(statuses.joined(separator: ", ")).") }
        try errors.throwIfAny()
        guard let rows = try await store.deliveries(endpointID: id, status: status, offset: (page - 1) * size, limit: size) else {
            throw APIError.notFound("Webhook endpoint")
        }
        var total = rows.first?.int("total") ?? 0
        if rows.isEmpty && page > 1 { total = try await store.countDeliveries(endpointID: id, status: status) }
        var json = JSONWriter(capacity: 256 + rows.count * 1500)
        json.beginObject()
        json.field("count", total)
        json.field("page", page)
        json.field("page_size", size)
        json.key("results")
        json.beginArray()
        for row in rows {
            json.beginObject()
            json.field("id", row.int("id") ?? 0)
            json.field("webhook_id", row.string("webhook_id") ?? "")
            json.field("event_type", row.string("event_type") ?? "")
            json.field("status", row.string("status") ?? "")
            json.field("attempt_count", row.int("attempts") ?? 0)
            for name in ["last_error", "next_retry_at"] {
                json.key(name)
                if let value = row.string(name) { json.string(value) } else { json.null() }
            }
            json.field("created_at", row.string("created_at") ?? "")
            json.field("updated_at", row.string("updated_at") ?? "")
            json.key("payload"); json.raw(Array((row.string("payload") ?? "null").utf8))
            json.key("attempts"); json.raw(Array((row.string("attempt_log") ?? "[]").utf8))
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return .json(.ok, json.bytes)
    }
}
