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
        let plan = WorkerFleet.plan(connections: options.connections, requested: options.processes, nodes: options.nodes.count)
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
        let latency = Percentiles(result.samples.micros), rest = publisher.answerTimes
        let cluster = nodeFigures(fleet, options)
        report("fanout", [
            sessionsRow(result, options),
            ("events", options.rate > 0 ? "\(options.messages) at \(options.rate)/s" : "\(options.messages) posted at once"),
            ("REST answers", "\(publisher.accepted) accepted, \(publisher.refused) refused"),
            ("deliveries", "\(result.received) of \(expected)"),
            ("deliveries per second", String(format: "%.0f", Double(result.received) / elapsed)),
            ("REST answer p50 / p99 ms", String(format: "%.3f / %.3f", rest.p50, rest.p99)),
            latencyRow(latency),
        ] + cluster.rows + (options.rate > 0 ? windowRows(result.samples, publisher, start,
                                                          start + UInt64(Double(options.messages) / options.rate * 1e9),
                                                          seconds: options.window) : []),
        json: ["connections": result.connected, "events": options.messages, "rate": options.rate,
                  "deliveries": result.received, "deliveries_per_second": Double(result.received) / elapsed,
                  "p50_ms": latency.p50, "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max,
                  "rest_p99_ms": rest.p99, "processes": fleet.workers.count].merging(cluster.json) { $1 })
    }

    /// `targeted`: N sessions; events to one random connected user each, posted at `--rate` per
    /// second for T s without waiting for the answers (an open loop, as many callers would).
    /// `--fresh-database` empties the hub's tables first (a new deployment); `--find-max` raises
    /// the rate step by step instead, until p99 passes 50 ms.
    static func targeted(_ context: Context) throws {
        let options = context.options
        if options.freshDatabase { try context.setup.emptyHubTables() }
        if options.findMax { return try findMax(context) }
        let (fleet, ready, _) = try startFleet("targeted", context)
        let ids = ready.flatMap(\.userIDs)
        guard !ids.isEmpty else { throw SetupError("no sessions connected") }
        let rate = max(options.rate, 1)
        let total = Int(rate * options.seconds)
        let publisher = Publisher(options: options)
        let start = MonotonicClock.nowNanos()
        postPaced(publisher, ids: ids, rate: rate, count: total, from: start)
        let end = MonotonicClock.nowNanos()
        let elapsed = Double(end - start) / 1e9
        publisher.waitForAnswers(seconds: 60)
        _ = waitUntil(seconds: 30) { fleet.progress >= publisher.accepted }
        let result = fleet.collect()
        let latency = Percentiles(result.samples.micros), rest = publisher.answerTimes
        let windows = result.samples.windows(from: monotonicMillis(start), to: monotonicMillis(end),
                                             seconds: options.window)
        let cluster = nodeFigures(fleet, options)
        let figures: [String: Any] = [
            "connections": result.connected, "posted": total, "accepted": publisher.accepted, "received": result.received,
            "events_per_second": Double(total) / elapsed, "rest_p50_ms": rest.p50, "rest_p99_ms": rest.p99,
            "p50_ms": latency.p50, "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max,
            "worst_window_p99_ms": windows.map(\.1.p99).max() ?? 0, "windows": windows.count,
            "fresh_database": options.freshDatabase, "processes": fleet.workers.count,
        ]
        report("targeted", [
            sessionsRow(result, options),
            ("database", options.freshDatabase ? "emptied before the run (--fresh-database)" : "as found"),
            ("events posted", "\(total) in \(String(format: "%.1f", elapsed)) s (\(String(format: "%.0f", Double(total) / elapsed))/s)"),
            ("REST answers", "\(publisher.accepted) accepted, \(publisher.refused) refused"),
            ("pushes received", "\(result.received)"),
            ("REST answer p50 / p99 ms", String(format: "%.3f / %.3f", rest.p50, rest.p99)),
            latencyRow(latency),
        ] + cluster.rows + windowRows(result.samples, publisher, start, end, seconds: options.window),
        json: figures.merging(cluster.json) { $1 })
    }

    /// With `--nodes`: each node's sessions and latency, and, when events all go to one node
    /// (`--post-to i`), the latency of the sessions on the other nodes (what crossed the bus).
    static func nodeFigures(_ fleet: WorkerFleet, _ options: Options) -> (rows: [(String, String)], json: [String: Any]) {
        guard !options.nodes.isEmpty else { return ([], [:]) }
        let results = fleet.resultsByNode(options.nodes.count)
        var rows: [(String, String)] = []
        var nodes: [[String: Any]] = []
        for (index, (node, result)) in zip(options.nodes, results).enumerated() {
            let latency = Percentiles(result.samples.micros)
            rows.append(("node \(index + 1) \(node.host):\(node.port)",
                         String(format: "%d sessions, %d received, p50 / p99 / max %.3f / %.3f / %.3f ms",
                                result.connected, result.received, latency.p50, latency.p99, latency.max)))
            nodes.append(["node": "\(node.host):\(node.port)", "connections": result.connected, "received": result.received,
                          "p50_ms": latency.p50, "p99_ms": latency.p99, "max_ms": latency.max])
        }
        var json: [String: Any] = ["nodes": nodes, "post_to": options.postTo]
        if let posted = Int(options.postTo), posted >= 1, posted <= results.count, results.count > 1 {
            let others = WorkerFleet.merge(results.enumerated().filter { $0.offset != posted - 1 }.map(\.element))
            let latency = Percentiles(others.samples.micros)
            rows.append(("sessions on the other nodes", String(format: "%d received, p50 / p99 / max %.3f / %.3f / %.3f ms",
                                                               others.received, latency.p50, latency.p99, latency.max)))
            json["other_nodes_p50_ms"] = latency.p50
            json["other_nodes_p99_ms"] = latency.p99
            json["other_nodes_received"] = others.received
        }
        return (rows, json)
    }

    /// `targeted --find-max`: steps of `--step-seconds` at rising rates (from `--rate`, ×1.25 a
    /// step) until a step's p99 passes `--max-p99-ms` (50) or an event is refused or lost; reports
    /// the highest rate that held.
    static func findMax(_ context: Context) throws {
        let options = context.options
        let (fleet, ready, _) = try startFleet("targeted", context)
        let ids = ready.flatMap(\.userIDs)
        guard !ids.isEmpty else { throw SetupError("no sessions connected") }
        let publisher = Publisher(options: options)
        var rate = max(options.rate, 100), steps: [(rate: Double, start: UInt64, end: UInt64, answers: Percentiles)] = []
        while rate <= options.maxRate {
            let count = Int(rate * options.stepSeconds)
            let before = publisher.accepted + publisher.refused
            let start = MonotonicClock.nowNanos()
            publisher.resetAnswerWindow()
            postPaced(publisher, ids: ids, rate: rate, count: count, from: start)
            let end = MonotonicClock.nowNanos()
            _ = waitUntil(seconds: 20) { publisher.accepted + publisher.refused >= before + count }
            let answers = publisher.windowAnswerTimes
            steps.append((rate, start, end, answers))
            say(String(format: "loadtest: %.0f events/s for %.0f s: REST answer p99 %.1f ms, %d refused so far", rate,
                       options.stepSeconds, answers.p99, publisher.refused))
            if answers.p99 > options.maxP99Millis || publisher.refused > 0 { break }
            rate = (rate * 1.25).rounded()
        }
        _ = waitUntil(seconds: 30) { fleet.progress >= publisher.accepted }
        let result = fleet.collect()
        var rows = [sessionsRow(result, options)]
        var held = 0.0
        for step in steps {
            // [start, end]: the last event of a step is stamped within the millisecond `end` is read.
            let latency = result.samples.between(monotonicMillis(step.start), monotonicMillis(step.end) + 1)
            let ok = latency.p99 <= options.maxP99Millis && latency.count == Int(step.rate * options.stepSeconds)
            if ok && step.rate > held { held = step.rate }
            rows.append((String(format: "%.0f/s", step.rate),
                         String(format: "received %d, REST-to-receipt p50 %.2f / p99 %.2f ms%@", latency.count, latency.p50,
                                latency.p99, ok ? "" : "  (over)")))
        }
        rows.append(("highest rate that held", String(format: "%.0f events/s (p99 <= %.0f ms, every event received)", held,
                                                      options.maxP99Millis)))
        report("targeted-find-max", rows, json: ["connections": result.connected, "max_events_per_second": held,
                                                 "max_p99_ms": options.maxP99Millis, "step_seconds": options.stepSeconds,
                                                 "steps": steps.map(\.rate), "processes": fleet.workers.count])
    }

    /// `bulk`: N sessions; requests of `--events-per-request` events (each to a random user) to
    /// `/api/v1/events/bulk/` at `--rate` requests per second for T s.
    static func bulk(_ context: Context) throws {
        let options = context.options
        if options.freshDatabase { try context.setup.emptyHubTables() }
        let (fleet, ready, _) = try startFleet("targeted", context)
        let ids = ready.flatMap(\.userIDs)
        guard !ids.isEmpty else { throw SetupError("no sessions connected") }
        let rate = max(options.rate, 1), perRequest = max(1, options.eventsPerRequest)
        let total = Int(rate * options.seconds)
        let publisher = Publisher(options: options)
        let start = MonotonicClock.nowNanos()
        for sequence in 0..<total {
            sleepUntil(start + UInt64(Double(sequence) / rate * 1e9))
            publisher.postBulk((0..<perRequest).map { _ in ids[Int.random(in: 0..<ids.count)] }, sequence: sequence)
        }
        let end = MonotonicClock.nowNanos()
        let elapsed = Double(end - start) / 1e9
        publisher.waitForAnswers(seconds: 60)
        let expected = publisher.accepted * perRequest
        _ = waitUntil(seconds: 30) { fleet.progress >= expected }
        let result = fleet.collect()
        let latency = Percentiles(result.samples.micros), rest = publisher.answerTimes
        report("bulk", [
            sessionsRow(result, options),
            ("requests posted", "\(total) of \(perRequest) events in \(String(format: "%.1f", elapsed)) s"),
            ("notifications per second", String(format: "%.0f", Double(total * perRequest) / elapsed)),
            ("REST answers", "\(publisher.accepted) accepted, \(publisher.refused) refused"),
            ("pushes received", "\(result.received) of \(expected)"),
            ("REST answer p50 / p99 ms", String(format: "%.3f / %.3f", rest.p50, rest.p99)),
            latencyRow(latency),
        ] + windowRows(result.samples, publisher, start, end, seconds: options.window),
        json: ["connections": result.connected, "requests": total, "events_per_request": perRequest,
               "notifications_per_second": Double(total * perRequest) / elapsed, "accepted": publisher.accepted,
               "received": result.received, "expected": expected, "rest_p99_ms": rest.p99, "p50_ms": latency.p50,
               "p99_ms": latency.p99, "max_ms": latency.max, "processes": fleet.workers.count])
    }

    /// Events to random users of `ids` at `rate` per second, `count` of them, from `start`.
    private static func postPaced(_ publisher: Publisher, ids: [Int64], rate: Double, count: Int, from start: UInt64) {
        for sequence in 0..<count {
            sleepUntil(start + UInt64(Double(sequence) / rate * 1e9))
            publisher.post(recipients: #"{"users":[\#(ids[Int.random(in: 0..<ids.count)])]}"#, sequence: sequence)
        }
    }

    /// Per-window rows (`--window`, 10 s): REST-to-receipt and REST answer percentiles, so a
    /// collapse in the middle of a run shows instead of hiding in the overall figure.
    private static func windowRows(_ samples: TimedSamples, _ publisher: Publisher, _ start: UInt64, _ end: UInt64,
                                   seconds: Int) -> [(String, String)]
    {
        let origin = monotonicMillis(start)
        let answers = publisher.timedAnswers
        return samples.windows(from: origin, to: monotonicMillis(end), seconds: seconds).map { from, latency in
            let rest = answers.between(from, from + UInt32(seconds * 1000))
            let lower = Int(from - origin) / 1000
            return ("  window \(lower)-\(lower + seconds) s",
                    String(format: "%6d pushes, REST-to-receipt p50 %.2f / p99 %.2f / max %.2f ms; REST answer p99 %.2f ms",
                           latency.count, latency.p50, latency.p99, latency.max, rest.p99))
        }
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
    private let window = LatencyRecorder.Box()
    private let headers: [(String, String)]
    private let times = LatencyRecorder()
    private let posted = Counter(), accepts = Counter(), refusals = Counter()

    private let urls: [URL]
    private let bulkURLs: [URL]
    private let turn = Counter()

    init(options: Options) {
        urls = options.postNodes.map { URL(string: "http://\($0.host):\($0.port)/api/v1/events/")! }
        bulkURLs = options.postNodes.map { URL(string: "http://\($0.host):\($0.port)/api/v1/events/bulk/")! }
        headers = [("Authorization", "Api-Key \(options.serviceKey)"), ("Content-Type", "application/json")]
    }

    func post(recipients: String, sequence: Int) {
        let sent = MonotonicClock.nowNanos()
        let body = #"{"type":"system_alert","recipients":\#(recipients),"data":{"message":"load \#(sequence)","sent_ns":\#(sent)}}"#
        posted.add()
        send(next(urls), body, sent: sent)
    }

    /// One request to `events/bulk/` with an event for each of `users`.
    func postBulk(_ users: [Int64], sequence: Int) {
        let sent = MonotonicClock.nowNanos()
        let events = users.enumerated().map { index, user in
            #"{"type":"system_alert","recipients":{"users":[\#(user)]},"data":{"message":"bulk \#(sequence).\#(index)","sent_ns":\#(sent)}}"#
        }
        posted.add()
        send(next(bulkURLs), #"{"events":[\#(events.joined(separator: ","))]}"#, sent: sent)
    }

    /// The node of the next request: the one named by `--post-to`, or each in turn.
    private func next(_ list: [URL]) -> URL {
        guard list.count > 1 else { return list[0] }
        turn.add()
        return list[turn.current % list.count]
    }

    private func send(_ url: URL, _ body: String, sent: UInt64) {
        client.request("POST", url, headers: headers, body: Array(body.utf8)) { [self] result in
            let micros = UInt32(clamping: (MonotonicClock.nowNanos() - sent) / 1000)
            times.add(micros: micros, sentMillis: monotonicMillis(sent))
            window.recorder.add([micros])
            if case .success(let response) = result, response.status == 202 { accepts.add() } else { refusals.add() }
        }
    }

    func waitForAnswers(seconds: Double) {
        _ = waitUntil(seconds: seconds) { accepts.current + refusals.current >= posted.current }
    }

    var accepted: Int { accepts.current }
    var refused: Int { refusals.current }
    var answerTimes: Percentiles { times.percentiles() }
    var timedAnswers: TimedSamples { times.timed }
    /// Answer times since the last `resetAnswerWindow` (a step of --find-max).
    var windowAnswerTimes: Percentiles { window.recorder.percentiles() }
    func resetAnswerWindow() { window.reset() }
}

/// Sends `heartbeat` on every session at the interval, each session at its own phase (its
/// identity's slot among the interval's 100-ms ticks), as browsers that connected at different
/// moments do: not all 10,000 in the same millisecond, which measured a burst no hub sees.
final class Heartbeats: @unchecked Sendable {
    // Safe: only read after init; the work runs on each loop.
    let loops: [EventLoop]
    init(loops: [EventLoop]) { self.loops = loops }

    static let tickMillis: Int64 = 100

    func start(interval: Int) {
        let frame = WebSocketFrameEncoder.frame(.text, payload: Array(#"{"type":"heartbeat"}"#.utf8), maskKey: (1, 2, 3, 4))
        let slots = max(1, Int(Int64(interval) * 1000 / Self.tickMillis))
        for loop in loops {
            loop.execute { Heartbeats.tick(loop, frame, slots: slots, slot: 0) }
        }
    }

    static func tick(_ loop: EventLoop, _ frame: SharedBytes, slots: Int, slot: Int) {
        loop.schedule(afterMillis: tickMillis) {
            loop.forEachConnection { connection in
                if ObjectIdentifier(connection).hashValue.magnitude % UInt(slots) == UInt(slot) { connection.send(frame) }
            }
            tick(loop, frame, slots: slots, slot: (slot + 1) % slots)
        }
    }
}
