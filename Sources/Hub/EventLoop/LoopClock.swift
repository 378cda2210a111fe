/// Where an event loop reads the time: the coarse monotonic clock in production, a clock moved by
/// hand in tests (so a deadline test advances time instead of sleeping). An enum, not a protocol,
/// so the production read stays a direct call (once per `epoll_wait`).
public enum LoopClock: Sendable {
    case monotonic
    case manual(ManualClock)

    /// Monotonic milliseconds.
    @inline(__always)
    public func nowMillis() -> Int64 {
        switch self {
        case .monotonic: MonotonicClock.nowMillis()
        case .manual(let clock): clock.nowMillis
        }
    }
}
