/// Concurrent look-ups by key answered by one statement (a `Batcher` whose batches ask for each
/// distinct key once). A reconnect storm of WebSocket handshakes costs PostgreSQL a few dozen
/// statements instead of one round trip each.
public final class BatchedLookup<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public typealias Fetch = @Sendable (PostgresConnection, [Key]) throws -> [Key: Value]
    private let batcher: Batcher<Key, Value?>

    /// `fetch` answers the keys it found (a missing key is `nil` to its caller); `maxInFlight`
    /// batches at most use pool connections at the same time, the rest of the pool stays free.
    /// One at a time by default: larger batches cost PostgreSQL less (measured on the handshake
    /// storm, see NotificationStore).
    public init(pool: DatabasePool, maxInFlight: Int = 1, maxBatch: Int = 1000, fetch: @escaping Fetch) {
        batcher = Batcher(pool: pool, maxInFlight: maxInFlight, maxCost: maxBatch) { connection, keys in
            let found = try fetch(connection, Array(Set(keys)))
            return keys.map { found[$0] }
        }
    }

    /// The value for `key`, from the next batch.
    public func value(for key: Key) async throws -> Value? {
        try await batcher.submit(key)
    }

    /// Callback form: `done` runs on a database worker thread.
    public func value(for key: Key, done: @escaping @Sendable (Result<Value?, any Error>) -> Void) {
        batcher.submit(key, done: done)
    }
}
