import Foundation
import Hub
import NotifyDrivers
import Synchronization

/// Scenarios against the real channel: authenticated `/ws/notifications/` sessions, events posted
/// over REST with a service key, latency measured from a monotonic timestamp carried in the event.
enum HubScenarios {
    struct Context {
        let options: Options
        let loops: [EventLoop]
        let factory: ClientFactory
        let setup: HubSetup
        let run = String(UUID().uuidString.prefix(8)).lowercased()
    }

    /// Connects `users` sessions; returns the clients (per loop) and how many got `connected`.
    static func connect(_ context: Context, _ users: [(id: Int64, token: String)], connected: Counter, failed: Counter,
                        onMessage: (@Sendable () -> ((WebSocketClient, [UInt8]) -> Void))? = nil)
    {
        let start = MonotonicClock.nowNanos()
        for (index, user) in users.enumerated() {
            // Paced, so the kernel's SYN and accept queues (2048/4096 here) are not the thing measured.
            let due = start + UInt64(Double(index) / context.options.connectRate * 1e9)
            let now = MonotonicClock.nowNanos()
            if due > now { usleep(UInt32(min(1_000_000, (due - now) / 1000))) }
            context.factory.connect(index: index, path: "/ws/notifications/", headers: ["Authorization: Bearer \(user.token)"]) { client in
                let handler = onMessage?()
                var ready = false
                client.onText = { client, payload in
                    if !ready {
                        if payload.starts(with: Array(#"{"type":"connected""#.utf8)) {
                            ready = true
                            connected.add()
                        }
                        return
                    }
                    handler?(client, payload)
                }
                client.onClose = { _ in if !ready { failed.add() } }
            }
        }
    }

    /// `idle`: N sessions held for T seconds with heartbeats at the server's interval.
    static func idle(_ context: Context) throws {
        let options = context.options
        let users = try context.setup.makeUsers(options.connections, run: context.run)
        let baseline = options.pid.flatMap(residentKiB)
        let connected = Counter(), failed = Counter()
        let started = Date()
        connect(context, users, connected: connected, failed: failed)
        _ = waitUntil(seconds: 300) { connected.current + failed.current >= options.connections }
        let connectSeconds = Date().timeIntervalSince(started)
        let heartbeats = Heartbeats(loops: context.loops)
        heartbeats.start(interval: 30)
        Thread.sleep(forTimeInterval: options.seconds)
        let loaded = options.pid.flatMap(residentKiB)
        var rows = [("sessions connected", "\(connected.current) of \(options.connections)"), ("failures", "\(failed.current)"),
                    ("connect rate per second", String(format: "%.0f", Double(connected.current) / connectSeconds)),
                    ("held for", "\(Int(options.seconds)) s")]
        var json: [String: Any] = ["connections": connected.current, "failures": failed.current,
                                   "connect_per_second": Double(connected.current) / connectSeconds]
        if let baseline, let loaded {
            let perConnection = Double(loaded - baseline) * 1024 / Double(max(1, connected.current))
            rows += [("server RSS before / after", "\(baseline) KiB / \(loaded) KiB"),
                     ("server bytes per session", String(format: "%.0f", perConnection))]
            json["server_bytes_per_connection"] = perConnection
        }
        report("idle", rows, json: json)
    }

    /// `fanout`: N sessions; M broadcast events (`recipients: {all: true}`) posted over REST, in a
    /// burst or paced at `--rate` per second; deliveries per second and publish-to-receipt latency.
    static func fanout(_ context: Context) throws {
        let options = context.options
        let users = try context.setup.makeUsers(options.connections, run: context.run)
        let connected = Counter(), failed = Counter(), received = Counter()
        let recorder = LatencyRecorder()
        let expectedBox = Counter()
        connect(context, users, connected: connected, failed: failed) {
            var samples: [UInt32] = []
            return { _, payload in
                guard let latency = stampLatency(payload) else { return }
                samples.append(latency)
                received.add()
                if samples.count >= min(64, options.messages) || received.current >= expectedBox.current {
                    recorder.add(samples)
                    samples = []
                }
            }
        }
        _ = waitUntil(seconds: 300) { connected.current + failed.current >= options.connections }
        let expected = connected.current * options.messages
        expectedBox.add(expected)
        let publisher = Publisher(options: options)
        let start = MonotonicClock.nowNanos()
        let restTimes = LatencyRecorder()
        for sequence in 0..<options.messages {
            if options.rate > 0 {
                let due = start + UInt64(Double(sequence) / options.rate * 1e9)
                let now = MonotonicClock.nowNanos()
                if due > now { usleep(UInt32((due - now) / 1000)) }
            }
            restTimes.add([publisher.post(recipients: #"{"all":true}"#, sequence: sequence)])
        }
        _ = waitUntil(seconds: 120) { received.current >= expected }
        Thread.sleep(forTimeInterval: 0.3)
        let elapsed = Double(MonotonicClock.nowNanos() - start) / 1e9
        let latency = recorder.percentiles(), rest = restTimes.percentiles()
        report("fanout", [
            ("sessions", "\(connected.current) of \(options.connections) (\(failed.current) failed to connect)"),
            ("events", options.rate > 0 ? "\(options.messages) at \(options.rate)/s" : "\(options.messages) in a burst"),
            ("deliveries", "\(received.current) of \(expected)"),
            ("deliveries per second", String(format: "%.0f", Double(received.current) / elapsed)),
            ("REST answer p50 / p99 ms", String(format: "%.3f / %.3f", rest.p50, rest.p99)),
            ("REST-to-receipt p50 / p99 / p999 / max ms", String(format: "%.3f / %.3f / %.3f / %.3f", latency.p50, latency.p99,
                                                               latency.p999, latency.max)),
        ], json: ["connections": connected.current, "events": options.messages, "rate": options.rate,
                  "deliveries": received.current, "deliveries_per_second": Double(received.current) / elapsed,
                  "p50_ms": latency.p50, "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max,
                  "rest_p99_ms": rest.p99])
    }

    /// `targeted`: N sessions; events to one random user each, posted at `--rate` per second for T s.
    static func targeted(_ context: Context) throws {
        let options = context.options
        let users = try context.setup.makeUsers(options.connections, run: context.run)
        let connected = Counter(), failed = Counter(), received = Counter()
        let recorder = LatencyRecorder()
        connect(context, users, connected: connected, failed: failed) {
            { _, payload in
                guard let latency = stampLatency(payload) else { return }
                recorder.add([latency])
                received.add()
            }
        }
        _ = waitUntil(seconds: 300) { connected.current + failed.current >= options.connections }
        let rate = max(options.rate, 1)
        let total = Int(rate * options.seconds)
        let threads = max(1, min(16, Int(rate / 100)))
        let posted = Counter()
        let restTimes = LatencyRecorder()
        let start = MonotonicClock.nowNanos()
        let done = DispatchGroup()
        let ids = users.map(\.id)
        for worker in 0..<threads {
            done.enter()
            Thread.detachNewThread {
                let publisher = Publisher(options: options)
                var sequence = worker
                while sequence < total {
                    let due = start + UInt64(Double(sequence) / rate * 1e9)
                    let now = MonotonicClock.nowNanos()
                    if due > now { usleep(UInt32((due - now) / 1000)) }
                    let target = ids[Int.random(in: 0..<ids.count)]
                    restTimes.add([publisher.post(recipients: #"{"users":[\#(target)]}"#, sequence: sequence)])
                    posted.add()
                    sequence += threads
                }
                done.leave()
            }
        }
        done.wait()
        let elapsed = Double(MonotonicClock.nowNanos() - start) / 1e9
        _ = waitUntil(seconds: 30) { received.current >= posted.current }
        let latency = recorder.percentiles(), rest = restTimes.percentiles()
        report("targeted", [
            ("sessions", "\(connected.current) of \(options.connections) (\(failed.current) failed to connect)"),
            ("events posted", "\(posted.current) in \(String(format: "%.1f", elapsed)) s (\(String(format: "%.0f", Double(posted.current) / elapsed))/s)"),
            ("pushes received", "\(received.current)"),
            ("REST answer p50 / p99 ms", String(format: "%.3f / %.3f", rest.p50, rest.p99)),
            ("REST-to-receipt p50 / p99 / p999 / max ms", String(format: "%.3f / %.3f / %.3f / %.3f", latency.p50, latency.p99,
                                                               latency.p999, latency.max)),
        ], json: ["connections": connected.current, "posted": posted.current, "received": received.current,
                  "events_per_second": Double(posted.current) / elapsed, "rest_p50_ms": rest.p50, "rest_p99_ms": rest.p99,
                  "p50_ms": latency.p50, "p99_ms": latency.p99, "p999_ms": latency.p999, "max_ms": latency.max])
    }

    /// `churn`: `--connections` slots each connect (JWT checked by the server), get `connected`,
    /// close and reconnect, for T seconds; handshakes per second and errors.
    static func churn(_ context: Context) throws {
        let options = context.options
        let users = try context.setup.makeUsers(options.connections, run: context.run)
        let handshakes = Counter(), errors = Counter()
        let deadline = Date().addingTimeInterval(options.seconds)
        let factory = context.factory
        @Sendable func open(_ slot: Int) {
            guard Date() < deadline else { return }
            factory.connect(index: slot, path: "/ws/notifications/", headers: ["Authorization: Bearer \(users[slot].token)"]) { client in
                var ready = false
                client.onText = { client, payload in
                    guard !ready, payload.starts(with: Array(#"{"type":"connected""#.utf8)) else { return }
                    ready = true
                    handshakes.add()
                    client.connection?.close()
                }
                client.onClose = { _ in
                    if !ready { errors.add() }
                    open(slot)
                }
            }
        }
        let start = Date()
        for slot in 0..<options.connections { open(slot) }
        Thread.sleep(forTimeInterval: options.seconds + 0.5)
        let elapsed = Date().timeIntervalSince(start)
        report("churn", [
            ("concurrent slots", "\(options.connections)"),
            ("handshakes (upgrade + JWT + connected)", "\(handshakes.current)"),
            ("handshakes per second", String(format: "%.0f", Double(handshakes.current) / elapsed)),
            ("errors", "\(errors.current)"),
        ], json: ["slots": options.connections, "handshakes": handshakes.current,
                  "handshakes_per_second": Double(handshakes.current) / elapsed, "errors": errors.current])
    }

    /// The latency carried by a notification push: `"sent_ns":<monotonic ns>` in the event data,
    /// found with a byte search (parsing every JSON message would cost the generator more than hubd).
    static func stampLatency(_ payload: [UInt8]) -> UInt32? {
        let key = Array(#""sent_ns":"#.utf8)
        guard let range = payload.firstRange(of: key) else { return nil }
        var value: UInt64 = 0
        var index = range.upperBound
        while index < payload.count, payload[index] == 0x20 { index += 1 }  // jsonb writes ": "
        while index < payload.count, payload[index] >= 0x30, payload[index] <= 0x39 {
            value = value * 10 + UInt64(payload[index] - 0x30)
            index += 1
        }
        return UInt32(clamping: (MonotonicClock.nowNanos() &- value) / 1000)
    }
}

/// Posts events over REST with the service key, through the drivers' non-blocking HTTP client
/// (keep-alive connections on a loop of its own).
final class Publisher {
    static let loop: EventLoop = {
        let loop = try! EventLoop(index: 0, name: "loadtest-publisher")
        loop.start()
        return loop
    }()
    let client = HTTPClient(loop: Publisher.loop, timeouts: .init(responseMillis: 30_000), maxConnectionsPerHost: 64)
    let url: URL
    let key: String

    init(options: Options) {
        url = URL(string: "http://\(options.host):\(options.port)/api/v1/events/")!
        key = options.serviceKey
    }

    /// Returns the REST answer time in microseconds.
    func post(recipients: String, sequence: Int) -> UInt32 {
        let sent = MonotonicClock.nowNanos()
        let body = #"{"type":"system_alert","recipients":\#(recipients),"data":{"message":"load \#(sequence)","sent_ns":\#(sent)}}"#
        _ = try? client.requestAndWait("POST", url, headers: [("Authorization", "Api-Key \(key)"), ("Content-Type", "application/json")],
                                body: Array(body.utf8))
        return UInt32(clamping: (MonotonicClock.nowNanos() - sent) / 1000)
    }
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
