import Channels
import Hub

/// The path every domain event takes: `event → recipients → notifications → live push → outbox`.
///
/// Events from concurrent requests are stored together: while one batch is at PostgreSQL, the
/// events that arrive wait and leave together in the next statement (`EventStore`), so the cost
/// per event is rows, not round trips and commits. Batches run one at a time and each is pushed
/// right after its commit, before the next is stored: pushes leave in commit order, so every
/// user's notifications arrive in id order, whatever the concurrency of the callers.
///
/// Seams for what comes next: a scheduled event is an `EventRequest` kept until its time and then
/// given to `accept`; an extra channel is one more outbox column in `EventStore`; an event for
/// webhooks only has empty `Recipients` and stores no notification (its webhook messages are
/// written by the same statement).
public final class EventPipeline: Sendable {
    /// What an accepted event became, as the events endpoints answer it.
    public struct Result: Sendable {
        public let eventID: Int64
        public let notificationIDs: [Int64]
        public let duplicate: Bool
        public let deliveriesQueued: Int
        /// Webhook messages queued by the batch this event was stored in.
        let webhooksInBatch: Int
        /// The new notifications as stored (empty for a duplicate).
        public let notifications: [StoredNotification]
    }

    private let hub: ChannelHub
    private let batcher: Batcher<[EventRequest], [Result]>

    /// `onQueued` runs when outbox rows were written (wakes the outbox worker).
    /// `digestWindowSeconds` > 0 replaces the hourly/daily/weekly digest windows (tests).
    /// `bus`: the PostgreSQL bus, when it carries the pushes to the other nodes (each batch's
    /// statement writes its one bus row).
    public init(pool: DatabasePool, hub: ChannelHub, digestWindowSeconds: Int = 0, bus: PostgresBus? = nil,
                onQueued: @escaping @Sendable () -> Void = {}) {
        let busNode = bus?.settings.nodeID
        self.hub = hub
        batcher = Batcher(pool: pool, maxInFlight: 1, maxCost: EventParser.maxEventsPerRequest, cost: { $0.count },
                          isolateFailures: true, afterBatch: { Self.push($0.flatMap { $0 }, hub: hub) }) { connection, groups in
            let results = try Self.store(groups.flatMap { $0 }, digestWindowSeconds: digestWindowSeconds, on: connection,
                                       busNode: busNode)
            if results.contains(where: { $0.deliveriesQueued > 0 || $0.webhooksInBatch > 0 }) { onQueued() }
            if let bus, results.contains(where: { !$0.duplicate }) { bus.countEventBatch() }
            var rest = results[...]
            return groups.map { group in
                defer { rest = rest.dropFirst(group.count) }
                return Array(rest.prefix(group.count))
            }
        }
    }

    /// Stores `events` in one transaction (all or none), pushes the new notifications live, and
    /// answers one result per event, in order.
    public func accept(_ events: [EventRequest]) async throws -> [Result] {
        guard !events.isEmpty else { return [] }
        return try await batcher.submit(events)
    }

    /// One statement for the whole batch.
    private static func store(_ events: [EventRequest], digestWindowSeconds: Int, on connection: PostgresConnection,
                              busNode: String?) throws
        -> [Result]
    {
        let stored = try EventStore.store(events, digestWindowSeconds: digestWindowSeconds, on: connection, busNode: busNode)
        var results: [Result] = []
        results.reserveCapacity(events.count)
        for (event, outcome) in zip(events, stored) {
            let notifications = outcome.notifications.map { row in
                StoredNotification(id: row.id, recipientID: row.recipientID, event: event, eventID: outcome.eventID,
                                   language: row.language, deliveryMethod: row.deliveryMethod, createdAt: outcome.createdAt)
            }
            results.append(Result(eventID: outcome.eventID,
                                  notificationIDs: outcome.duplicate ? outcome.existingIDs : notifications.map(\.id),
                                  duplicate: outcome.duplicate,
                                  deliveriesQueued: outcome.notifications.reduce(0) { $0 + $1.queuedDeliveries },
                                  webhooksInBatch: outcome.webhooksInBatch,
                                  notifications: notifications))
        }
        return results
    }

    /// The live pushes of a committed batch, after its callers have their answers and before the
    /// next batch: each notification encoded once (the channel frames it once for all of its
    /// recipient's sessions), all of them handed to the hub together.
    private static func push(_ results: [Result], hub: ChannelHub) {
        let now = WallClock.nowMillis()
        var messages: [ChannelMessage] = []
        messages.reserveCapacity(results.reduce(0) { $0 + $1.notifications.count })
        for result in results {
            for notification in result.notifications {
                // An event that expired before it was stored is kept for the record, never pushed.
                if let expires = notification.expiresAt, let millis = InboxTime.millis(expires), millis <= now { continue }
                messages.append(ChannelMessage(notification.recipientID.map { .user($0) } ?? .everyone,
                                               json: notification.push(now: now), notificationID: notification.id))
            }
        }
        hub.publishCommitted(messages)
    }
}
