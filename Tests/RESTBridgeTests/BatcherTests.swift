import Dispatch
import Hub
import Testing
@testable import RESTBridge

/// The Batcher's slot and order against the real PostgreSQL that `make test` starts.
@Suite struct BatcherTests {
    /// A batch gives the slot up once its statement is back: the next batch's statement runs while
    /// the first is still reading its answer. `afterBatch` (the live pushes) still sees the first
    /// batch before the second, although the second was read first.
    @Test func theNextStatementRunsWhileABatchIsReadAndAfterBatchKeepsBatchOrder() throws {
        let published = Locked<[Int]>([])
        let bothPublished = DispatchSemaphore(value: 0)
        let secondStatementRan = DispatchSemaphore(value: 0)
        let firstReadLate = Locked<Bool?>(nil)
        let pool = DatabasePool(url: DatabaseTests.url, workers: 2)
        let batcher = Batcher<Int, Int>(pool: pool, maxInFlight: 1, afterBatch: { outputs in
            if published.withLock({ $0 += outputs; return $0.count }) == 2 { bothPublished.signal() }
        }, runAndRead: { connection, inputs in
            let value = try connection.execute("SELECT $1::int * 10 AS v", [String(inputs[0])]).rows[0].int("v")!
            if inputs == [2] { secondStatementRan.signal() }
            return { _ in
                // The first batch is read only after the second batch's statement ran.
                if inputs == [1] {
                    let ran = secondStatementRan.wait(timeout: .now() + 10) == .success
                    firstReadLate.withLock { $0 = ran }
                }
                return inputs.map { _ in value }
            }
        })
        let answers = Locked<[Int: Int]>([:])
        // Submitted in this order, 1 leaves alone at once and 2 waits for the slot: two batches.
        for input in [1, 2] {
            batcher.submit(input) { result in answers.withLock { $0[input] = try? result.get() } }
        }
        #expect(bothPublished.wait(timeout: .now() + 20) == .success)
        #expect(firstReadLate.withLock { $0 } == true, "the second statement waited for the first batch's reading")
        #expect(published.withLock { $0 } == [10, 20], "afterBatch in the order the batches ran")
        #expect(answers.withLock { $0 } == [1: 10, 2: 20])
    }
}
