import Foundation
import Hub

/// Runs scheduled events and reminders through the pipeline when they are due: a thread of its
/// own (never an event loop) with its own PostgreSQL connection, on PostgreSQL's clock. It polls
/// every `pollMillis`, and at once when `wake()` says something is due now.
public final class EventScheduler: Sendable {
    private let url: String
    private let pipeline: EventPipeline
    private let reminders: ReminderRunner
    private let parser: EventParser
    private let logger: Logger
    private let pollMillis: Int
    private let leaseSeconds: Int
    private let wakeup = DispatchSemaphore(value: 0)

    /// How often reminders gain runs for time zones that users took up since, and parents' weekly
    /// attendance summaries are looked for.
    static let zoneRefreshSeconds: Double = 10

    public init(url: String, pipeline: EventPipeline, parser: EventParser, logger: Logger, pollMillis: Int = 250,
                leaseSeconds: Int = 60)
    {
        self.url = url
        self.pipeline = pipeline
        reminders = ReminderRunner(parser: parser, logger: logger)
        self.parser = parser
        self.logger = logger
        self.pollMillis = pollMillis
        self.leaseSeconds = leaseSeconds
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "hub-scheduler"
        thread.start()
    }

    public func wake() { wakeup.signal() }

    private func run() {
        var connection: PostgresConnection?
        var zonesRefreshed = Date.distantPast
        while true {
            do {
                if connection == nil || connection?.isHealthy == false { connection = try PostgresConnection(url: url) }
                if -zonesRefreshed.timeIntervalSinceNow > Self.zoneRefreshSeconds {
                    try ReminderStore.addNewZones(on: connection!)
                    try ReminderStore.planUnplanned(on: connection!)
                    _ = try acceptBlocking(AttendanceSummary.due(parser: parser, on: connection!))
                    zonesRefreshed = Date()
                }
                let fired = try runDue(on: connection!) + reminders.runDue(on: connection!, accept: acceptBlocking)
                if fired == 0 {
                    _ = wakeup.wait(timeout: .now() + .milliseconds(pollMillis))
                }
            } catch {
                logger.warning("scheduler", [("error", .string("\(error)"))])
                connection = nil
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Sends what is due; returns how many events were claimed.
    func runDue(on connection: PostgresConnection) throws -> Int {
        let due = try ScheduledEventStore.claimDue(limit: EventParser.maxEventsPerRequest, leaseSeconds: leaseSeconds,
                                                   on: connection)
        guard !due.isEmpty else { return 0 }
        let results = try acceptBlocking(due.map(\.event))
        try ScheduledEventStore.markSent(due.map(\.id), eventIDs: results.map(\.eventID), on: connection)
        logger.info("scheduled events sent", [("count", .int(Int64(due.count)))])
        return due.count
    }

    /// The pipeline's `accept`, waited for on this thread (which has nothing else to do meanwhile).
    private func acceptBlocking(_ events: [EventRequest]) throws -> [EventPipeline.Result] {
        guard !events.isEmpty else { return [] }
        let outcome = Locked<Result<[EventPipeline.Result], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let pipeline = self.pipeline
        Task {
            do {
                let results = try await pipeline.accept(events)
                outcome.withLock { $0 = .success(results) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
