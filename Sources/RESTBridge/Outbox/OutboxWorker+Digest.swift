import Foundation
import Hub
import NotifyDrivers

/// Digests: a user's held email (or Telegram) rows go out as one message when the first of them is
/// due, and all of them share its outcome.
extension OutboxWorker {
    static let digestChannels: Set<DeliveryChannel> = [.email, .telegram]

    /// Sends one user's due digest, if any; answers whether there was one.
    func sendDigest(_ channel: DeliveryChannel, _ driver: DeliveryDriver, on connection: PostgresConnection) throws -> Bool {
        let rows = try claimDigest(channel, on: connection)
        guard let newest = rows.first else { return false }
        let message = DigestMessage(items: rows.map { DigestMessage.Item(title: $0.title, category: $0.category) },
                                    language: newest.language)
        let text = channel == .telegram ? "\(message.subject)\n\(message.text)" : message.text
        let delivery = Delivery(channel: channel, destination: newest.destination, subject: message.subject, text: text,
                                rightToLeft: newest.language == "ar")
        waitForRate(channel)
        let outcome = Locked<DeliveryOutcome?>(nil)
        let answered = DispatchSemaphore(value: 0)
        driver.send(delivery) { result in
            outcome.withLock { $0 = result }
            answered.signal()
        }
        guard answered.wait(timeout: .now() + .milliseconds(Int(configuration.leaseMillis))) == .success,
              let result = outcome.withLock({ $0 })
        else {
            logger.warning("digest unanswered within the lease", [("channel", .string(channel.rawValue))])
            return true
        }
        for row in rows { try record(row, channel, result, on: connection) }
        logger.info("digest", [("channel", .string(channel.rawValue)), ("user_id", .int(newest.userID)),
                               ("notifications", .int(Int64(rows.count)))])
        return true
    }

    /// Claims every held row of one user once any of them is due (those leased by a worker still
    /// sending excepted), newest first: one message for all of them, whatever their windows.
    private func claimDigest(_ channel: DeliveryChannel, on connection: PostgresConnection) throws -> [Claimed] {
        try connection.executePrepared("""
            WITH one AS (
                SELECT user_id FROM deliveries
                WHERE channel = $1 AND digest IS NOT NULL AND status IN ('PENDING', 'RETRY', 'SENDING')
                    AND available_at <= now()
                ORDER BY available_at LIMIT 1 FOR UPDATE SKIP LOCKED),
            claimed AS (
                UPDATE deliveries d SET status = 'SENDING', attempts = d.attempts + 1, updated_at = now(),
                    available_at = now() + make_interval(secs => $2::double precision / 1000)
                FROM one WHERE d.user_id = one.user_id AND d.channel = $1 AND d.digest IS NOT NULL
                    AND (d.status IN ('PENDING', 'RETRY') OR (d.status = 'SENDING' AND d.available_at <= now()))
                RETURNING d.id, d.notification_id, d.user_id, d.destination, d.attempts)
            SELECT c.id, c.notification_id, c.user_id, c.destination, c.attempts, n.title, n.category,
                COALESCE(p.language, u.language) AS language
            FROM claimed c JOIN notifications n ON n.id = c.notification_id JOIN users u ON u.id = c.user_id
            LEFT JOIN notification_preferences p ON p.user_id = c.user_id
            ORDER BY n.id DESC
            """, [channel.rawValue, String(configuration.leaseMillis)]).rows.compactMap { row in
            guard let id = row.int("id"), let notification = row.int("notification_id"), let user = row.int("user_id") else {
                return nil
            }
            return Claimed(id: Int64(id), notificationID: Int64(notification), userID: Int64(user),
                           destination: row.string("destination") ?? "", attempts: row.int("attempts") ?? 1,
                           title: row.string("title") ?? "", message: "", language: row.string("language") ?? "en",
                           condition: nil, stepAfter: 0, isRead: false, capped: false,
                           category: row.string("category") ?? "general")
        }
    }
}
