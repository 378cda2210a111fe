import Synchronization

/// Coalesces concurrent look-ups by key into one statement. A look-up that finds the database idle
/// runs at once, alone; while `maxInFlight` batches are at the database, new keys wait and leave
/// together in the next one. A reconnect storm of thousands of WebSocket handshakes then costs
/// PostgreSQL a few dozen statements instead of one round trip each, and no look-up waits longer
/// than the batch ahead of it.
public final class BatchedLookup<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public typealias Fetch = @Sendable (PostgresConnection, [Key]) throws -> [Key: Value]
    private typealias Waiter = (key: Key, done: @Sendable (Result<Value?, any Error>) -> Void)

    private let pool: DatabasePool
    private let maxInFlight: Int
    private let maxBatch: Int
    private let fetch: Fetch
    private let state = Mutex<(waiting: [Waiter], inFlight: Int)>(([], 0))

    /// `fetch` answers the keys it found (a missing key is `nil` to its caller); `maxInFlight`
    /// batches at most use pool connections at the same time, the rest of the pool stays free.
    /// One at a time by default: larger batches cost PostgreSQL less (measured on the handshake
    /// storm, see NotificationStore).
    public init(pool: DatabasePool, maxInFlight: Int = 1, maxBatch: Int = 1000, fetch: @escaping Fetch) {
        self.pool = pool
        self.maxInFlight = max(1, maxInFlight)
        self.maxBatch = max(1, maxBatch)
        self.fetch = fetch
    }

    /// The value for `key`, from the next batch.
    public func value(for key: Key) async throws -> Value? {
        try await withCheckedThrowingContinuation { continuation in
            value(for: key) { continuation.resume(with: $0) }
        }
    }

    /// Callback form: `done` runs on a database worker thread.
    public func value(for key: Key, done: @escaping @Sendable (Result<Value?, any Error>) -> Void) {
        let launch = state.withLock { state -> Bool in
            state.waiting.append((key, done))
            guard state.inFlight < maxInFlight else { return false }
            state.inFlight += 1
            return true
        }
        if launch { sendNextBatch() }
    }

    /// Takes what waits (up to `maxBatch`) to the database; when it is back, goes again while
    /// look-ups are waiting, else gives its slot up (under the same lock, so none is stranded).
    private func sendNextBatch() {
        let batch = state.withLock { state -> [Waiter] in
            guard !state.waiting.isEmpty else {
                state.inFlight -= 1
                return []
            }
            let count = min(maxBatch, state.waiting.count)
            let batch = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return batch
        }
        guard !batch.isEmpty else { return }
        pool.submit { [self] connection in
            let answer = Result { () throws -> [Key: Value] in
                try fetch(try connection.get(), Array(Set(batch.map(\.key))))
            }
            for waiter in batch { waiter.done(answer.map { $0[waiter.key] }) }
            sendNextBatch()
        }
    }
}
