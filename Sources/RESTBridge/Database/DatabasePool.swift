import Hub
import Foundation
import Synchronization

/// A few worker threads, each owning one PostgreSQL connection. Event loops never call libpq:
/// they hand a job to the pool and get the result back through `async`. A broken connection is
/// dropped and remade on the next job, so the pool recovers by itself when PostgreSQL restarts.
public final class DatabasePool: Sendable {
    public enum Health: String, Sendable {
        case connected, unavailable
    }

    private struct Job: Sendable {
        let run: @Sendable (PostgresConnection?, DatabaseError?) -> Void
    }

    private let url: String
    private let queue = Locked<[Job]>([])
    private let available = DispatchSemaphore(value: 0)
    private let healthy = Atomic<Bool>(true)
    private let maxQueued: Int

    public init(url: String, workers: Int = 4, maxQueued: Int = 100_000) {
        self.url = url
        self.maxQueued = maxQueued
        for index in 0..<workers {
            let thread = Thread { [self] in self.work() }
            thread.name = "hub-db-\(index)"
            thread.start()
        }
    }

    /// What `/api/health/` reports: the outcome of the latest connection attempt or statement.
    public var health: Health { healthy.load(ordering: .relaxed) ? .connected : .unavailable }

    /// Runs `body` with a connection on a worker thread.
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { connection in
                do {
                    continuation.resume(returning: try body(try connection.get()))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `job` on a worker thread with its connection, or with the reason there is none
    /// (unavailable, or `overloaded` at once when the queue is full). For callers that are not async.
    public func submit(_ job: @escaping @Sendable (Result<PostgresConnection, DatabaseError>) -> Void) {
        let accepted = queue.withLock { jobs -> Bool in
            guard jobs.count < maxQueued else { return false }
            jobs.append(Job { connection, failure in
                if let connection { job(.success(connection)) } else { job(.failure(failure ?? .unavailable("no connection"))) }
            })
            return true
        }
        if accepted { available.signal() } else { job(.failure(.overloaded)) }
    }

    /// Runs `body` inside BEGIN … COMMIT; any error rolls back.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await run { connection in
            try connection.execute("BEGIN")
            do {
                let value = try body(connection)
                try connection.execute("COMMIT")
                return value
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Blocking variant for start-up (migrations), never called from an event loop.
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<T, any Error>?>(nil)
        Task.detached {
            do {
                let value = try await self.run(body)
                result.withLock { $0 = .success(value) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }

    private func work() {
        var connection: PostgresConnection?
        while true {
            available.wait()
            guard let job = queue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            if connection == nil || connection?.isHealthy == false {
                connection = nil
                do {
                    connection = try PostgresConnection(url: url)
                    healthy.store(true, ordering: .relaxed)
                } catch {
                    healthy.store(false, ordering: .relaxed)
                    job.run(nil, error)
                    continue
                }
            }
            let current = connection!
            job.run(current, nil)
            if !current.isHealthy {
                healthy.store(false, ordering: .relaxed)
                connection = nil
            }
        }
    }
}
