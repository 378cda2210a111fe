import Hub

/// `GET /api/health/` in the Madrasti shape: `status`, `timestamp`, `version`, `database`.
public enum HealthRoutes {
    public static let version = "0.1.0"

    /// What the store reports; `not_configured` until the hub has a database.
    public typealias DatabaseStatus = @Sendable () -> String

    public static func register(on router: inout Router, database: @escaping DatabaseStatus = { "not_configured" }) {
        router.get("/api/health/") { _, responder in
            let state = database()
            let healthy = state == "connected" || state == "not_configured"
            var json = JSONWriter(capacity: 128)
            json.beginObject()
            json.field("status", healthy ? "healthy" : "unhealthy")
            json.field("timestamp", WallClock.iso8601())
            json.field("version", version)
            json.field("database", state)
            json.endObject()
            responder.respond(.json(healthy ? .ok : .serviceUnavailable, json.bytes))
        }
    }
}
