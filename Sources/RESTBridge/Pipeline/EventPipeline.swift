import Channels
import Hub

/// The path every domain event takes: `event → recipients → notifications → live push → outbox`.
///
/// Events from concurrent requests are stored together: while one batch is at PostgreSQL, the
/// events that arrive wait and leave together in the next statement (`EventStore`), so the cost
/// per event is rows, not round trips and commits. Batches run one at a time (each commits before
/// the next begins) and are pushed in that order while the next is stored: pushes leave in commit
/// order, so every user's notifications arrive in id order, whatever the concurrency of the callers.
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
        let event: EventRequest
        /// The new notifications' rows (none for a duplicate).
        let rows: [EventStore.NewRow]
        let createdAt: String

        /// The new notifications as stored (empty for a duplicate).
        public var notifications: [StoredNotification] { rows.map(notification) }

        func notification(_ row: EventStore.NewRow) -> StoredNotification {
            StoredNotification(id: row.id, recipientID: row.recipientID, event: event, eventID: eventID,
                               language: row.language, deliveryMethod: row.deliveryMethod, createdAt: createdAt)
        }
    }

    private let hub: ChannelHub
    private let batcher: Batcher<Submission, [Result]>

    /// One caller's events, each already encoded as its element of the statement's input: the
    /// encoding (0.3 ms for 100 events) is done by the caller, not in the one event slot.
    private struct Submission: Sendable {
        let events: [EventRequest]
        let elements: [[UInt8]]
    }

    /// `onQueued` runs when outbox rows were written (wakes the outbox worker).
    /// `digestWindowSeconds` > 0 replaces the hourly/daily/weekly digest windows (tests).
    /// `bus`: the PostgreSQL bus, when it carries the pushes to the other nodes (each batch's
    /// statement writes its one bus row).
    public init(pool: DatabasePool, hub: ChannelHub, digestWindowSeconds: Int = 0, bus: PostgresBus? = nil,
                onQueued: @escaping @Sendable () -> Void = {}) {
        let busNode = bus?.settings.nodeID
        self.hub = hub
        batcher = Batcher(pool: pool, maxInFlight: 1, maxCost: EventParser.maxEventsPerRequest,
                          cost: { $0.events.count },
                          isolateFailures: true, afterBatch: { Self.push($0.flatMap { $0 }, hub: hub) }) { connection, groups in
            let events = groups.flatMap(\.events)
            let read = try EventStore.run(events, elements: groups.flatMap(\.elements),
                                          digestWindowSeconds: digestWindowSeconds, on: connection, busNode: busNode)
            return { connection in
                let results = Self.results(of: events, try read(connection))
                if results.contains(where: { $0.deliveriesQueued > 0 || $0.webhooksInBatch > 0 }) { onQueued() }
                if let bus, results.contains(where: { !$0.duplicate }) { bus.countEventBatch() }
                var rest = results[...]
                return groups.map { group in
                    defer { rest = rest.dropFirst(group.events.count) }
                    return Array(rest.prefix(group.events.count))
                }
            }
        }
    }

    /// Stores `events` in one transaction (all or none), pushes the new notifications live, and
    /// answers one result per event, in order.
    public func accept(_ events: [EventRequest]) async throws -> [Result] {
        guard !events.isEmpty else { return [] }
        return try await batcher.submit(Submission(events: events, elements: events.map(EventStore.element)))
    }

    /// The events as stored, as the endpoints answer them.
    private static func results(of events: [EventRequest], _ stored: [EventStore.Stored]) -> [Result] {
        var results: [Result] = []
        results.reserveCapacity(events.count)
        for (event, outcome) in zip(events, stored) {
            results.append(Result(eventID: outcome.eventID,
                                  notificationIDs: outcome.duplicate ? outcome.existingIDs : outcome.notifications.map(\.id),
                                  duplicate: outcome.duplicate,
                                  deliveriesQueued: outcome.notifications.reduce(0) { $0 + $1.queuedDeliveries },
                                  webhooksInBatch: outcome.webhooksInBatch, event: event, rows: outcome.notifications,
                                  createdAt: outcome.createdAt))
        }
        return results
    }

    /// The live pushes of a committed batch, after its callers have their answers and in commit
    /// order (the next batch is at the database meanwhile: `Batcher`'s `afterBatch`), for the
    /// recipients with a session on this node (the other nodes push theirs from the bus). An
    /// event's notifications differ by id and recipient within a language and a set of channels:
    /// each such group's push is encoded once and copied with the two filled in (a room of 10,000
    /// took 8.5 µs a push encoded one by one). The channel then frames each once for all of its
    /// recipient's sessions. The hub's publish generation moves even when no recipient is here: a
    /// handshake that read its unread count before this commit must read it again (see
    /// `ChannelHub.publishGeneration`).
    private static func push(_ results: [Result], hub: ChannelHub) {
        let now = WallClock.nowMillis()
        var messages: [ChannelMessage] = []
        for result in results where !result.rows.isEmpty {
            // An event that expired before it was stored is kept for the record, never pushed.
            if let expires = result.event.expiresAt, let millis = InboxTime.millis(expires), millis <= now { continue }
            var templates: [TemplateKey: JSONTemplate] = [:]
            for row in result.rows {
                let target: ChannelTarget = row.recipientID.map { .user($0) } ?? .everyone
                guard hub.hasSessions(for: target) else { continue }
                let key = TemplateKey(language: row.language, deliveryMethod: row.deliveryMethod,
                                      announcement: row.recipientID == nil)
                let template: JSONTemplate
                if let known = templates[key] {
                    template = known
                } else {
                    template = result.notification(row).pushTemplate(now: now)
                    templates[key] = template
                }
                messages.append(ChannelMessage(target, json: StoredNotification.push(template, id: row.id, recipientID: row.recipientID),
                                               notificationID: row.id))
            }
        }
        hub.publishCommitted(messages)
    }

    /// What an event's pushes differ by, besides their id and recipient.
    private struct TemplateKey: Hashable {
        let language: Language
        let deliveryMethod: String
        let announcement: Bool
    }
}
