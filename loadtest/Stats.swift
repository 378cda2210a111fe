import Foundation
import Hub
import Synchronization

/// Latency samples in microseconds, merged from every loop at the end, each with the time it was
/// sent (monotonic milliseconds), so a run can be cut into windows.
final class LatencyRecorder: Sendable {
    private let samples = Locked<(micros: [UInt32], sent: [UInt32])>(([], []))

    func add(_ batch: [UInt32]) { samples.withLock { $0.micros.append(contentsOf: batch) } }

    func add(micros: UInt32, sentMillis: UInt32) {
        samples.withLock {
            $0.micros.append(micros)
            $0.sent.append(sentMillis)
        }
    }

    func percentiles() -> Percentiles { Percentiles(samples.withLock { $0.micros }) }

    var timed: TimedSamples { samples.withLock { TimedSamples(micros: $0.micros, sentMillis: $0.sent) } }
}

extension LatencyRecorder {
    /// A recorder that can be replaced (a new window of samples), shared across threads.
    final class Box: Sendable {
        private let current = Locked(LatencyRecorder())
        var recorder: LatencyRecorder { current.withLock { $0 } }
        func reset() { current.withLock { $0 = LatencyRecorder() } }
    }
}

/// Samples with their send times: percentiles overall, per window, or of one span of a run.
struct TimedSamples: Codable {
    var micros: [UInt32] = []
    var sentMillis: [UInt32] = []

    mutating func append(_ other: TimedSamples) {
        micros += other.micros
        sentMillis += other.sentMillis
    }

    /// Samples sent in [from, to) (monotonic milliseconds).
    func between(_ from: UInt32, _ to: UInt32) -> Percentiles {
        Percentiles(zip(micros, sentMillis).compactMap { $1 >= from && $1 < to ? $0 : nil })
    }

    /// Percentiles per `seconds` window of [start, end]; a remainder shorter than half a window
    /// joins the last one (a run of 30.02 s has three windows, not a fourth of 20 ms).
    func windows(from start: UInt32, to end: UInt32, seconds: Int) -> [(from: UInt32, Percentiles)] {
        guard end > start else { return [] }
        let width = UInt32(seconds * 1000)
        let count = max(1, Int((end - start + width / 2) / width))
        return (0..<count).map { index in
            let from = start + UInt32(index) * width
            return (from, between(from, index == count - 1 ? end + 1 : from + width))
        }
    }

}

/// Monotonic milliseconds (the clock every process of the machine shares), as samples carry them.
func monotonicMillis(_ nanos: UInt64 = MonotonicClock.nowNanos()) -> UInt32 { UInt32(truncatingIfNeeded: nanos / 1_000_000) }

/// Percentiles in milliseconds of samples in microseconds.
struct Percentiles {
    var count = 0, p50 = 0.0, p99 = 0.0, p999 = 0.0, max = 0.0

    init(_ samples: [UInt32]) {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return }
        func at(_ q: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1000 }
        (count, p50, p99, p999, max) = (sorted.count, at(0.5), at(0.99), at(0.999), Double(sorted.last!) / 1000)
    }
}

/// A counter shared by loops.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int = 1) { value.add(n, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Resident memory of a process in KiB, from /proc/<pid>/status.
func residentKiB(pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}

/// Waits until `condition` holds or `seconds` pass; true if it held.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        usleep(2000)
    }
    return true
}

/// Prints a human table and one JSON line.
func report(_ scenario: String, _ rows: [(String, String)], json: [String: Any]) {
    say("\n\(scenario)")
    // The label column is as wide as the longest label, so a long one never runs into its value.
    let width = rows.map(\.0.count).max().map { $0 + 2 } ?? 0
    for (name, value) in rows { say("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + value) }
    var object = json
    object["scenario"] = scenario
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
        say(String(decoding: data, as: UTF8.self))
    }
}

/// One line to standard output at once (unbuffered: workers and pipes see it when it is said).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
