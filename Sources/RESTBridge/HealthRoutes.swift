import Foundation
import Hub
import Synchronization

/// `GET /api/health/` in the Madrasti shape: `status`, `timestamp`, `version`, `database`
/// (`connected`, `unavailable`, or `not_configured` when the hub runs without a store); with a
/// store also `node`, `bus` and `peers` (BusHealth).
public enum HealthRoutes {
    public static let version = "0.2.0"

    /// The node and its bus (nil bus: `HUB_BUS=memory`).
    public struct Cluster: Sendable {
        public let nodeID: String
        public let bus: PostgresBus?

        public init(nodeID: String, bus: PostgresBus?) {
            self.nodeID = nodeID
            self.bus = bus
        }
    }

    public static func register(on router: inout Router, probe: DatabaseProbe? = nil, cluster: Cluster? = nil) {
        router.get("/api/health/") { _, responder in
            guard let probe else {
                responder.respond(body(database: "not_configured"))
                return
            }
            Task { responder.respond(body(database: await probe.status().rawValue, cluster: cluster)) }
        }
    }

    static func body(database: String, cluster: Cluster? = nil) -> HTTPResponse {
        let healthy = database == "connected" || database == "not_configured"
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.field("status", healthy ? "healthy" : "unhealthy")
        json.field("timestamp", WallClock.iso8601())
        json.field("version", version)
        json.field("database", database)
        if let cluster { BusHealth.write(nodeID: cluster.nodeID, bus: cluster.bus, to: &json) }
        json.endObject()
        return .json(healthy ? .ok : .serviceUnavailable, json.bytes)
    }
}

/// Asks PostgreSQL `SELECT 1` at most once a second (health checks must not load the database),
/// giving up after two seconds.
public final class DatabaseProbe: Sendable {
    private let pool: DatabasePool
    private let cached = Locked<(status: DatabasePool.Health, at: Double)?>(nil)

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    public func status() async -> DatabasePool.Health {
        let now = Date().timeIntervalSince1970
        if let last = cached.withLock({ $0 }), now - last.at < 1 { return last.status }
        let status: DatabasePool.Health = await withTaskGroup(of: DatabasePool.Health?.self) { group in
            group.addTask { [pool] in
                (try? await pool.run { connection in try connection.executePrepared("SELECT 1") }) != nil ? .connected : .unavailable
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: 2_000_000_000)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .unavailable
        }
        cached.withLock { $0 = (status, now) }
        return status
    }
}
