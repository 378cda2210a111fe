import Channels
import Foundation
import Hub
import Synchronization

/// Counters for `/metrics`, fed by the access log and read by the Prometheus endpoint.
public final class Metrics: Sendable {
    private struct RequestKey: Hashable {
        let method: HTTPMethod
        let status: Int
    }

    private struct Counts {
        var requests: [RequestKey: Int] = [:]
        var durationCount = 0
        var durationSumMicros: Int64 = 0
    }

    /// One lock per request, taken on the loop that answered; labels are formatted only when scraped.
    private let counts = Locked(Counts())

    public init() {}

    public func record(_ record: HTTPServer.AccessRecord) {
        counts.withLock { counts in
            counts.requests[RequestKey(method: record.method, status: record.status), default: 0] += 1
            counts.durationCount += 1
            counts.durationSumMicros += record.durationMicros
        }
    }

    var requestCounts: [String: Int] {
        let requests = counts.withLock { $0.requests }
        return Dictionary(uniqueKeysWithValues: requests.map { ("method=\"\($0.key.method)\",status=\"\($0.key.status)\"", $0.value) })
    }

    var duration: (count: Int, sumMicros: Int64) { counts.withLock { ($0.durationCount, $0.durationSumMicros) } }
}

/// `GET /metrics` in the Prometheus text format: connections, sessions, published frames, HTTP
/// requests by method and status, outbox outcomes per channel and the outbox depth.
public enum MetricsRoutes {
    public struct Sources: Sendable {
        public var metrics: Metrics
        public var connections: @Sendable () -> Int
        public var hub: ChannelHub?
        public var pool: DatabasePool?
        public var outboxOutcomes: @Sendable () -> [String: Int]
        /// The cluster bus (nil: one node, `HUB_BUS=memory`) and this node's id.
        public var bus: PostgresBus?
        public var nodeID: String?

        public init(metrics: Metrics, connections: @escaping @Sendable () -> Int, hub: ChannelHub?, pool: DatabasePool?,
                    outboxOutcomes: @escaping @Sendable () -> [String: Int])
        {
            self.metrics = metrics
            self.connections = connections
            self.hub = hub
            self.pool = pool
            self.outboxOutcomes = outboxOutcomes
        }
    }

    public static func register(on router: inout Router, sources: Sources) {
        router.get("/metrics") { _, responder in
            Task {
                var lines: [String] = []
                func gauge(_ name: String, _ help: String, _ value: Int) {
                    lines += ["# HELP \(name) \(help)", "# TYPE \(name) gauge", "\(name) \(value)"]
                }
                gauge("hub_connections", "Open TCP connections (HTTP and WebSocket).", sources.connections())
                if let node = sources.nodeID {
                    lines += ["# HELP hub_node_info This node's id.", "# TYPE hub_node_info gauge",
                              "hub_node_info{node=\"\(BusHealth.labelValue(node))\"} 1"]
                }
                if let bus = sources.bus { lines += BusHealth.metrics(bus.status) }
                if let hub = sources.hub {
                    gauge("hub_ws_sessions", "Authenticated /ws/notifications sessions.", hub.sessionCount)
                    lines += ["# HELP hub_ws_frames_published_total Frames built by publishes (one per publish).",
                              "# TYPE hub_ws_frames_published_total counter", "hub_ws_frames_published_total \(hub.frameCount)"]
                }
                lines += ["# HELP hub_http_requests_total HTTP requests by method and status.", "# TYPE hub_http_requests_total counter"]
                for (labels, count) in sources.metrics.requestCounts.sorted(by: { $0.key < $1.key }) {
                    lines.append("hub_http_requests_total{\(labels)} \(count)")
                }
                let duration = sources.metrics.duration
                lines += ["# HELP hub_http_request_duration_seconds Time from dispatch to answer.",
                          "# TYPE hub_http_request_duration_seconds summary",
                          "hub_http_request_duration_seconds_count \(duration.count)",
                          "hub_http_request_duration_seconds_sum \(Double(duration.sumMicros) / 1_000_000)"]
                lines += ["# HELP hub_outbox_outcomes_total Delivery attempts by channel and outcome.",
                          "# TYPE hub_outbox_outcomes_total counter"]
                for (key, count) in sources.outboxOutcomes().sorted(by: { $0.key < $1.key }) {
                    let parts = key.split(separator: ":")
                    lines.append("hub_outbox_outcomes_total{channel=\"\(parts[0])\",outcome=\"\(parts[1])\"} \(count)")
                }
                if let pool = sources.pool {
                    // Due rows are the backlog; rows due later (escalation steps, digests, quiet hours,
                    // retries waiting) are counted apart, so an alert on the backlog does not fire on them.
                    let depth = try? await pool.run { connection in
                        try connection.executePrepared("""
                            SELECT channel, status, count(*) FILTER (WHERE available_at <= now()) AS due,
                                count(*) FILTER (WHERE available_at > now()) AS later
                            FROM deliveries WHERE status IN ('PENDING', 'RETRY', 'SENDING')
                            GROUP BY channel, status ORDER BY channel, status
                            """).rows.map { ($0.string("channel") ?? "", $0.string("status") ?? "", $0.int("due") ?? 0,
                                             $0.int("later") ?? 0) }
                    }
                    lines += ["# HELP hub_outbox_depth Deliveries due and not yet sent, by channel and status.",
                              "# TYPE hub_outbox_depth gauge"]
                    for (channel, status, due, _) in depth ?? [] {
                        lines.append("hub_outbox_depth{channel=\"\(channel)\",status=\"\(status)\"} \(due)")
                    }
                    lines += ["# HELP hub_outbox_scheduled Deliveries due later (steps, digests, quiet hours, back-off).",
                              "# TYPE hub_outbox_scheduled gauge"]
                    for (channel, status, _, later) in depth ?? [] {
                        lines.append("hub_outbox_scheduled{channel=\"\(channel)\",status=\"\(status)\"} \(later)")
                    }
                    gauge("hub_database_up", "1 when PostgreSQL answers.", depth == nil ? 0 : 1)
                }
                responder.respond(.text(.ok, lines.joined(separator: "\n") + "\n", contentType: "text/plain; version=0.0.4"))
            }
        }
    }
}
