import Dispatch
import Hub
import Synchronization

/// Coalesces concurrent database work into batches: a request that finds the database idle runs
/// at once, alone; while `maxInFlight` batches are at the database, new requests wait and leave
/// together in the next one. Under load, one statement then serves many callers: a reconnect storm
/// of handshakes, or a thousand events a second, costs PostgreSQL a few statements and commits
/// instead of a round trip (and an fsync) each, and no request waits longer than the batch ahead.
public final class Batcher<Input: Sendable, Output: Sendable>: Sendable {
    /// Runs a whole batch on one connection; answers one output per input, in order.
    public typealias Run = @Sendable (PostgresConnection, [Input]) throws -> [Output]
    private typealias Waiter = (input: Input, done: @Sendable (Result<Output, any Error>) -> Void)

    private let pool: DatabasePool
    private let maxInFlight: Int
    private let maxCost: Int
    private let cost: @Sendable (Input) -> Int
    private let isolateFailures: Bool
    private let run: Run
    private let afterBatch: (@Sendable ([Output]) -> Void)?
    /// Serial: `afterBatch` calls keep the batches' order.
    private let afterBatchQueue = DispatchQueue(label: "hub.batcher.after-batch")
    private let state = Locked<(waiting: [Waiter], inFlight: Int)>(([], 0))

    /// - Parameters:
    ///   - maxInFlight: batches using pool connections at the same time; the rest of the pool
    ///     stays free for other work.
    ///   - maxCost: a batch takes requests until their summed `cost` would pass this (a request
    ///     costlier than that alone still goes, alone).
    ///   - isolateFailures: when a batch of several fails, each request is tried again alone, so
    ///     one bad request fails only itself (writes); otherwise the batch's callers share the error.
    ///   - afterBatch: runs with each batch's outputs once its callers have them, one batch after
    ///     the other in the order they were run (work that must follow commit order, such as live
    ///     pushes), on a queue of its own: the next batch goes to the database meanwhile. Run
    ///     before the next batch, the pushes of a bulk request of 100 events held the one event
    ///     slot 1.3-1.6 ms of its 7-8 (instrumented hubd, bulk at 100 requests/s).
    public init(pool: DatabasePool, maxInFlight: Int = 1, maxCost: Int = 1000, cost: @escaping @Sendable (Input) -> Int = { _ in 1 },
                isolateFailures: Bool = false, afterBatch: (@Sendable ([Output]) -> Void)? = nil, run: @escaping Run)
    {
        self.afterBatch = afterBatch
        self.pool = pool
        self.maxInFlight = max(1, maxInFlight)
        self.maxCost = max(1, maxCost)
        self.cost = cost
        self.isolateFailures = isolateFailures
        self.run = run
    }

    /// The output for `input`, from the next batch.
    public func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            submit(input) { continuation.resume(with: $0) }
        }
    }

    /// Callback form: `done` runs on a database worker thread.
    public func submit(_ input: Input, done: @escaping @Sendable (Result<Output, any Error>) -> Void) {
        let launch = state.withLock { state -> Bool in
            state.waiting.append((input, done))
            guard state.inFlight < maxInFlight else { return false }
            state.inFlight += 1
            return true
        }
        if launch { sendNextBatch() }
    }

    /// Takes what waits (up to `maxCost`) to the database; when it is back, goes again while
    /// requests are waiting, else gives its slot up (under the same lock, so none is stranded).
    private func sendNextBatch() {
        let batch = state.withLock { state -> [Waiter] in
            guard !state.waiting.isEmpty else {
                state.inFlight -= 1
                return []
            }
            var count = 0, total = 0
            while count < state.waiting.count {
                let next = cost(state.waiting[count].input)
                if count > 0 && total + next > maxCost { break }
                total += next
                count += 1
            }
            let batch = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return batch
        }
        guard !batch.isEmpty else { return }
        pool.submit { [self] connection in
            let answer = Result { () throws -> [Output] in
                let outputs = try run(try connection.get(), batch.map(\.input))
                precondition(outputs.count == batch.count, "a batch must answer one output per input")
                return outputs
            }
            switch answer {
            case .success(let outputs):
                for (waiter, output) in zip(batch, outputs) { waiter.done(.success(output)) }
                runAfterBatch(outputs)
            case .failure(let error):
                if isolateFailures, batch.count > 1, let connection = try? connection.get() {
                    for waiter in batch {
                        let alone = Result { try run(connection, [waiter.input]) }
                        waiter.done(alone.map { $0[0] })
                        if case .success(let outputs) = alone { runAfterBatch(outputs) }
                    }
                } else {
                    for waiter in batch { waiter.done(.failure(error)) }
                }
            }
            sendNextBatch()
        }
    }

    private func runAfterBatch(_ outputs: [Output]) {
        guard let afterBatch else { return }
        afterBatchQueue.async { afterBatch(outputs) }
    }
}
