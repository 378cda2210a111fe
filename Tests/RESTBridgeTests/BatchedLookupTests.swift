import Hub
import Foundation
import Synchronization
import Testing
@testable import RESTBridge

/// Against the real PostgreSQL that `make test` starts (HUB_TEST_DATABASE_URL).
@Suite struct BatchedLookupTests {
    /// What the fetches saw: how many statements, and the size of each batch.
    final class Recorder: Sendable {
        let sizes = Locked<[Int]>([])
        var statements: Int { sizes.withLock { $0.count } }
    }

    /// Squares of the keys, computed by PostgreSQL; keys over 1000 are "not found". The first
    /// statement is slow (50 ms), as under load, so the look-ups behind it gather.
    private static func squares(_ recorder: Recorder) -> BatchedLookup<Int64, Int64>.Fetch {
        { connection, keys in
            let first = recorder.sizes.withLock { sizes in
                sizes.append(keys.count)
                return sizes.count == 1
            }
            if first { _ = try connection.execute("SELECT pg_sleep(0.05)") }
            let literal = "{" + keys.map(String.init).joined(separator: ",") + "}"
            var found: [Int64: Int64] = [:]
            for row in try connection.executePrepared(
                "SELECT k, k * k AS square FROM unnest($1::bigint[]) AS k WHERE k <= 1000", [literal]).rows {
                if let key = row.int("k"), let square = row.int("square") { found[Int64(key)] = Int64(square) }
            }
            return found
        }
    }

    @Test func concurrentLookupsShareStatementsAndEachGetsItsOwnAnswer() async throws {
        let recorder = Recorder()
        let lookup = BatchedLookup(pool: DatabasePool(url: DatabaseTests.url, workers: 2), maxInFlight: 1,
                                   fetch: Self.squares(recorder))
        let keys: [Int64] = (1...300).map { Int64($0) } + [5, 5, 7, 1001, 2002]
        let answers = try await withThrowingTaskGroup(of: (Int64, Int64?).self) { group in
            for key in keys { group.addTask { (key, try await lookup.value(for: key)) } }
            return try await group.reduce(into: [(Int64, Int64?)]()) { $0.append($1) }
        }
        #expect(answers.count == keys.count)
        for (key, square) in answers { #expect(square == (key <= 1000 ? key * key : nil), "key \(key)") }
        // 305 look-ups, one batch at a time: far fewer statements than look-ups, none over the cap.
        #expect(recorder.statements < keys.count / 10, "\(recorder.sizes.withLock { $0 })")
    }

    @Test func aLoneLookupRunsAtOnceAndBatchesAreCapped() async throws {
        let recorder = Recorder()
        let lookup = BatchedLookup(pool: DatabasePool(url: DatabaseTests.url, workers: 1), maxInFlight: 1, maxBatch: 10,
                                   fetch: Self.squares(recorder))
        #expect(try await lookup.value(for: 12) == 144)
        #expect(recorder.sizes.withLock { $0 } == [1])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in 1...95 {
                group.addTask {
                    let square = try await lookup.value(for: Int64(key))
                    #expect(square == Int64(key * key))
                }
            }
            try await group.waitForAll()
        }
        let later = recorder.sizes.withLock { Array($0.dropFirst()) }
        #expect(later.allSatisfy { $0 <= 10 } && later.reduce(0, +) == 95, "\(later)")
    }

    @Test func aFailedStatementFailsEveryLookupOfItsBatchAndTheNextBatchStillRuns() async throws {
        let calls = Atomic<Int>(0)
        let lookup = BatchedLookup<Int64, Int64>(pool: DatabasePool(url: DatabaseTests.url, workers: 1)) { connection, keys in
            if calls.add(1, ordering: .relaxed).oldValue == 0 { _ = try connection.execute("SELECT 1/0") }
            return Dictionary(uniqueKeysWithValues: keys.map { ($0, $0) })
        }
        await #expect(throws: DatabaseError.self) { _ = try await lookup.value(for: 1) }
        #expect(try await lookup.value(for: 2) == 2)
    }

    @Test func anUnreachableDatabaseAnswersEveryWaiterWithUnavailable() async {
        let lookup = BatchedLookup<Int64, Int64>(pool: DatabasePool(url: "postgresql://postgres@127.0.0.1:1/none", workers: 1)) { _, _ in
            Issue.record("fetched without a connection")
            return [:]
        }
        await withTaskGroup(of: Void.self) { group in
            for key in 1...20 {
                group.addTask {
                    do {
                        _ = try await lookup.value(for: Int64(key))
                        Issue.record("answered without a database")
                    } catch let error as DatabaseError {
                        guard case .unavailable = error else { Issue.record("\(error)"); return }
                    } catch {
                        Issue.record("\(error)")
                    }
                }
            }
        }
    }
}
