import Foundation
import Hub
import NotifyDrivers

/// The WEBHOOK channel of the outbox: its rows carry their own endpoint and message instead of a
/// notification, and every attempt goes to the delivery log (`webhook_attempts`) in the statement
/// that records its outcome, together with the endpoint's health: a success clears
/// `failing_since`; a 410 disables the endpoint at once; failures for `webhookDisableAfterMillis`
/// in a row disable it with the reason.
extension OutboxWorker {
    func claimWebhooks(on connection: PostgresConnection) throws -> [Claimed] {
        let result = try connection.executePrepared("""
            \(Self.claimed(returning: "d.id, d.endpoint_id, d.webhook_id, d.payload, d.attempts"))
            SELECT c.id, c.endpoint_id, c.webhook_id, c.payload, c.attempts, e.url, e.disabled, e.secret,
                CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END AS previous_secret
            FROM claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id
            ORDER BY c.id
            """, [DeliveryChannel.webhook.rawValue, String(configuration.batchSize), String(configuration.leaseMillis)])
        return result.rows.compactMap { row in
            guard let id = row.int("id"), let endpoint = row.int("endpoint_id") else { return nil }
            var message: WebhookMessage?
            if row.bool("disabled") == false, let url = row.string("url"), let secret = row.string("secret") {
                message = WebhookMessage(url: url, id: row.string("webhook_id") ?? "", body: Array((row.string("payload") ?? "").utf8),
                                         secrets: [secret] + (row.string("previous_secret").map { [$0] } ?? []))
            }
            var claimed = Claimed(id: Int64(id), notificationID: 0, userID: 0, destination: String(endpoint),
                                  attempts: row.int("attempts") ?? 1, title: "", message: "", language: "en",
                                  condition: nil, stepAfter: 0, isRead: false, capped: false)
            claimed.webhook = WebhookFields(endpointID: Int64(endpoint), message: message)
            return claimed
        }
    }

    func recordWebhook(_ row: Claimed, _ outcome: DeliveryOutcome, _ attempt: DeliveryAttempt?,
                       on connection: PostgresConnection) throws
    {
        let status: String, error: String?, delay: Int64
        switch outcome {
        case .delivered:
            (status, error, delay) = ("DELIVERED", nil, 0)
        case .retry(let after, let reason) where row.attempts < maxAttempts(.webhook):
            (status, error, delay) = ("RETRY", reason, max(Int64(after * 1000), backoff(attempt: row.attempts, channel: .webhook)))
        case .retry(_, let reason), .failed(let reason):
            (status, error, delay) = ("FAILED", reason, 0)
        }
        let gone = error == WebhookDriver.goneReason
        // One statement: the outcome, the attempt for the log (when one was made: not for a
        // disabled endpoint), and the endpoint's health ($11: disable it now).
        let disableNow = """
            (NOT e.disabled AND ($8::boolean OR ($2 <> 'DELIVERED'
                AND COALESCE(e.failing_since < now() - make_interval(secs => $9::double precision / 1000), false))))
            """
        try connection.executePrepared("""
            WITH d AS (
                UPDATE deliveries SET status = $2, last_error = $3, updated_at = now(),
                    available_at = CASE WHEN $2 = 'RETRY' THEN now() + make_interval(secs => $4::double precision / 1000)
                        ELSE available_at END
                WHERE id = $1 RETURNING id, endpoint_id, status, available_at),
            logged AS (
                INSERT INTO webhook_attempts (delivery_id, status_code, response, error, duration_ms, next_retry_at)
                SELECT id, $5::integer, $6, $3, $7::integer, CASE WHEN status = 'RETRY' THEN available_at END
                FROM d WHERE $7::integer IS NOT NULL)
            UPDATE webhook_endpoints e SET
                failing_since = CASE WHEN $2 = 'DELIVERED' THEN NULL ELSE COALESCE(e.failing_since, now()) END,
                disabled = e.disabled OR \(disableNow),
                disabled_reason = CASE WHEN NOT \(disableNow) THEN e.disabled_reason
                    WHEN $8::boolean THEN 'The endpoint answered 410 Gone.'
                    ELSE 'Every delivery failed since ' || hub_iso(e.failing_since) || '.' END,
                updated_at = CASE WHEN \(disableNow) THEN now() ELSE e.updated_at END
            FROM d WHERE e.id = d.endpoint_id AND $3::text IS DISTINCT FROM $10::text
                AND (($2 = 'DELIVERED') <> (e.failing_since IS NULL) OR \(disableNow))
            """, [String(row.id), status, error.map { String($0.prefix(500)) }, String(delay),
                  attempt?.statusCode.map(String.init), attempt?.response ?? "", attempt.map { String($0.durationMillis) },
                  gone ? "true" : "false", String(configuration.webhookDisableAfterMillis), WebhookDriver.disabledReason])
        let kind = status == "DELIVERED" ? "delivered" : status == "RETRY" ? "retry" : "failed"
        counters.withLock { $0["WEBHOOK:\(kind)", default: 0] += 1 }
        logger.info("delivery", [("channel", .string("WEBHOOK")), ("delivery_id", .int(row.id)),
                                 ("outcome", .string(kind)), ("attempt", .int(Int64(row.attempts)))])
    }
}
