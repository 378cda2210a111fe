import Foundation
import Hub
import NotifyDrivers
import Synchronization

/// Sends the outbox: worker threads per channel, each with its own PostgreSQL connection and its
/// own driver instance. A worker claims due rows with `FOR UPDATE SKIP LOCKED` (safe with several
/// hubd nodes) and leases them; it sends, then records delivered / retry at T (exponential back-off
/// with jitter, or the provider's retry_after) / failed for good. A worker that dies mid-send leaves
/// its rows leased: they become due again when the lease ends, so a delivery is sent at least once
/// and twice only if a crash falls between the provider's acceptance and the recording.
public final class OutboxWorker: Sendable {
    public struct Configuration: Sendable {
        public var retryBaseMillis: Int64 = 5_000
        public var retryMaxMillis: Int64 = 3_600_000
        /// How long a claimed row stays with its worker; longer than any send can take.
        public var leaseMillis: Int64 = 120_000
        public var maxAttempts = 8
        /// SMS sent to one user in 24 h at most; past it non-URGENT SMS are dropped as `capped`
        /// (SMS cost money for every message).
        public var smsDailyCap = 10
        /// Rows one worker claims and keeps in flight together (HTTP drivers; SMTP sends them in turn).
        public var batchSize = 10
        public var idleMillis = 250
        public var workersPerChannel = 2
        /// Sends per second per channel, shared by that channel's workers (Telegram allows ~30/s).
        public var ratePerSecond: [DeliveryChannel: Int] = [.email: 50, .telegram: 25, .sms: 10, .push: 200, .webhook: 200]
        /// Channels retried on a fixed schedule instead of exponential back-off: the delay after
        /// each failed attempt (milliseconds, jittered ±10%); attempts are one more than its length.
        public var retrySchedules: [DeliveryChannel: [Int64]] = [.webhook: OutboxWorker.webhookSchedule]
        /// A webhook endpoint whose deliveries have all failed for this long is disabled.
        public var webhookDisableAfterMillis: Int64 = 5 * 86_400_000

        public init() {}
    }

    public typealias DriverFactory = @Sendable () -> DeliveryDriver
    /// Whether a user had a session at any time since a moment (Unix milliseconds): the `offline`
    /// escalation condition. Set once the channel hub exists; before that no session exists.
    public typealias ConnectedSince = @Sendable (_ userID: Int64, _ sinceMillis: Int64) -> Bool

    /// Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    public static let webhookSchedule: [Int64] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]

    private let url: String
    let configuration: Configuration
    private let drivers: [(DeliveryChannel, DriverFactory)]
    let logger: Logger
    private let wakeups: [DispatchSemaphore]
    let counters = Locked<[String: Int]>([:])
    private let limiter = RateLimiter(shardCount: 4)
    private let connectedSince = Locked<ConnectedSince?>(nil)

    public init(url: String, configuration: Configuration, drivers: [(DeliveryChannel, DriverFactory)], logger: Logger) {
        self.url = url
        self.configuration = configuration
        self.drivers = drivers
        self.logger = logger
        wakeups = drivers.flatMap { _ in (0..<configuration.workersPerChannel).map { _ in DispatchSemaphore(value: 0) } }
    }

    public var channels: [DeliveryChannel] { drivers.map(\.0) }

    /// Outcomes so far, by `CHANNEL:outcome` (for /metrics and logs).
    public var outcomeCounts: [String: Int] { counters.withLock { $0 } }

    public func start() {
        var index = 0
        for (channel, factory) in drivers {
            for number in 0..<configuration.workersPerChannel {
                let wake = wakeups[index]
                index += 1
                let thread = Thread { [self] in run(channel: channel, driver: factory(), wake: wake) }
                thread.name = "hub-outbox-\(channel.rawValue.lowercased())-\(number)"
                thread.start()
            }
        }
    }

    /// Where the `offline` condition of escalation steps is answered (the channel hub's presence).
    public func checkPresence(with connected: @escaping ConnectedSince) {
        connectedSince.withLock { $0 = connected }
    }

    /// New rows were written: idle workers look now instead of at their next poll.
    public func wake() {
        for semaphore in wakeups { semaphore.signal() }
    }

    struct Claimed {
        let id: Int64
        let notificationID: Int64
        let userID: Int64
        let destination: String
        let attempts: Int
        let title: String
        let message: String
        let language: String
        /// An escalation step's condition and wait, checked again when the row is claimed.
        let condition: EscalationStep.Condition?
        let stepAfter: Int
        let isRead: Bool
        /// Archived by its recipient: dealt with, as a read is, for an `unread` step.
        var isArchived = false
        /// Past the notification's `expires_at`: nothing goes out for it any more.
        var isExpired = false
        /// A non-URGENT SMS to a user who had `smsDailyCap` SMS in the last 24 h.
        let capped: Bool
        /// The notification's category (digests count by it).
        var category = ""
        /// What a PUSH delivery also needs: the notification's fields and its subscription.
        var push: PushFields?
        /// A WEBHOOK delivery's endpoint and message (no notification, no user: ids 0).
        var webhook: WebhookFields?
    }

    struct WebhookFields {
        let endpointID: Int64
        /// nil when the endpoint is disabled.
        let message: WebhookMessage?
    }

    struct PushFields {
        let type: String
        let priority: String
        let createdAt: String
        let url: String?
        let collapseKey: String?
        let ttl: Int?
        /// nil when the subscription was deleted after the row was written.
        let subscription: (endpoint: String, p256dh: String, auth: String)?
    }

    private func run(channel: DeliveryChannel, driver: DeliveryDriver, wake: DispatchSemaphore) {
        var connection: PostgresConnection?
        while true {
            do {
                if connection == nil || connection?.isHealthy == false { connection = try PostgresConnection(url: url) }
                let claimed = try claim(channel, on: connection!)
                if claimed.isEmpty {
                    if Self.digestChannels.contains(channel), try sendDigest(channel, driver, on: connection!) { continue }
                    _ = wake.wait(timeout: .now() + .milliseconds(configuration.idleMillis))
                    continue
                }
                try send(claimed, channel, driver, on: connection!)
            } catch {
                logger.warning("outbox worker", [("channel", .string(channel.rawValue)), ("error", .string("\(error)"))])
                connection = nil
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Starts every claimed row's send (the HTTP drivers keep them in flight together) and records
    /// each outcome as soon as it is back: a synchronous driver's right after its send, so a crash
    /// repeats at most the message in hand. A send unanswered within the lease stays leased and
    /// becomes due again.
    private func send(_ claimed: [Claimed], _ channel: DeliveryChannel, _ driver: DeliveryDriver,
                      on connection: PostgresConnection) throws
    {
        let answers = Locked<[(Int, DeliveryOutcome, DeliveryAttempt?)]>([])
        let answered = DispatchSemaphore(value: 0)
        var remaining = claimed.count
        func recordAnswers() throws {
            for (index, outcome, attempt) in answers.withLock({ list in defer { list.removeAll() }; return list }) {
                remaining -= 1
                if channel == .webhook {
                    try recordWebhook(claimed[index], outcome, attempt, on: connection)
                } else {
                    try record(claimed[index], channel, outcome, on: connection)
                }
            }
        }
        for (index, row) in claimed.enumerated() {
            if let reason = cancelReason(row) {
                remaining -= 1
                try cancel(row, channel, reason: reason, on: connection)
                continue
            }
            waitForRate(channel)
            driver.sendReporting(delivery(row, channel)) { outcome, attempt in
                answers.withLock { $0.append((index, outcome, attempt)) }
                answered.signal()
            }
            try recordAnswers()
        }
        let deadline = DispatchTime.now() + .milliseconds(Int(configuration.leaseMillis))
        while remaining > 0 {
            guard answered.wait(timeout: deadline) == .success else {
                logger.warning("outbox sends unanswered within the lease", [("channel", .string(channel.rawValue)),
                                                                            ("count", .int(Int64(remaining)))])
                return
            }
            try recordAnswers()
        }
    }

    /// Why a claimed row no longer goes out, if it does not: its notification expired (any
    /// channel), the SMS cap, or an escalation step whose condition passed. A read cancels `unread`
    /// steps in its own transaction; a claimed row that is read anyway was read by a path that does
    /// not (none today), and is not sent either; an archived notification was dealt with too.
    private func cancelReason(_ row: Claimed) -> String? {
        if row.isExpired { return "expired" }
        if row.capped { return "capped" }
        switch row.condition {
        case .unread? where row.isRead:
            return "read"
        case .unread? where row.isArchived:
            return "archived"
        case .offline?:
            let since = WallClock.nowMillis() - Int64(row.stepAfter) * 1000
            let connected = connectedSince.withLock { $0 }?(row.userID, since) ?? false
            return connected ? "online" : nil
        default:
            return nil
        }
    }

    private func cancel(_ row: Claimed, _ channel: DeliveryChannel, reason: String, on connection: PostgresConnection) throws {
        try connection.executePrepared(
            "UPDATE deliveries SET status = 'CANCELLED', last_error = $2, updated_at = now() WHERE id = $1",
            [String(row.id), reason])
        counters.withLock { $0["\(channel.rawValue):cancelled", default: 0] += 1 }
        logger.info("delivery", [("channel", .string(channel.rawValue)), ("delivery_id", .int(row.id)),
                                 ("outcome", .string("cancelled")), ("reason", .string(reason))])
    }

    /// Never hammer a provider: a token bucket per channel, one second wide.
    func waitForRate(_ channel: DeliveryChannel) {
        let limit = configuration.ratePerSecond[channel] ?? 20
        while true {
            let decision = limiter.take("outbox:\(channel.rawValue)", limit: limit, period: 1)
            if decision.allowed { return }
            Thread.sleep(forTimeInterval: 1 / Double(limit))
        }
    }

    private func delivery(_ row: Claimed, _ channel: DeliveryChannel) -> Delivery {
        switch channel {
        case .webhook:
            return .webhook(row.webhook?.message)
        case .push:
            guard let fields = row.push, let subscription = fields.subscription else { return .push(nil) }
            let payload = WebPushMessage.payload(id: row.notificationID, type: fields.type, title: row.title,
                                                 message: row.message, url: fields.url, priority: fields.priority,
                                                 timestamp: fields.createdAt, collapseKey: fields.collapseKey)
            return .push(WebPushMessage(
                endpoint: subscription.endpoint, p256dh: subscription.p256dh, auth: subscription.auth, payload: payload,
                ttlSeconds: WebPushMessage.ttl(priority: fields.priority, override: fields.ttl),
                urgency: WebPushMessage.urgency(priority: fields.priority),
                topic: WebPushMessage.topic(collapseKey: fields.collapseKey)))
        case .telegram:
            return Delivery(channel: channel, destination: row.destination, subject: row.title,
                            text: "\(row.title)\n\(row.message)", rightToLeft: row.language == "ar")
        case .sms:
            return Delivery(channel: channel, destination: row.destination, subject: row.title,
                            text: "\(row.title): \(row.message)", rightToLeft: row.language == "ar")
        default:
            return Delivery(channel: channel, destination: row.destination, subject: row.title, text: row.message,
                            rightToLeft: row.language == "ar")
        }
    }

    private func claim(_ channel: DeliveryChannel, on connection: PostgresConnection) throws -> [Claimed] {
        if channel == .webhook { return try claimWebhooks(on: connection) }
        let result = try connection.executePrepared("""
            \(Self.claimed(returning: "d.id, d.notification_id, d.user_id, d.destination, d.attempts, d.send_if, d.step_after"))
            SELECT c.id, c.notification_id, c.user_id, c.destination, c.attempts, c.send_if, c.step_after, n.is_read,
                n.archived_at IS NOT NULL AS archived, COALESCE(n.expires_at <= now(), false) AS expired, n.title, n.message,
                COALESCE(p.language, u.language) AS language, n.notification_type, n.priority,
                hub_iso(n.created_at) AS created_at, n.data->>'url' AS url, n.data->>'collapse_key' AS collapse_key,
                CASE WHEN n.data->>'ttl' ~ '^[0-9]{1,9}$' THEN (n.data->>'ttl')::integer END AS ttl,
                ps.endpoint, ps.p256dh, ps.auth,
                $1 = 'SMS' AND n.priority <> 'URGENT' AND (SELECT count(*) FROM deliveries x
                    WHERE x.user_id = c.user_id AND x.channel = 'SMS' AND x.updated_at > now() - interval '1 day'
                        AND (x.status IN ('DELIVERED', 'RETRY') OR (x.status = 'SENDING' AND x.id < c.id))) >= $4::integer
                    AS capped
            FROM claimed c JOIN notifications n ON n.id = c.notification_id JOIN users u ON u.id = c.user_id
            LEFT JOIN notification_preferences p ON p.user_id = c.user_id
            LEFT JOIN push_subscriptions ps ON $1 = 'PUSH' AND c.destination ~ '^[0-9]{1,18}$'
                AND ps.id = CASE WHEN c.destination ~ '^[0-9]{1,18}$' THEN c.destination::bigint END
            ORDER BY c.id
            """, [channel.rawValue, String(configuration.batchSize), String(configuration.leaseMillis),
                  String(configuration.smsDailyCap)])
        return result.rows.compactMap { row in
            guard let id = row.int("id"), let notification = row.int("notification_id"), let user = row.int("user_id") else {
                return nil
            }
            var claimed = Claimed(id: Int64(id), notificationID: Int64(notification), userID: Int64(user),
                                  destination: row.string("destination") ?? "", attempts: row.int("attempts") ?? 1,
                                  title: row.string("title") ?? "", message: row.string("message") ?? "",
                                  language: row.string("language") ?? "en",
                                  condition: row.string("send_if").flatMap(EscalationStep.Condition.init(rawValue:)),
                                  stepAfter: row.int("step_after") ?? 0, isRead: row.bool("is_read") ?? false,
                                  capped: row.bool("capped") ?? false)
            claimed.isArchived = row.bool("archived") ?? false
            claimed.isExpired = row.bool("expired") ?? false
            if channel == .push {
                let subscription = row.string("endpoint").map { endpoint in
                    (endpoint: endpoint, p256dh: row.string("p256dh") ?? "", auth: row.string("auth") ?? "")
                }
                claimed.push = PushFields(type: row.string("notification_type") ?? "", priority: row.string("priority") ?? "MEDIUM",
                                          createdAt: row.string("created_at") ?? "", url: row.string("url"),
                                          collapseKey: row.string("collapse_key"), ttl: row.int("ttl"),
                                          subscription: subscription)
            }
            return claimed
        }
    }

    /// The CTE `claimed` every claim starts with: due rows of channel `$1`, at most `$2`, leased
    /// for `$3` ms (a lease that ran out makes a SENDING row due again; rows held for a digest are
    /// not claimed here), with `columns` of each.
    static func claimed(returning columns: String) -> String {
        """
        WITH claimed AS (
            UPDATE deliveries d SET status = 'SENDING', attempts = d.attempts + 1, updated_at = now(),
                available_at = now() + make_interval(secs => $3::double precision / 1000)
            WHERE d.id IN (
                SELECT id FROM deliveries
                WHERE channel = $1 AND status IN ('PENDING', 'RETRY', 'SENDING') AND available_at <= now()
                    AND digest IS NULL
                ORDER BY available_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING \(columns))
        """
    }

    func record(_ row: Claimed, _ channel: DeliveryChannel, _ outcome: DeliveryOutcome,
                        on connection: PostgresConnection) throws
    {
        let kind: String
        switch outcome {
        case .delivered(let providerID):
            kind = "delivered"
            try connection.executePrepared("""
                WITH d AS (UPDATE deliveries SET status = 'DELIVERED', provider_id = $2, last_error = NULL, updated_at = now()
                    WHERE id = $1 RETURNING id, notification_id, user_id, channel)
                \(WebhookOutbox.insert(type: "'notification.delivered'", data: WebhookOutbox.deliveryData("d"), from: "d"))
                """, [String(row.id), providerID])
            try connection.executePrepared(
                "UPDATE notifications SET status = 'DELIVERED' WHERE id = $1 AND status = 'SENT'", [String(row.notificationID)])
        case .retry(let after, let reason) where row.attempts < maxAttempts(channel):
            kind = "retry"
            let delay = max(Int64(after * 1000), backoff(attempt: row.attempts, channel: channel))
            try connection.executePrepared("""
                UPDATE deliveries SET status = 'RETRY', last_error = $2, updated_at = now(),
                    available_at = now() + make_interval(secs => $3::double precision / 1000) WHERE id = $1
                """, [String(row.id), String(reason.prefix(500)), String(delay)])
        case .retry(_, let reason), .failed(let reason):
            kind = "failed"
            try connection.executePrepared("""
                WITH d AS (UPDATE deliveries SET status = 'FAILED', last_error = $2, updated_at = now()
                    WHERE id = $1 RETURNING id, notification_id, user_id, channel, last_error)
                \(WebhookOutbox.insert(type: "'notification.failed'", data: WebhookOutbox.deliveryData("d", reason: "d.last_error"),
                                       from: "d"))
                """, [String(row.id), String(reason.prefix(500))])
            // The notification failed when every one of its deliveries did (and it was not read meanwhile).
            try connection.executePrepared("""
                UPDATE notifications n SET status = 'FAILED' WHERE n.id = $1 AND n.status = 'SENT'
                    AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id AND d.status <> 'FAILED')
                """, [String(row.notificationID)])
            if channel == .push && reason == WebPushDriver.goneReason, let subscription = Int64(row.destination) {
                // The push service says the subscription is gone for good (404/410): forget it.
                try connection.executePrepared("DELETE FROM push_subscriptions WHERE id = $1", [String(subscription)])
            }
            if channel == .telegram && reason.hasPrefix(TelegramDriver.blockedPrefix) {
                try connection.executePrepared("""
                    UPDATE notification_preferences SET telegram_enabled = false, telegram_disabled_reason = $2,
                        updated_at = now() WHERE user_id = $1
                    """, [String(row.userID), "The bot was blocked by the user (Telegram answered 403); turn Telegram on again to retry."])
            }
        }
        counters.withLock { $0["\(channel.rawValue):\(kind)", default: 0] += 1 }
        logger.info("delivery", [("channel", .string(channel.rawValue)), ("delivery_id", .int(row.id)),
                                 ("outcome", .string(kind)), ("attempt", .int(Int64(row.attempts)))])
    }

    /// Attempts before a delivery of `channel` fails for good.
    func maxAttempts(_ channel: DeliveryChannel) -> Int {
        configuration.retrySchedules[channel].map { $0.count + 1 } ?? configuration.maxAttempts
    }

    /// The delay after failed attempt number `attempt`: the channel's schedule ±10%, or
    /// exponential back-off with "equal jitter" (half fixed, half random).
    func backoff(attempt: Int, channel: DeliveryChannel? = nil) -> Int64 {
        if let schedule = channel.flatMap({ configuration.retrySchedules[$0] }), !schedule.isEmpty {
            let base = schedule[min(max(attempt, 1), schedule.count) - 1]
            return max(0, base + Int64.random(in: -(base / 10)...(base / 10)))
        }
        let ceiling = min(configuration.retryMaxMillis, configuration.retryBaseMillis << Int64(min(attempt - 1, 20)))
        return ceiling / 2 + Int64.random(in: 0...max(1, ceiling / 2))
    }
}
