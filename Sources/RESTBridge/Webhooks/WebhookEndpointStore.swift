import Hub
import NotifyDrivers

/// The webhook endpoints and their delivery log: CRUD, secret rotation (the old secret signs
/// beside the new one for 24 h), test messages, replay of one message and recovery of every
/// failed one since a time. Messages themselves are WEBHOOK rows of `deliveries`.
public struct WebhookEndpointStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    /// How long a rotated-out secret keeps signing.
    static let rotationOverlap = "24 hours"

    static let columns = """
        id, url, description, array_to_json(event_types)::text AS event_types, disabled, disabled_reason, hub_iso(failing_since) AS failing_since,
        CASE WHEN previous_secret_until > now() THEN hub_iso(previous_secret_until) END AS previous_secret_expires_at,
        hub_iso(created_at) AS created_at, hub_iso(updated_at) AS updated_at
        """

    /// One endpoint as the API shows it (never its secret, except when it is made).
    public struct Endpoint: Sendable {
        let row: QueryResult.Row

        var id: Int64 { Int64(row.int("id") ?? 0) }
        var disabled: Bool { row.bool("disabled") ?? false }

        func write(to json: inout JSONWriter, secret: String? = nil) {
            json.beginObject()
            json.field("id", Int(id))
            json.field("url", row.string("url") ?? "")
            json.field("description", row.string("description") ?? "")
            json.key("event_types"); json.raw(Array((row.string("event_types") ?? "[]").utf8))
            json.field("disabled", disabled)
            for name in ["disabled_reason", "failing_since", "previous_secret_expires_at"] {
                json.key(name)
                if let value = row.string(name) { json.string(value) } else { json.null() }
            }
            json.field("created_at", row.string("created_at") ?? "")
            json.field("updated_at", row.string("updated_at") ?? "")
            if let secret { json.field("secret", secret) }
            json.endObject()
        }
    }

    public func create(url: String, eventTypes: [String], description: String, disabled: Bool, secret: String) async throws
        -> Endpoint
    {
        try await pool.run { connection in
            let row = try connection.executePrepared("""
                INSERT INTO webhook_endpoints (url, event_types, description, disabled, disabled_reason, secret)
                VALUES ($1, $2::text[], $3, $4::boolean, CASE WHEN $4::boolean THEN 'Disabled through the API.' END, $5)
                RETURNING \(Self.columns)
                """, [url, PostgresArray.text(eventTypes), description, disabled ? "true" : "false", secret]).first
            guard let row else { throw DatabaseError.query(sqlState: "", message: "INSERT answered no row") }
            return Endpoint(row: row)
        }
    }

    public func list() async throws -> [Endpoint] {
        try await pool.run { connection in
            try connection.executePrepared("SELECT \(Self.columns) FROM webhook_endpoints ORDER BY id").rows.map(Endpoint.init)
        }
    }

    public func find(id: Int64) async throws -> Endpoint? {
        try await pool.run { connection in
            try connection.executePrepared("SELECT \(Self.columns) FROM webhook_endpoints WHERE id = $1", [String(id)])
                .first.map(Endpoint.init)
        }
    }

    /// Changes what is given; enabling again clears the reason and the failure streak.
    public func update(id: Int64, url: String?, eventTypes: [String]?, description: String?, disabled: Bool?) async throws
        -> Endpoint?
    {
        try await pool.run { connection in
            try connection.executePrepared("""
                UPDATE webhook_endpoints SET url = COALESCE($2, url), event_types = COALESCE($3::text[], event_types),
                    description = COALESCE($4, description), disabled = COALESCE($5::boolean, disabled),
                    disabled_reason = CASE WHEN $5::boolean IS NULL THEN disabled_reason
                        WHEN $5::boolean THEN COALESCE(disabled_reason, 'Disabled through the API.') END,
                    failing_since = CASE WHEN $5::boolean = false THEN NULL ELSE failing_since END,
                    updated_at = now()
                WHERE id = $1 RETURNING \(Self.columns)
                """, [String(id), url, eventTypes.map(PostgresArray.text), description, disabled.map { $0 ? "true" : "false" }])
                .first.map(Endpoint.init)
        }
    }

    public func delete(id: Int64) async throws -> Bool {
        try await pool.run { connection in
            try connection.executePrepared("DELETE FROM webhook_endpoints WHERE id = $1", [String(id)]).affectedRows == 1
        }
    }

    /// A new secret; the current one keeps signing beside it for `rotationOverlap`.
    public func rotate(id: Int64, secret: String) async throws -> Endpoint? {
        try await pool.run { connection in
            try connection.executePrepared("""
                UPDATE webhook_endpoints SET previous_secret = secret,
                    previous_secret_until = now() + interval '\(Self.rotationOverlap)', secret = $2, updated_at = now()
                WHERE id = $1 RETURNING \(Self.columns)
                """, [String(id), secret]).first.map(Endpoint.init)
        }
    }

    /// What a request about one message or endpoint found.
    public enum Queued: Sendable {
        case queued(id: Int64, webhookID: String)
        case notFound
        /// The endpoint is disabled, or the message is being sent right now.
        case conflict(String)
    }

    /// Queues a `webhook.test` message for the endpoint, subscribed to it or not.
    public func queueTest(endpointID: Int64) async throws -> Queued {
        try await pool.run { connection in
            let row = try connection.executePrepared("""
                WITH target AS (SELECT id, disabled FROM webhook_endpoints WHERE id = $1),
                queued AS (\(WebhookOutbox.insert(type: "'webhook.test'", data: """
                    jsonb_build_object('endpoint_id', e.id, 'message', 'A test message from the hub.')
                    """, from: "target t", endpoints: "e.id = t.id AND NOT t.disabled")) RETURNING id, webhook_id)
                SELECT t.disabled, q.id, q.webhook_id FROM target t LEFT JOIN queued q ON true
                """, [String(endpointID)]).first
            guard let row else { return .notFound }
            guard let id = row.int("id") else { return .conflict("The endpoint is disabled; enable it first.") }
            return .queued(id: Int64(id), webhookID: row.string("webhook_id") ?? "")
        }
    }

    /// Sends a message again, now, with its webhook-id, whatever became of it before.
    public func replay(messageID: Int64) async throws -> Queued {
        try await pool.run { connection in
            let row = try connection.executePrepared("""
                WITH target AS (
                    SELECT d.id, d.status, d.webhook_id, e.disabled FROM deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                    WHERE d.id = $1 AND d.channel = 'WEBHOOK' FOR UPDATE OF d),
                replayed AS (
                    UPDATE deliveries d SET status = 'PENDING', attempts = 0, available_at = now(), last_error = NULL,
                        updated_at = now()
                    FROM target t WHERE d.id = t.id AND t.status <> 'SENDING' AND NOT t.disabled RETURNING d.id)
                SELECT t.status, t.disabled, t.webhook_id, (SELECT count(*) FROM replayed) AS replayed FROM target t
                """, [String(messageID)]).first
            guard let row else { return .notFound }
            if row.int("replayed") == 1 { return .queued(id: messageID, webhookID: row.string("webhook_id") ?? "") }
            if row.bool("disabled") == true { return .conflict("The endpoint is disabled; enable it first.") }
            return .conflict("The message is being sent right now.")
        }
    }

    /// Queues again every failed message of the endpoint created since `since`; answers how many
    /// (nil: no such endpoint; -1: it is disabled).
    public func recover(endpointID: Int64, since: String) async throws -> Int? {
        try await pool.run { connection in
            let row = try connection.executePrepared("""
                WITH target AS (SELECT id, disabled FROM webhook_endpoints WHERE id = $1),
                recovered AS (
                    UPDATE deliveries d SET status = 'PENDING', attempts = 0, available_at = now(), last_error = NULL,
                        updated_at = now()
                    FROM target t WHERE NOT t.disabled AND d.endpoint_id = t.id AND d.status = 'FAILED'
                        AND d.created_at >= $2::timestamptz
                    RETURNING d.id)
                SELECT t.disabled, (SELECT count(*) FROM recovered) AS count FROM target t
                """, [String(endpointID), since]).first
            guard let row else { return nil }
            return row.bool("disabled") == true ? -1 : row.int("count") ?? 0
        }
    }

    /// One page of an endpoint's messages, newest first, each with its attempts, and the total.
    public func deliveries(endpointID: Int64, status: String?, offset: Int, limit: Int) async throws -> [QueryResult.Row]? {
        try await pool.run { connection in
            guard try connection.executePrepared("SELECT 1 FROM webhook_endpoints WHERE id = $1", [String(endpointID)]).first
                != nil else { return nil }
            return try connection.executePrepared("""
                SELECT d.id, d.webhook_id, d.event_type, d.status, d.attempts, d.last_error, d.payload,
                    hub_iso(d.created_at) AS created_at, hub_iso(d.updated_at) AS updated_at,
                    CASE WHEN d.status IN ('PENDING', 'RETRY') THEN hub_iso(d.available_at) END AS next_retry_at,
                    COALESCE((SELECT json_agg(json_build_object('attempted_at', hub_iso(a.attempted_at),
                        'status_code', a.status_code, 'response', a.response, 'error', a.error,
                        'duration_ms', a.duration_ms, 'next_retry_at', hub_iso(a.next_retry_at)) ORDER BY a.id)
                        FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]')::text AS attempt_log,
                    count(*) OVER () AS total
                FROM deliveries d WHERE d.endpoint_id = $1 AND d.channel = 'WEBHOOK' AND ($2::text IS NULL OR d.status = $2)
                ORDER BY d.id DESC OFFSET $3 LIMIT $4
                """, [String(endpointID), status, String(offset), String(limit)]).rows
        }
    }

    /// The total of a page's query even when the page is past the end (then no row carries it).
    public func countDeliveries(endpointID: Int64, status: String?) async throws -> Int {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT count(*) AS n FROM deliveries WHERE endpoint_id = $1 AND channel = 'WEBHOOK'
                    AND ($2::text IS NULL OR status = $2)
                """, [String(endpointID), status]).first?.int("n") ?? 0
        }
    }
}
