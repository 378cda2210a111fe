import Foundation
import Glibc
import Synchronization

/// JSON log lines on stdout, one object a line. Formatting happens on the caller's thread; a
/// dedicated thread does the writing, so an event loop never blocks on a slow stdout. The queue
/// is bounded: past it, lines are dropped and counted, and the count is logged when it drains.
public final class Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case debug = 0, info, warning, error

        public var name: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warning: "warning"
            case .error: "error"
            }
        }

        public init?(name: String) {
            switch name.lowercased() {
            case "debug": self = .debug
            case "info": self = .info
            case "warning", "warn": self = .warning
            case "error": self = .error
            default: return nil
            }
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let level: Level
    private let state = Locked<(lines: [[UInt8]], bytes: Int, dropped: Int)>(([], 0, 0))
    private let ready = DispatchSemaphore(value: 0)
    private static let maxQueuedBytes = 8 * 1024 * 1024

    public init(level: Level) {
        self.level = level
        let thread = Thread { [self] in self.writeForever() }
        thread.name = "hub-log"
        thread.start()
    }

    @inline(__always)
    public func enabled(_ level: Level) -> Bool { level >= self.level }

    /// Logs `message` with extra fields; values are strings, integers, doubles or booleans.
    public func log(_ level: Level, _ message: String, _ fields: [(String, LogValue)] = []) {
        guard enabled(level) else { return }
        var json = JSONWriter(capacity: 160)
        json.beginObject()
        json.field("ts", WallClock.iso8601())
        json.field("level", level.name)
        json.field("msg", message)
        for (name, value) in fields {
            json.key(name)
            switch value {
            case .string(let text): json.string(text)
            case .int(let number): json.int(number)
            case .double(let number): json.double(number)
            case .bool(let flag): json.bool(flag)
            }
        }
        json.endObject()
        var line = json.bytes
        line.append(0x0A)
        enqueue(line)
    }

    public func debug(_ message: String, _ fields: [(String, LogValue)] = []) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: [(String, LogValue)] = []) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [(String, LogValue)] = []) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [(String, LogValue)] = []) { log(.error, message, fields) }

    /// Blocks until queued lines are written (used at exit).
    public func flush() {
        for _ in 0..<200 {
            if state.withLock({ $0.lines.isEmpty }) { return }
            usleep(5000)
        }
    }

    private func enqueue(_ line: [UInt8]) {
        let wake = state.withLock { state -> Bool in
            if state.bytes + line.count > Self.maxQueuedBytes {
                state.dropped += 1
                return false
            }
            state.lines.append(line)
            state.bytes += line.count
            return state.lines.count == 1
        }
        if wake { ready.signal() }
    }

    private func writeForever() {
        while true {
            ready.wait()
            while true {
                let (lines, dropped) = state.withLock { state -> ([[UInt8]], Int) in
                    defer { state.lines.removeAll(); state.bytes = 0; state.dropped = 0 }
                    return (state.lines, state.dropped)
                }
                if lines.isEmpty { break }
                var chunk = [UInt8]()
                chunk.reserveCapacity(lines.reduce(0) { $0 + $1.count })
                for line in lines { chunk.append(contentsOf: line) }
                if dropped > 0 {
                    chunk.append(contentsOf: "{\"level\":\"warning\",\"msg\":\"log lines dropped\",\"count\":\(dropped)}\n".utf8)
                }
                chunk.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        if n <= 0 { break }
                        offset += n
                    }
                }
            }
        }
    }
}

public enum LogValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
}
