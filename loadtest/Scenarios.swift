import Foundation
import Hub

struct Options {
    var host = "127.0.0.1"
    var port = 8000
    var connections = 1000
    var messages = 100
    var seconds = 10.0
    var threads = 2
    var pid: Int32?
    var path = ""
    var rate = 0.0
    var connectRate = 4000.0
    /// Size of each ws-broadcast message (a stamp, then padding); a notification push is ~770 bytes.
    var messageBytes = 40
    var databaseURL = ""
    var jwtSecret = ""
    var serviceKey = ""
    /// Keep the normal scheduling policy instead of SCHED_BATCH (see main.swift).
    var interactive = false
    /// Worker processes for the hub scenarios (0: as many as the descriptor limit needs).
    var processes = 0
    var workerIndex = 0
    /// Tags the users this run creates (`load-<run>-<worker>-<n>@bench.local`).
    var run = String(UUID().uuidString.prefix(8)).lowercased()
    /// Empty the hub's tables before the run (`--fresh-database`): a new deployment.
    var freshDatabase = false
    /// `targeted --find-max`: rising rates until p99 passes `maxP99Millis`.
    var findMax = false
    var stepSeconds = 10.0
    var maxRate = 20_000.0
    var maxP99Millis = 50.0
    /// `bulk`: events in each request.
    var eventsPerRequest = 100
    /// Figures are also given per window of this many seconds (`--window`): 2 lines a stall up
    /// with the server's own log (a checkpoint, an autovacuum) to the second.
    var window = 10
    /// The arguments as given, for the worker processes.
    var forwarded: [String] = []
    /// `--nodes host:port,…`: several hubd nodes of one cluster. Sessions are spread over them
    /// (worker process i holds its sessions on node i mod N); events go to `postTo`.
    var nodes: [(host: String, port: Int)] = []
    /// `--post-to`: `round-robin` (default), or the 1-based index of one node in `--nodes`.
    var postTo = "round-robin"

    /// The node a worker process connects its sessions to (the one of `--host`/`--port` without `--nodes`).
    func node(ofWorker index: Int) -> (host: String, port: Int) {
        nodes.isEmpty ? (host, port) : nodes[index % nodes.count]
    }

    /// The nodes events are posted to, in turn.
    var postNodes: [(host: String, port: Int)] {
        guard !nodes.isEmpty else { return [(host, port)] }
        if let index = Int(postTo), index >= 1, index <= nodes.count { return [nodes[index - 1]] }
        return nodes
    }

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        options.forwarded = arguments
        var index = 0
        var arguments = arguments
        for (flag, keyPath) in [("--interactive", \Options.interactive), ("--fresh-database", \Options.freshDatabase),
                                ("--find-max", \Options.findMax)]
        {
            if let index = arguments.firstIndex(of: flag) {
                options[keyPath: keyPath] = true
                arguments.remove(at: index)
            }
        }
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "--host": options.host = value
            case "--port": options.port = Int(value) ?? options.port
            case "--connections", "-c": options.connections = Int(value) ?? options.connections
            case "--messages", "-m": options.messages = Int(value) ?? options.messages
            case "--seconds", "-d": options.seconds = Double(value) ?? options.seconds
            case "--threads": options.threads = Int(value) ?? options.threads
            case "--pid": options.pid = Int32(value)
            case "--path": options.path = value
            case "--rate": options.rate = Double(value) ?? options.rate
            case "--connect-rate": options.connectRate = max(1, Double(value) ?? options.connectRate)
            case "--message-bytes": options.messageBytes = max(32, Int(value) ?? options.messageBytes)
            case "--database-url": options.databaseURL = value
            case "--jwt-secret": options.jwtSecret = value
            case "--service-key": options.serviceKey = value
            case "--processes": options.processes = max(0, Int(value) ?? 0)
            case "--worker-index": options.workerIndex = Int(value) ?? 0
            case "--run": options.run = value
            case "--step-seconds": options.stepSeconds = max(1, Double(value) ?? options.stepSeconds)
            case "--window": options.window = max(1, Int(value) ?? options.window)
            case "--max-rate": options.maxRate = Double(value) ?? options.maxRate
            case "--max-p99-ms": options.maxP99Millis = Double(value) ?? options.maxP99Millis
            case "--events-per-request": options.eventsPerRequest = max(1, Int(value) ?? options.eventsPerRequest)
            case "--nodes":
                options.nodes = value.split(separator: ",").compactMap { item in
                    guard let colon = item.lastIndex(of: ":"), let port = Int(item[item.index(after: colon)...]) else { return nil }
                    return (String(item[..<colon]), port)
                }
            case "--post-to": options.postTo = value
            default: break
            }
            index += 2
        }
        return options
    }
}

/// Timestamps in payloads: the monotonic clock is shared by every process of the machine.
func stampedPayload(sequence: Int, padding: Int = 0) -> [UInt8] {
    Array("\(MonotonicClock.nowNanos()) \(sequence) ".utf8) + [UInt8](repeating: 0x2E, count: padding)
}

func latencyMicros(of payload: [UInt8], now: UInt64) -> UInt32 {
    let end = payload.firstIndex(of: 0x20) ?? payload.count
    let sent = UInt64(String(decoding: payload[0..<end], as: UTF8.self)) ?? now
    return UInt32(clamping: (now &- sent) / 1000)
}

enum Scenarios {
    /// Each connection sends a message, waits for its echo, and sends the next, for `seconds`.
    static func echo(_ options: Options, loops: [EventLoop], factory: ClientFactory) {
        let opened = Counter(), roundTrips = Counter()
        let recorder = LatencyRecorder()
        let stop = Counter()
        for index in 0..<options.connections {
            factory.connect(index: index, path: options.path.isEmpty ? "/ws/echo/" : options.path) { client in
                var samples: [UInt32] = []
                client.onOpen = { client in
                    opened.add()
                    client.send(text: stampedPayload(sequence: 0, padding: 32))
                }
                client.onText = { client, payload in
                    samples.append(latencyMicros(of: payload, now: MonotonicClock.nowNanos()))
                    roundTrips.add()
                    if stop.current == 0 {
                        client.send(text: stampedPayload(sequence: 0, padding: 32))
                    } else if !samples.isEmpty {
                        recorder.add(samples)
                        samples = []
                    }
                }
            }
        }
        _ = waitUntil(seconds: 60) { opened.current == options.connections }
        let start = MonotonicClock.nowNanos()
        let before = roundTrips.current
        Thread.sleep(forTimeInterval: options.seconds)
        stop.add()
        let done = roundTrips.current - before
        let elapsed = Double(MonotonicClock.nowNanos() - start) / 1e9
        Thread.sleep(forTimeInterval: 0.5)
        let latency = recorder.percentiles()
        report("ws-echo", [
            ("connections", "\(opened.current) of \(options.connections)"),
            ("round trips per second", String(format: "%.0f", Double(done) / elapsed)),
            ("latency p50 / p99 / p999 / max ms", String(format: "%.3f / %.3f / %.3f / %.3f", latency.p50, latency.p99,
                                                         latency.p999, latency.max)),
        ], json: ["connections": opened.current, "round_trips_per_second": Double(done) / elapsed,
                  "p50_ms": latency.p50, "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max])
    }

    /// `ws-churn`: C slots each connect, upgrade on /ws/echo/ (no token, no database), close and
    /// reconnect, for T seconds: the raw upgrade rate that `churn` (JWT + `connected`) is compared to.
    static func churn(_ options: Options, factory: ClientFactory) {
        let path = options.path.isEmpty ? "/ws/echo/" : options.path
        let (upgrades, errors) = churnSlots(options.connections, seconds: options.seconds, factory: factory, path: path,
                                            headers: { _ in [] }, readyOnOpen: true)
        Thread.sleep(forTimeInterval: options.seconds + 0.5)
        report("ws-churn", [
            ("concurrent slots", "\(options.connections)"),
            ("upgrades (no token, no database)", "\(upgrades.current)"),
            ("upgrades per second", String(format: "%.0f", Double(upgrades.current) / options.seconds)),
            ("errors", "\(errors.current)"),
        ], json: ["slots": options.connections, "upgrades": upgrades.current,
                  "upgrades_per_second": Double(upgrades.current) / options.seconds, "errors": errors.current])
    }

    /// `slots` connections that each connect, count one handshake when ready (the upgrade, or the
    /// hub's `connected` message), close and connect again, until `seconds` pass; a connection
    /// closed before it was ready counts as an error.
    static func churnSlots(_ slots: Int, seconds: Double, factory: ClientFactory, path: String,
                           headers: @escaping @Sendable (Int) -> [String], readyOnOpen: Bool) -> (handshakes: Counter, errors: Counter)
    {
        let handshakes = Counter(), errors = Counter()
        let deadline = Date().addingTimeInterval(seconds)
        let connected = Array(#"{"type":"connected""#.utf8)
        @Sendable func open(_ slot: Int) {
            guard Date() < deadline else { return }
            factory.connect(index: slot, path: path, headers: headers(slot)) { client in
                var ready = false
                func done(_ client: WebSocketClient) {
                    ready = true
                    handshakes.add()
                    client.connection?.close()
                }
                if readyOnOpen {
                    client.onOpen = { done($0) }
                } else {
                    client.onText = { client, payload in if !ready && payload.starts(with: connected) { done(client) } }
                }
                client.onClose = { _ in
                    if !ready { errors.add() }
                    open(slot)
                }
            }
        }
        for slot in 0..<slots { open(slot) }
        return (handshakes, errors)
    }

    /// N connections on /ws/broadcast/; one of them publishes `messages` messages, each stamped;
    /// every receipt's latency is measured from the publish. The server frames each message once.
    static func broadcast(_ options: Options, loops: [EventLoop], factory: ClientFactory) {
        let opened = Counter(), received = Counter()
        let recorder = LatencyRecorder()
        let expected = options.connections * options.messages
        let baseline = options.pid.flatMap(residentKiB)
        for index in 0..<options.connections {
            factory.connect(index: index, path: options.path.isEmpty ? "/ws/broadcast/" : options.path) { client in
                var samples: [UInt32] = []
                samples.reserveCapacity(options.messages)
                client.onOpen = { _ in opened.add() }
                client.onText = { _, payload in
                    samples.append(latencyMicros(of: payload, now: MonotonicClock.nowNanos()))
                    received.add()
                    if samples.count == options.messages {
                        recorder.add(samples)
                        samples = []
                    }
                }
            }
        }
        let connectStart = Date()
        _ = waitUntil(seconds: 120) { opened.current == options.connections }
        let connectSeconds = Date().timeIntervalSince(connectStart)
        let loaded = options.pid.flatMap(residentKiB)
        let publisher = LoopConfined<WebSocketClient>()
        let publisherOpen = Counter()
        let loop = loops[0]
        let target = factory.target
        let path = options.path.isEmpty ? "/ws/broadcast/" : options.path, host = options.host
        loop.execute {
            let client = WebSocketClient(host: host, path: path)
            client.onOpen = { _ in publisherOpen.add() }
            publisher.value = client
            guard let (socket, _) = try? Socket.connect(to: target) else { return }
            _ = try? loop.adopt(socket, remote: target, outboundLimit: 64 << 20, handler: client)
        }
        _ = waitUntil(seconds: 10) { publisherOpen.current == 1 }
        // The publisher is a member too; its own copies are not counted.
        let start = MonotonicClock.nowNanos()
        let messages = options.messages, size = options.messageBytes
        loop.execute {
            for sequence in 0..<messages {
                let stamp = stampedPayload(sequence: sequence)
                publisher.value?.send(text: stamp + [UInt8](repeating: 0x2E, count: max(0, size - stamp.count)))
            }
        }
        _ = waitUntil(seconds: 120) { received.current >= expected }
        let elapsed = Double(MonotonicClock.nowNanos() - start) / 1e9
        let latency = recorder.percentiles()
        var rows = [
            ("connections", "\(opened.current) of \(options.connections)"),
            ("connect rate per second", String(format: "%.0f", Double(opened.current) / connectSeconds)),
            ("messages published", "\(messages) of \(size) bytes"),
            ("deliveries", "\(received.current) of \(expected)"),
            ("deliveries per second", String(format: "%.0f", Double(received.current) / elapsed)),
            ("latency p50 / p99 / p999 / max ms", String(format: "%.3f / %.3f / %.3f / %.3f", latency.p50, latency.p99,
                                                         latency.p999, latency.max)),
        ]
        var json: [String: Any] = ["connections": opened.current, "messages": messages, "message_bytes": size,
                                   "deliveries": received.current,
                                   "deliveries_per_second": Double(received.current) / elapsed, "p50_ms": latency.p50,
                                   "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max,
                                   "connect_per_second": Double(opened.current) / connectSeconds]
        if let baseline, let loaded {
            let perConnection = Double(loaded - baseline) * 1024 / Double(max(1, opened.current))
            rows.append(("server RSS before / after connect", "\(baseline) KiB / \(loaded) KiB"))
            rows.append(("server bytes per connection", String(format: "%.0f", perConnection)))
            json["server_bytes_per_connection"] = perConnection
        }
        report("ws-broadcast", rows, json: json)
    }
}

/// A value created and used on one event loop only, carried through Sendable closures.
/// @unchecked Sendable: every access happens on the loop that created it.
final class LoopConfined<Value>: @unchecked Sendable {
    var value: Value?
}
