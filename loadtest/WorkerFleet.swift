import Hub
import Foundation
import Glibc
import Synchronization

/// The parent's side of the worker processes: a process may open at most its descriptor limit
/// (20,000 here, and the hard limit cannot be raised), so sessions are spread over as many workers
/// as that needs, each from its own source addresses. The parent only publishes and reports.
final class WorkerFleet: @unchecked Sendable {
    // Safe: `workers` is fixed after init; each worker's mutable state sits behind its Mutex.
    final class Worker: Sendable {
        let process: Process
        let input: FileHandle
        let state = Locked<(ready: SessionWorker.Ready?, progress: Int, result: SessionWorker.Result?, exited: Bool)>(
            (nil, 0, nil, false))

        init(process: Process, input: FileHandle) {
            self.process = process
            self.input = input
        }
    }

    let workers: [Worker]

    /// How many workers `connections` sessions need under this machine's limits, and why.
    /// With `nodes` (a cluster), a multiple of it: worker i holds its sessions on node i mod nodes.
    static func plan(connections: Int, requested: Int, nodes: Int = 0) -> (count: Int, explanation: String) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let perProcess = max(100, Int(min(limit.rlim_max, 1 << 30)) - 200)
        let needed = max(1, (connections + perProcess - 1) / perProcess)
        var count = max(needed, requested)
        if nodes > 1 { count = (max(count, nodes) + nodes - 1) / nodes * nodes }
        let ports = ephemeralPorts()
        let explanation = "\(connections) sessions over \(count) worker process\(count == 1 ? "" : "es") "
            + "(descriptor limit \(limit.rlim_max) each, so at least \(needed)); "
            + "source addresses 127.x.y.2 with \(ClientFactory.perSourceAddress) sessions each (\(ports) ephemeral ports per address)"
        return (count, explanation)
    }

    /// Ports in net.ipv4.ip_local_port_range.
    static func ephemeralPorts() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else { return 28_232 }
        let bounds = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        return bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 28_232
    }

    /// Starts `count` workers of `scenario`, sharing `connections` between them.
    init(scenario: String, arguments: [String], connections: Int, count: Int, run: String) throws {
        var workers: [Worker] = []
        for index in 0..<count {
            let share = connections / count + (index < connections % count ? 1 : 0)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.arguments = ["worker", scenario] + arguments
                + ["--connections", String(share), "--worker-index", String(index), "--run", run]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            let worker = Worker(process: process, input: input.fileHandleForWriting)
            workers.append(worker)
            Thread.detachNewThread { WorkerFleet.readLines(output.fileHandleForReading, into: worker) }
        }
        self.workers = workers
    }

    /// Splits the worker's output into lines with plain reads and a scan of the new bytes only
    /// (Foundation's `Data` search and removal kept a whole core busy while a large READY line and
    /// the progress lines came in, during the very runs it measures).
    private static func readLines(_ handle: FileHandle, into worker: Worker) {
        let fd = handle.fileDescriptor
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            var lineStart = 0, index = pending.count
            pending.append(contentsOf: chunk[0..<count])
            while index < pending.count {
                if pending[index] == 0x0A {
                    take(String(decoding: pending[lineStart..<index], as: UTF8.self), worker)
                    lineStart = index + 1
                }
                index += 1
            }
            pending.removeFirst(lineStart)
        }
        worker.state.withLock { $0.exited = true }
    }

    private static func take(_ line: String, _ worker: Worker) {
        let decoder = JSONDecoder()
        if line.hasPrefix("READY "), let ready = try? decoder.decode(SessionWorker.Ready.self, from: Data(line.dropFirst(6).utf8)) {
            worker.state.withLock { $0.ready = ready }
        } else if line.hasPrefix("PROGRESS "), let count = Int(line.dropFirst(9)) {
            worker.state.withLock { $0.progress = count }
        } else if line.hasPrefix("RESULT "), let result = try? decoder.decode(SessionWorker.Result.self, from: Data(line.dropFirst(7).utf8)) {
            worker.state.withLock { $0.result = result }
        } else {
            say(line)
        }
    }

    /// Waits until every worker has connected its sessions (or exited); their READY reports.
    func waitUntilReady(seconds: Double) -> [SessionWorker.Ready] {
        _ = waitUntil(seconds: seconds) { workers.allSatisfy { w in w.state.withLock { $0.ready != nil || $0.exited } } }
        return workers.compactMap { w in w.state.withLock { $0.ready } }
    }

    /// Pushes received so far, summed over the workers.
    var progress: Int { workers.reduce(0) { sum, w in sum + w.state.withLock { $0.progress } } }

    /// Asks every worker for its result and waits for them all; the results are merged.
    func collect(seconds: Double = 60) -> SessionWorker.Result {
        for worker in workers { worker.input.write(Data("REPORT\n".utf8)) }
        _ = waitUntil(seconds: seconds) { workers.allSatisfy { w in w.state.withLock { $0.result != nil || $0.exited } } }
        let total = Self.merge(workers.compactMap { w in w.state.withLock { $0.result } })
        for worker in workers where worker.process.isRunning { worker.process.terminate() }
        return total
    }

    /// After `collect`: the results of each node's workers (worker i held its sessions on node
    /// i mod `nodes`), merged per node.
    func resultsByNode(_ nodes: Int) -> [SessionWorker.Result] {
        (0..<max(1, nodes)).map { node in
            Self.merge(workers.indices.filter { $0 % max(1, nodes) == node }.compactMap { workers[$0].state.withLock { $0.result } })
        }
    }

    static func merge(_ results: [SessionWorker.Result]) -> SessionWorker.Result {
        var total = SessionWorker.Result()
        for result in results {
            total.connected += result.connected
            total.failed += result.failed
            total.dropped += result.dropped
            total.received += result.received
            total.lastReceiptNanos = max(total.lastReceiptNanos, result.lastReceiptNanos)
            total.samples.append(result.samples)
            total.handshakes += result.handshakes
            total.errors += result.errors
        }
        return total
    }
}
