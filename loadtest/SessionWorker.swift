import Foundation
import Glibc
import Hub
import Synchronization

/// A worker process of the hub scenarios: it holds its share of authenticated sessions and counts
/// what they receive, while the parent publishes and reports. It talks to the parent in lines:
/// stdout `READY {json}`, `PROGRESS <received>` (every 100 ms while it changes), `RESULT {json}`;
/// stdin `REPORT` asks for the result, after which the worker exits.
enum SessionWorker {
    struct Result: Codable {
        var connected = 0
        var failed = 0
        /// Sessions that were connected and closed before the report (server closes, drops).
        var dropped = 0
        var received = 0
        var lastReceiptNanos: UInt64 = 0
        /// REST-to-receipt latencies with the time each event was posted.
        var samples = TimedSamples()
        var handshakes = 0
        var errors = 0
    }

    struct Ready: Codable {
        var connected: Int
        var failed: Int
        var userIDs: [Int64]
    }

    static func run(_ scenario: String, _ context: HubScenarios.Context) throws {
        let options = context.options
        let users = try context.setup.makeUsers(options.connections, run: "\(context.run)-\(options.workerIndex)")
        if scenario == "churn" {
            emit("READY", Ready(connected: 0, failed: 0, userIDs: []))
            let counts = churn(context, users)
            waitForReportRequest()
            emit("RESULT", Result(handshakes: counts.handshakes.current, errors: counts.errors.current))
            return
        }
        let log = ReceiptLog(loops: context.loops.count)
        let connected = Counter(), failed = Counter(), dropped = Counter()
        connect(context, users, connected: connected, failed: failed, dropped: dropped, log: log)
        _ = waitUntil(seconds: 600) { connected.current + failed.current >= users.count }
        // Every session heartbeats as a browser's does (hub-client.js), each at its own phase.
        Heartbeats(loops: context.loops).start(interval: 30)
        emit("READY", Ready(connected: connected.current, failed: failed.current, userIDs: users.map(\.id)))
        let asked = Atomic<Bool>(false)
        Thread.detachNewThread {
            waitForReportRequest()
            asked.store(true, ordering: .relaxed)
        }
        var reported = -1
        while !asked.load(ordering: .relaxed) {
            if log.received.current != reported {
                reported = log.received.current
                say("PROGRESS \(reported)")
            }
            usleep(100_000)
        }
        var result = Result(connected: connected.current, failed: failed.current, dropped: dropped.current)
        (result.received, result.lastReceiptNanos, result.samples) = log.collect(on: context.loops)
        emit("RESULT", result)
    }

    /// Opens the sessions, paced at `--connect-rate` (the kernel's SYN and accept queues are not
    /// what is measured); a stamped push's latency is recorded on its loop.
    static func connect(_ context: HubScenarios.Context, _ users: [(id: Int64, token: String)], connected: Counter,
                        failed: Counter, dropped: Counter, log: ReceiptLog)
    {
        let start = MonotonicClock.nowNanos()
        for (index, user) in users.enumerated() {
            let due = start + UInt64(Double(index) / context.options.connectRate * 1e9)
            let now = MonotonicClock.nowNanos()
            if due > now { usleep(UInt32(min(1_000_000, (due - now) / 1000))) }
            context.factory.connect(index: index, path: "/ws/notifications/", headers: ["Authorization: Bearer \(user.token)"]) { client in
                var ready = false
                client.onText = { client, payload in
                    if !ready {
                        if payload.starts(with: Array(#"{"type":"connected""#.utf8)) {
                            ready = true
                            connected.add()
                        }
                        return
                    }
                    guard let loop = client.connection?.loop, let (latency, sent) = stampLatency(payload) else { return }
                    log.record(latency, sentMillis: sent, loop: loop.index)
                }
                client.onClose = { _ in ready ? dropped.add() : failed.add() }
            }
        }
    }

    /// Each slot connects (JWT checked by the server), waits for `connected`, closes, and again,
    /// until `--seconds` pass.
    static func churn(_ context: HubScenarios.Context, _ users: [(id: Int64, token: String)]) -> (handshakes: Counter, errors: Counter) {
        Scenarios.churnSlots(users.count, seconds: context.options.seconds, factory: context.factory,
                             path: "/ws/notifications/", headers: { ["Authorization: Bearer \(users[$0].token)"] },
                             readyOnOpen: false)
    }

    /// The latency carried by a push, and when it was posted: `"sent_ns":<monotonic ns>` in the
    /// event data, found with a plain byte scan (a generic collection search or a JSON parse per
    /// message would cost the generator more than hubd spends sending it).
    static func stampLatency(_ payload: [UInt8]) -> (micros: UInt32, sentMillis: UInt32)? {
        let key = stampKey
        return payload.withUnsafeBufferPointer { bytes -> (UInt32, UInt32)? in
            guard bytes.count > key.count, let base = bytes.baseAddress else { return nil }
            var index = 0
            let last = bytes.count - key.count
            while index <= last {
                if bytes[index] == 0x22, memcmp(base + index, key, key.count) == 0 { break }
                index += 1
            }
            guard index <= last else { return nil }
            index += key.count
            var value: UInt64 = 0
            while index < bytes.count, bytes[index] == 0x20 { index += 1 }  // jsonb writes ": "
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                value = value * 10 + UInt64(bytes[index] - 0x30)
                index += 1
            }
            return (UInt32(clamping: (MonotonicClock.nowNanos() &- value) / 1000), monotonicMillis(value))
        }
    }

    private static let stampKey = Array(#""sent_ns":"#.utf8)

    private static func waitForReportRequest() {
        while let line = readLine(), line != "REPORT" {}
    }

    private static func emit<T: Encodable>(_ tag: String, _ value: T) {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        say("\(tag) \(String(decoding: data, as: UTF8.self))")
    }

}

/// Receipts per loop, each array touched only by its loop; collected by running on every loop.
/// @unchecked Sendable: `samples[i]` and `last[i]` are read and written only on loop i.
final class ReceiptLog: @unchecked Sendable {
    private var samples: [TimedSamples]
    private var last: [UInt64]
    let received = Counter()

    init(loops: Int) {
        samples = Array(repeating: TimedSamples(), count: loops)
        last = Array(repeating: 0, count: loops)
    }

    func record(_ latency: UInt32, sentMillis: UInt32, loop: Int) {
        samples[loop].micros.append(latency)
        samples[loop].sentMillis.append(sentMillis)
        last[loop] = MonotonicClock.nowNanos()
        received.add()
    }

    func collect(on loops: [EventLoop]) -> (Int, UInt64, TimedSamples) {
        let done = DispatchGroup()
        let gathered = Locked<(latest: UInt64, all: TimedSamples)>((0, TimedSamples()))
        for loop in loops {
            done.enter()
            loop.execute { [self] in
                let index = loop.index
                gathered.withLock { $0.latest = max($0.latest, last[index]); $0.all.append(samples[index]) }
                done.leave()
            }
        }
        done.wait()
        let result = gathered.withLock { $0 }
        return (result.all.micros.count, result.latest, result.all)
    }
}
