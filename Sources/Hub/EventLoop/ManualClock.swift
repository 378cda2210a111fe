import Synchronization

/// A monotonic clock that only moves when told to (NIO's `EmbeddedEventLoop.advanceTime(by:)`):
/// tests pass it to loops as `LoopClock.manual`, advance it, and wake the loops. It starts at an
/// arbitrary large value so code that subtracts from "now" never sees negative times.
public final class ManualClock: Sendable {
    private let millis: Atomic<Int64>

    public init(startMillis: Int64 = 1_000_000) {
        millis = Atomic(startMillis)
    }

    public var nowMillis: Int64 { millis.load(ordering: .acquiring) }

    /// Moves time forward; loops see it on their next wake-up (see `EventLoop.wakeUp`).
    public func advance(byMillis delta: Int64) {
        precondition(delta >= 0, "time only moves forward")
        millis.add(delta, ordering: .releasing)
    }
}
