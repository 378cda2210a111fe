import Synchronization

/// The server-wide cap on open connections (`HUB_MAX_CONNECTIONS`), shared by every loop.
public final class ConnectionLimiter: Sendable {
    public let limit: Int
    private let count = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    public var current: Int { count.load(ordering: .relaxed) }

    func tryAcquire() -> Bool {
        let after = count.add(1, ordering: .relaxed).newValue
        if after <= limit { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    func release() {
        count.subtract(1, ordering: .relaxed)
    }
}
