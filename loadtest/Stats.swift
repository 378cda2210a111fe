import Foundation
import Synchronization

/// Latency samples in microseconds, merged from every loop at the end.
final class LatencyRecorder: Sendable {
    private let samples = Mutex<[UInt32]>([])

    func add(_ batch: [UInt32]) { samples.withLock { $0.append(contentsOf: batch) } }

    func percentiles() -> Percentiles { Percentiles(samples.withLock { $0 }) }
}

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
