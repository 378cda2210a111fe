/// The one SQL that queues webhook messages: one WEBHOOK delivery per enabled endpoint that
/// subscribes to the type (exactly or by wildcard, `hub_webhook_wants`), with a new stable
/// `webhook-id` and the exact body to sign, `{"type", "timestamp", "data"}`. It is an INSERT to put
/// in a CTE or after one, so each message is written in the statement (and transaction) of the
/// change that causes it: the event batch, a read, an outbox outcome, a new user.
enum WebhookOutbox {
    /// `type` and `data` are SQL expressions (a jsonb object for `data`) over the FROM item `source`;
    /// `endpoints` picks the endpoints `e` (by default: enabled and subscribed to the type).
    static func insert(type: String, data: String, from source: String, endpoints: String? = nil) -> String {
        """
        INSERT INTO deliveries (channel, destination, endpoint_id, webhook_id, event_type, payload)
        SELECT 'WEBHOOK', e.id::text, e.id, \(newWebhookID), \(type),
            jsonb_build_object('type', \(type), 'timestamp', hub_iso(now()), 'data', \(data))::text
        FROM \(source) JOIN webhook_endpoints e ON \(endpoints ?? "NOT e.disabled AND hub_webhook_wants(e.event_types, \(type))")
        """
    }

    /// A Standard Webhooks message id: `msg_` and 32 hex digits, unique across databases.
    static let newWebhookID = "'msg_' || replace(gen_random_uuid()::text, '-', '')"

    /// The data of `notification.delivered` / `notification.failed`, from a deliveries row `alias`.
    static func deliveryData(_ alias: String, reason: String? = nil) -> String {
        """
        jsonb_build_object('notification_id', \(alias).notification_id, 'user_id', \(alias).user_id,
            'channel', \(alias).channel, 'delivery_id', \(alias).id\(reason.map { ", 'reason', \($0)" } ?? ""))
        """
    }
}
