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
    /// Runs a whole batch's statement on one connection and answers how to read its outputs (one
    /// per input, in order; on the same connection). The statement holds the batch's slot; the
    /// reading runs after the next batch has it.
    public typealias RunAndRead = @Sendable (PostgresConnection, [Input]) throws -> Reading
    public typealias Reading = @Sendable (PostgresConnection) throws -> [Output]
    private typealias Waiter = (input: Input, done: @Sendable (Result<Output, any Error>) -> Void)

    private struct State {
        var waiting: [Waiter] = []
        var inFlight = 0
        /// Batches are numbered as they leave; `afterBatch` sees them in that order.
        var nextTicket = 0
        var nextToPublish = 0
        /// Outputs of batches read before an earlier one was.
        var held: [Int: [[Output]]] = [:]
    }

    private let pool: DatabasePool
    private let maxInFlight: Int
    private let maxCost: Int
    private let cost: @Sendable (Input) -> Int
    private let isolateFailures: Bool
    private let runAndRead: RunAndRead
    private let afterBatch: (@Sendable ([Output]) -> Void)?
    /// Serial: `afterBatch` calls keep the batches' order.
    private let afterBatchQueue = DispatchQueue(label: "hub.batcher.after-batch")
    private let state = Locked(State())

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
    public convenience init(pool: DatabasePool, maxInFlight: Int = 1, maxCost: Int = 1000,
                            cost: @escaping @Sendable (Input) -> Int = { _ in 1 }, isolateFailures: Bool = false,
                            afterBatch: (@Sendable ([Output]) -> Void)? = nil, run: @escaping Run)
    {
        self.init(pool: pool, maxInFlight: maxInFlight, maxCost: maxCost, cost: cost, isolateFailures: isolateFailures,
                  afterBatch: afterBatch, runAndRead: { connection, inputs in
                      let outputs = try run(connection, inputs)
                      return { _ in outputs }
                  })
    }

    /// `runAndRead`: the statement, then the reading of its answer outside the slot. A batch whose
    /// statement committed needs nothing more of the slot: reading its answer in it took 0.6-1.5 ms
    /// of the event slot's 6-9 (instrumented hubd, bulk requests of 100 events).
    public init(pool: DatabasePool, maxInFlight: Int = 1, maxCost: Int = 1000, cost: @escaping @Sendable (Input) -> Int = { _ in 1 },
                isolateFailures: Bool = false, afterBatch: (@Sendable ([Output]) -> Void)? = nil,
                runAndRead: @escaping RunAndRead)
    {
        self.afterBatch = afterBatch
        self.pool = pool
        self.maxInFlight = max(1, maxInFlight)
        self.maxCost = max(1, maxCost)
        self.cost = cost
        self.isolateFailures = isolateFailures
        self.runAndRead = runAndRead
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

    /// Takes what waits (up to `maxCost`) to the database; once its statement is back, gives the
    /// slot to the next batch while requests are waiting, else gives it up (under the same lock,
    /// so none is stranded), and reads its answer.
    private func sendNextBatch() {
        let next = state.withLock { state -> (batch: [Waiter], ticket: Int)? in
            guard !state.waiting.isEmpty else {
                state.inFlight -= 1
                return nil
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
            state.nextTicket += 1
            return (batch, state.nextTicket - 1)
        }
        guard let (batch, ticket) = next else { return }
        pool.submit { [self] connection in
            switch Result(catching: { () throws -> (Reading, PostgresConnection) in
                let connection = try connection.get()
                return (try runAndRead(connection, batch.map(\.input)), connection)
            }) {
            case .success(let (read, connection)):
                sendNextBatch()
                let answer = Result { () throws -> [Output] in
                    let outputs = try read(connection)
                    precondition(outputs.count == batch.count, "a batch must answer one output per input")
                    return outputs
                }
                for (index, waiter) in batch.enumerated() { waiter.done(answer.map { $0[index] }) }
                publish((try? answer.get()).map { [$0] } ?? [], ticket: ticket)
            case .failure(let error):
                var outputs: [[Output]] = []
                if isolateFailures, batch.count > 1, let connection = try? connection.get() {
                    for waiter in batch {
                        let alone = Result { try runAndRead(connection, [waiter.input])(connection) }
                        waiter.done(alone.map { $0[0] })
                        if case .success(let output) = alone { outputs.append(output) }
                    }
                } else {
                    for waiter in batch { waiter.done(.failure(error)) }
                }
                publish(outputs, ticket: ticket)
                sendNextBatch()
            }
        }
    }

    /// Hands a batch's outputs to `afterBatch` once every earlier batch's are: batches read their
    /// answers after giving the slot up, so a later one may be read first.
    private func publish(_ outputs: [[Output]], ticket: Int) {
        guard let afterBatch else { return }
        state.withLock { state in
            state.held[ticket] = outputs
            while let ready = state.held.removeValue(forKey: state.nextToPublish) {
                state.nextToPublish += 1
                for batch in ready { afterBatchQueue.async { afterBatch(batch) } }
            }
        }
    }
}
