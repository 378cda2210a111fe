import Foundation
import Hub
import Synchronization

/// `hubd` started for real as a child process, on an ephemeral port, with its stdout collected.
public final class HubdProcess: Sendable {
    public let port: Int
    private let process: ChildProcess
    private let output: LineBuffer
    /// Signalled when hubd's output reaches its end (the process exited and every line was read).
    private let outputEnded = DispatchSemaphore(value: 0)

    private final class LineBuffer: Sendable {
        private let lines = Locked<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// The binary under test: `HUBD_BINARY`, or the debug build next to this package.
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["HUBD_BINARY"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/hubd").path
    }

    public static let testSecret = "test-secret-0123456789abcdef0123456789"

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts hubd and learns its port from the "hubd started" log line; with `fixedPort`, which
    /// works at any log level, it listens there and is ready when a connection succeeds.
    public init(environment extra: [String: String] = [:], arguments: [String] = [], fixedPort: Int? = nil) throws {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HUB_") }
        environment["HUB_HOST"] = "127.0.0.1"
        environment["HUB_PORT"] = fixedPort.map(String.init) ?? "0"
        environment["HUB_JWT_SECRET"] = Self.testSecret
        environment["HUB_THREADS"] = "2"
        for (key, value) in extra { environment[key] = value }
        let process = try ChildProcess(path: Self.binaryPath, arguments: arguments, environment: environment)
        let lines = LineBuffer()
        let started = DispatchSemaphore(value: 0)
        let ended = outputEnded
        Thread.detachNewThread {
            defer { ended.signal() }
            process.readLines { line in
                lines.append(line)
                if line.contains("\"hubd started\"") { started.signal() }
            }
            started.signal()
        }
        self.process = process
        self.output = lines
        if let fixedPort {
            for _ in 0..<400 {
                if (try? BlockingClient(port: fixedPort)) != nil {
                    self.port = fixedPort
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            process.signal(SIGKILL)
            throw StartFailure(description: "hubd did not listen on \(fixedPort)")
        }
        _ = started.wait(timeout: .now() + 20)
        let startLine = lines.all.first { $0.contains("\"hubd started\"") }
        guard let startLine, let data = startLine.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let port = object["port"] as? Int
        else {
            process.signal(SIGKILL)
            throw StartFailure(description: "hubd did not start: " + lines.all.joined(separator: "\n"))
        }
        self.port = port
    }

    public var lines: [String] { output.all }

    /// Log lines parsed as JSON objects.
    public var logObjects: [[String: Any]] {
        lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// Sends SIGTERM and waits; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        process.signal(signal)
        let status = process.wait()
        _ = outputEnded.wait(timeout: .now() + 5)
        outputEnded.signal()
        return status
    }

    /// A port that was free a moment ago (for `fixedPort`).
    public static func freePort() throws -> Int {
        let socket = try Hub.Socket.listen(host: "127.0.0.1", port: 0)
        defer { socket.close() }
        return try socket.localPort()
    }

    public var pid: Int32 { process.pid }

    deinit {
        if process.isRunning {
            process.signal(SIGKILL)
            process.wait()
        }
    }

    /// Runs hubd to completion (for configuration errors and --help) and returns status and output.
    public static func runToExit(environment extra: [String: String], arguments: [String] = []) throws -> (Int32, String) {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HUB_") }
        for (key, value) in extra { environment[key] = value }
        let process = try ChildProcess(path: binaryPath, arguments: arguments, environment: environment)
        var output: [String] = []
        process.readLines { output.append($0) }
        return (process.wait(), output.map { $0 + "\n" }.joined())
    }
}
