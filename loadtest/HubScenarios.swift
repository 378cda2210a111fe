import Foundation
import Hub
import NotifyDrivers
import Synchronization

/// Scenarios against the real channel: authenticated `/ws/notifications/` sessions held by worker
/// processes (`SessionWorker`), events posted over REST with a service key by this process,
/// latency measured from a monotonic timestamp carried in the event (the clock every process of
/// the machine shares).
enum HubScenarios {
    struct Context {
        let options: Options
        let loops: [EventLoop]
        let factory: ClientFactory
        let setup: HubSetup
        var run: String { options.run }
    }

    /// Starts the workers for `scenario` and waits until their sessions are connected.
    private static func startFleet(_ scenario: String, _ context: Context) throws -> (WorkerFleet, [SessionWorker.Ready], Double) {
        let options = context.options
        let plan = WorkerFleet.plan(connections: options.connections, requested: options.processes)
        say("loadtest: \(plan.explanation)")
        let started = Date()
        let fleet = try WorkerFleet(scenario: scenario, arguments: options.forwarded, connections: options.connections,
                                    count: plan.count, run: options.run)
        let ready = fleet.waitUntilReady(seconds: 900)
        return (fleet, ready, Date().timeIntervalSince(started))
    }

    private static func sessionsRow(_ result: SessionWorker.Result, _ options: Options) -> (String, String) {
        ("sessions", "\(result.connected) of \(options.connections) (\(result.failed) failed to connect, \(result.dropped) dropped)")
    }

    private static func latencyRow(_ latency: Percentiles) -> (String, String) {
        ("REST-to-receipt p50 / p99 / p999 / max ms",
         String(format: "%.3f / %.3f / %.3f / %.3f", latency.p50, latency.p99, latency.p999, latency.max))
    }

    /// `idle`: N sessions held for T seconds with heartbeats at the server's interval.
    static func idle(_ context: Context) throws {
        let options = context.options
        let baseline = options.pid.flatMap(residentKiB)
        let (fleet, ready, connectSeconds) = try startFleet("idle", context)
        let connected = ready.reduce(0) { $0 + $1.connected }
        Thread.sleep(forTimeInterval: options.seconds)
        let loaded = options.pid.flatMap(residentKiB)
        let result = fleet.collect()
        var rows = [sessionsRow(result, options), ("failures", "\(result.failed + result.dropped)"),
                    ("connect rate per second", String(format: "%.0f", Double(connected) / connectSeconds)),
                    ("held for", "\(Int(options.seconds)) s"), ("worker processes", "\(fleet.workers.count)")]
        var json: [String: Any] = ["connections": result.connected, "failures": result.failed + result.dropped,
                                   "connect_per_second": Double(connected) / connectSeconds, "processes": fleet.workers.count]
        if let baseline, let loaded {
            let perConnection = Double(loaded - baseline) * 1024 / Double(max(1, connected))
            rows += [("server RSS before / after", "\(baseline) KiB / \(loaded) KiB"),
                     ("server bytes per session", String(format: "%.0f", perConnection))]
            json["server_bytes_per_connection"] = perConnection
        }
        report("idle", rows, json: json)
    }

    /// `fanout`: N sessions; M broadcast events (`recipients: {all: true}`) posted over REST, all
    /// at once or paced at `--rate` per second; deliveries per second (first publish to last
    /// receipt) and publish-to-receipt latency.
    static func fanout(_ context: Context) throws {
        let options = context.options
        let (fleet, ready, _) = try startFleet("fanout", context)
        let expected = ready.reduce(0) { $0 + $1.connected } * options.messages
        let publisher = Publisher(options: options)
        let start = MonotonicClock.nowNanos()
        for sequence in 0..<options.messages {
            if options.rate > 0 { sleepUntil(start + UInt64(Double(sequence) / options.rate * 1e9)) }
            publisher.post(recipients: #"{"all":true}"#, sequence: sequence)
        }
        publisher.waitForAnswers(seconds: 120)
        _ = waitUntil(seconds: 120) { fleet.progress >= expected }
        let result = fleet.collect()
        let elapsed = Double(max(result.lastReceiptNanos, start + 1) - start) / 1e9
        let latency = Percentiles(result.samples), rest = publisher.answerTimes
        report("fanout", [
            sessionsRow(result, options),
            ("events", options.rate > 0 ? "\(options.messages) at \(options.rate)/s" : "\(options.messages) posted at once"),
            ("REST answers", "\(publisher.accepted) accepted, \(publisher.refused) refused"),
            ("deliveries", "\(result.received) of \(expected)"),
            ("deliveries per second", String(format: "%.0f", Double(result.received) / elapsed)),
            ("REST answer p50 / p99 ms", String(format: "%.3f / %.3f", rest.p50, rest.p99)),
            latencyRow(latency),
        ], json: ["connections": result.connected, "events": options.messages, "rate": options.rate,
                  "deliveries": result.received, "deliveries_per_second": Double(result.received) / elapsed,
                  "p50_ms": latency.p50, "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max,
                  "rest_p99_ms": rest.p99, "processes": fleet.workers.count])
    }

    /// `targeted`: N sessions; events to one random connected user each, posted at `--rate` per
    /// second for T s without waiting for the answers (an open loop, as many callers would).
    static func targeted(_ context: Context) throws {
        let options = context.options
        let (fleet, ready, _) = try startFleet("targeted", context)
        let ids = ready.flatMap(\.userIDs)
        guard !ids.isEmpty else { throw SetupError("no sessions connected") }
        let rate = max(options.rate, 1)
        let total = Int(rate * options.seconds)
        let publisher = Publisher(options: options)
        let start = MonotonicClock.nowNanos()
        for sequence in 0..<total {
            sleepUntil(start + UInt64(Double(sequence) / rate * 1e9))
            publisher.post(recipients: #"{"users":[\#(ids[Int.random(in: 0..<ids.count)])]}"#, sequence: sequence)
        }
        let elapsed = Double(MonotonicClock.nowNanos() - start) / 1e9
        publisher.waitForAnswers(seconds: 60)
        _ = waitUntil(seconds: 30) { fleet.progress >= publisher.accepted }
        let result = fleet.collect()
        let latency = Percentiles(result.samples), rest = publisher.answerTimes
        report("targeted", [
            sessionsRow(result, options),
            ("events posted", "\(total) in \(String(format: "%.1f", elapsed)) s (\(String(format: "%.0f", Double(total) / elapsed))/s)"),
            ("REST answers", "\(publisher.accepted) accepted, \(publisher.refused) refused"),
            ("pushes received", "\(result.received)"),
            ("REST answer p50 / p99 ms", String(format: "%.3f / %.3f", rest.p50, rest.p99)),
            latencyRow(latency),
        ], json: ["connections": result.connected, "posted": total, "accepted": publisher.accepted, "received": result.received,
                  "events_per_second": Double(total) / elapsed, "rest_p50_ms": rest.p50, "rest_p99_ms": rest.p99,
                  "p50_ms": latency.p50, "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max,
                  "processes": fleet.workers.count])
    }

    /// `churn`: `--connections` slots each connect (JWT checked by the server), get `connected`,
    /// close and reconnect, for T seconds; handshakes per second and errors.
    static func churn(_ context: Context) throws {
        let options = context.options
        let (fleet, _, _) = try startFleet("churn", context)
        Thread.sleep(forTimeInterval: options.seconds + 0.5)
        let result = fleet.collect()
        report("churn", [
            ("concurrent slots", "\(options.connections)"),
            ("handshakes (upgrade + JWT + connected)", "\(result.handshakes)"),
            ("handshakes per second", String(format: "%.0f", Double(result.handshakes) / options.seconds)),
            ("errors", "\(result.errors)"),
        ], json: ["slots": options.connections, "handshakes": result.handshakes,
                  "handshakes_per_second": Double(result.handshakes) / options.seconds, "errors": result.errors,
                  "processes": fleet.workers.count])
    }

    private static func sleepUntil(_ due: UInt64) {
        let now = MonotonicClock.nowNanos()
        if due > now { usleep(UInt32(min(1_000_000, (due - now) / 1000))) }
    }
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Posts events over REST with the service key through the drivers' non-blocking HTTP client:
/// `post` returns at once, so a burst is in flight together and a paced rate is kept whatever the
/// answer times. Answer times are recorded as the answers come.
final class Publisher: Sendable {
    static let loop: EventLoop = {
        let loop = try! EventLoop(index: 0, name: "loadtest-publisher")
        loop.start()
        return loop
    }()

    private let client = HTTPClient(loop: Publisher.loop, timeouts: .init(responseMillis: 60_000), maxConnectionsPerHost: 64)
    private let url: URL
    private let headers: [(String, String)]
    private let times = LatencyRecorder()
    private let posted = Counter(), accepts = Counter(), refusals = Counter()

    init(options: Options) {
        url = URL(string: "http://\(options.host):\(options.port)/api/v1/events/")!
        headers = [("Authorization", "Api-Key \(options.serviceKey)"), ("Content-Type", "application/json")]
    }

    func post(recipients: String, sequence: Int) {
        let sent = MonotonicClock.nowNanos()
        let body = #"{"type":"system_alert","recipients":\#(recipients),"data":{"message":"load \#(sequence)","sent_ns":\#(sent)}}"#
        posted.add()
        client.request("POST", url, headers: headers, body: Array(body.utf8)) { [self] result in
            times.add([UInt32(clamping: (MonotonicClock.nowNanos() - sent) / 1000)])
            if case .success(let response) = result, response.status == 202 { accepts.add() } else { refusals.add() }
        }
    }

    func waitForAnswers(seconds: Double) {
        _ = waitUntil(seconds: seconds) { accepts.current + refusals.current >= posted.current }
    }

    var accepted: Int { accepts.current }
    var refused: Int { refusals.current }
    var answerTimes: Percentiles { times.percentiles() }
}

/// Sends `heartbeat` on every session at the interval, from one timer per loop.
final class Heartbeats: @unchecked Sendable {
    // Safe: only read after init; the work runs on each loop.
    let loops: [EventLoop]
    init(loops: [EventLoop]) { self.loops = loops }

    func start(interval: Int) {
        let frame = WebSocketFrameEncoder.frame(.text, payload: Array(#"{"type":"heartbeat"}"#.utf8), maskKey: (1, 2, 3, 4))
        for loop in loops {
            loop.execute { Heartbeats.tick(loop, frame, interval) }
        }
    }

    static func tick(_ loop: EventLoop, _ frame: SharedBytes, _ interval: Int) {
        loop.schedule(afterMillis: Int64(interval) * 1000) {
            loop.forEachConnection { $0.send(frame) }
            tick(loop, frame, interval)
        }
    }
}
