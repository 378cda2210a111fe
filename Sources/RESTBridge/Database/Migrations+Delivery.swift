extension Migrations {
    /// Migrations of the channels beyond in-app: Web Push, escalation, webhooks, the SMS cap, digests.
    static let delivery: [Migration] = [
        // Web Push: a user's browser subscriptions (several devices each; an endpoint is one
        // browser profile, so it belongs to one user at a time), a switch for the channel (on by
        // default: a subscription is already an opt-in), and one PUSH delivery per subscription,
        // its id in `destination`.
        Migration(version: 7, name: "web push subscriptions and the PUSH channel", sql: """
            CREATE TABLE push_subscriptions (
                id          bigserial PRIMARY KEY,
                user_id     bigint NOT NULL REFERENCES users ON DELETE CASCADE,
                endpoint    text NOT NULL UNIQUE,
                p256dh      text NOT NULL,
                auth        text NOT NULL,
                user_agent  text,
                created_at  timestamptz NOT NULL DEFAULT now(),
                updated_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
            ALTER TABLE notification_preferences ADD COLUMN push_enabled boolean NOT NULL DEFAULT true;
            ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
            ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
                CHECK (channel IN ('EMAIL', 'SMS', 'TELEGRAM', 'PUSH'));
            ALTER TABLE deliveries DROP CONSTRAINT deliveries_notification_id_channel_user_id_key;
            ALTER TABLE deliveries ADD CONSTRAINT deliveries_notification_channel_destination_key
                UNIQUE (notification_id, channel, user_id, destination);
            """),
        // Escalation: a step is an outbox row due `step_after` seconds after its notification, sent
        // only if `send_if` still holds then. A read cancels its notification's `unread` steps in
        // the read's own transaction (CANCELLED, with the reason in last_error); the worker checks
        // `offline` when the row is due.
        Migration(version: 8, name: "escalation steps in the outbox", sql: """
            ALTER TABLE deliveries ADD COLUMN send_if text CHECK (send_if IN ('unread', 'offline'));
            ALTER TABLE deliveries ADD COLUMN step_after integer;
            ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
            ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
                CHECK (status IN ('PENDING', 'SENDING', 'DELIVERED', 'RETRY', 'FAILED', 'CANCELLED'));
            CREATE INDEX deliveries_unread_steps ON deliveries (notification_id)
                WHERE send_if = 'unread' AND status IN ('PENDING', 'RETRY');
            """),
        // Outbound webhooks (Standard Webhooks): endpoints with their event types and secrets (the
        // previous one keeps signing until `previous_secret_until` after a rotation), and one
        // WEBHOOK delivery per message and endpoint, drained by the outbox like every channel: its
        // `webhook_id` stays the same across retries and replays, its `payload` is the exact body
        // signed. No notification or user: those columns become optional for WEBHOOK rows only.
        // Every attempt is kept for the delivery log.
        Migration(version: 9, name: "outbound webhooks", sql: """
            CREATE TABLE webhook_endpoints (
                id                      bigserial PRIMARY KEY,
                url                     text NOT NULL,
                description             text NOT NULL DEFAULT '',
                event_types             text[] NOT NULL,
                secret                  text NOT NULL,
                previous_secret         text,
                previous_secret_until   timestamptz,
                disabled                boolean NOT NULL DEFAULT false,
                disabled_reason         text,
                failing_since           timestamptz,
                created_at              timestamptz NOT NULL DEFAULT now(),
                updated_at              timestamptz NOT NULL DEFAULT now()
            );

            -- Does an endpoint subscribed to `patterns` want `type`? Exact names, or a trailing
            -- wildcard: `notification.*` (every type starting `notification.`), `*` (all).
            CREATE FUNCTION hub_webhook_wants(patterns text[], type text) RETURNS boolean
            LANGUAGE sql IMMUTABLE AS $$
                SELECT EXISTS (SELECT 1 FROM unnest(patterns) AS p(pattern)
                    WHERE pattern = type OR (right(pattern, 1) = '*' AND starts_with(type, left(pattern, -1))))
            $$;

            ALTER TABLE deliveries ALTER COLUMN notification_id DROP NOT NULL;
            ALTER TABLE deliveries ALTER COLUMN user_id DROP NOT NULL;
            ALTER TABLE deliveries ADD COLUMN endpoint_id bigint REFERENCES webhook_endpoints ON DELETE CASCADE;
            ALTER TABLE deliveries ADD COLUMN webhook_id text;
            ALTER TABLE deliveries ADD COLUMN event_type text;
            ALTER TABLE deliveries ADD COLUMN payload text;
            ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
            ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
                CHECK (channel IN ('EMAIL', 'SMS', 'TELEGRAM', 'PUSH', 'WEBHOOK'));
            ALTER TABLE deliveries ADD CONSTRAINT deliveries_shape_check CHECK (CASE WHEN channel = 'WEBHOOK'
                THEN endpoint_id IS NOT NULL AND webhook_id IS NOT NULL AND payload IS NOT NULL
                ELSE notification_id IS NOT NULL AND user_id IS NOT NULL END);
            CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id) WHERE endpoint_id IS NOT NULL;
            CREATE INDEX deliveries_webhook_failed ON deliveries (endpoint_id, created_at)
                WHERE endpoint_id IS NOT NULL AND status = 'FAILED';

            CREATE TABLE webhook_attempts (
                id              bigserial PRIMARY KEY,
                delivery_id     bigint NOT NULL REFERENCES deliveries ON DELETE CASCADE,
                attempted_at    timestamptz NOT NULL DEFAULT now(),
                status_code     integer,
                response        text NOT NULL DEFAULT '',
                error           text,
                duration_ms     integer NOT NULL,
                next_retry_at   timestamptz
            );
            CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
            """),
        // The daily SMS cap counts a user's recent SMS at each claim.
        Migration(version: 14, name: "index SMS deliveries by user", sql: """
            CREATE INDEX deliveries_sms_by_user ON deliveries (user_id, updated_at) WHERE channel = 'SMS';
            """),
        // Digests: email and Telegram may be held per window (`deliveries.digest`, due at the
        // window's end) and sent as one message for all of a user's held rows.
        Migration(version: 15, name: "email and Telegram digests", sql: """
            ALTER TABLE notification_preferences
                ADD COLUMN email_digest text NOT NULL DEFAULT 'off'
                    CHECK (email_digest IN ('off', 'hourly', 'daily', 'weekly')),
                ADD COLUMN telegram_digest text NOT NULL DEFAULT 'off'
                    CHECK (telegram_digest IN ('off', 'hourly', 'daily', 'weekly')),
                ADD COLUMN digest_time time NOT NULL DEFAULT '18:00',
                ADD COLUMN digest_day text NOT NULL DEFAULT 'sunday' CHECK (digest_day IN
                    ('sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'));
            ALTER TABLE deliveries ADD COLUMN digest text;
            CREATE INDEX deliveries_digest_due ON deliveries (channel, available_at)
                WHERE digest IS NOT NULL AND status IN ('PENDING', 'RETRY', 'SENDING');

            -- The end of the digest window that `at` falls in, on the wall clock of `tz`: the next
            -- hour; the next `at_time`; the next `on_day` at `at_time`. With `window_seconds` > 0
            -- (tests), the next multiple of that many seconds instead.
            CREATE FUNCTION hub_digest_until(kind text, tz text, at_time time, on_day text, at timestamptz,
                                             window_seconds integer) RETURNS timestamptz
            LANGUAGE plpgsql STABLE AS $$
            DECLARE
                local_time timestamp := at AT TIME ZONE tz;
                candidate timestamp;
                target integer;
            BEGIN
                IF window_seconds > 0 THEN
                    RETURN to_timestamp((floor(extract(epoch FROM at) / window_seconds) + 1) * window_seconds);
                END IF;
                IF kind = 'hourly' THEN
                    RETURN (date_trunc('hour', local_time) + interval '1 hour') AT TIME ZONE tz;
                END IF;
                candidate := local_time::date + at_time;
                IF kind = 'weekly' THEN
                    target := array_position(ARRAY['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday',
                                                   'saturday'], on_day) - 1;
                    candidate := candidate + ((target - extract(dow FROM local_time)::integer + 7) % 7) * interval '1 day';
                    IF candidate <= local_time THEN candidate := candidate + interval '7 days'; END IF;
                ELSIF candidate <= local_time THEN
                    candidate := candidate + interval '1 day';
                END IF;
                RETURN candidate AT TIME ZONE tz;
            END $$;
            """),
    ]
}
