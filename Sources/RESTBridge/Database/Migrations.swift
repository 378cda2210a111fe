/// Numbered schema changes, applied at start-up in order, each once, each in its own transaction
/// under an advisory lock (several hubd nodes may start together). Never edit a released one:
/// add the next number.
public enum Migrations {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    public static let all: [Migration] = [
        Migration(version: 1, name: "users, guardians, tokens, service keys", sql: """
            CREATE FUNCTION hub_iso(ts timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS
                $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

            CREATE TABLE users (
                id          bigserial PRIMARY KEY,
                email       text NOT NULL,
                username    text,
                password    text NOT NULL,
                first_name  text NOT NULL DEFAULT '',
                last_name   text NOT NULL DEFAULT '',
                phone       text,
                role        text NOT NULL DEFAULT 'STUDENT'
                            CHECK (role IN ('ADMIN', 'STAFF', 'TEACHER', 'STUDENT', 'PARENT', 'DRIVER')),
                language    text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'ar', 'fr')),
                is_active   boolean NOT NULL DEFAULT true,
                created_at  timestamptz NOT NULL DEFAULT now(),
                updated_at  timestamptz NOT NULL DEFAULT now(),
                last_login  timestamptz
            );
            CREATE UNIQUE INDEX users_email_key ON users (lower(email));
            CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE username IS NOT NULL;
            CREATE INDEX users_role ON users (role);

            CREATE TABLE guardians (
                parent_id   bigint NOT NULL REFERENCES users ON DELETE CASCADE,
                student_id  bigint NOT NULL REFERENCES users ON DELETE CASCADE,
                created_at  timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (parent_id, student_id)
            );
            CREATE INDEX guardians_student ON guardians (student_id);

            -- Refresh tokens already used (rotation) or revoked; rows past expires_at can go.
            CREATE TABLE revoked_tokens (
                jti         text PRIMARY KEY,
                expires_at  timestamptz NOT NULL,
                revoked_at  timestamptz NOT NULL DEFAULT now()
            );

            -- Platform backends; only the SHA-256 of each key is kept.
            CREATE TABLE service_keys (
                id          bigserial PRIMARY KEY,
                name        text NOT NULL,
                key_sha256  text NOT NULL UNIQUE,
                created_at  timestamptz NOT NULL DEFAULT now(),
                revoked_at  timestamptz
            );
            """),
        Migration(version: 2, name: "notifications, rooms and members", sql: """
            CREATE TABLE notifications (
                id                  bigserial PRIMARY KEY,
                recipient_id        bigint REFERENCES users ON DELETE CASCADE,
                notification_type   text NOT NULL,
                category            text NOT NULL DEFAULT 'general',
                priority            text NOT NULL DEFAULT 'MEDIUM' CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH', 'URGENT')),
                title               text NOT NULL,
                title_arabic        text NOT NULL DEFAULT '',
                title_french        text NOT NULL DEFAULT '',
                message             text NOT NULL,
                message_arabic      text NOT NULL DEFAULT '',
                message_french      text NOT NULL DEFAULT '',
                data                jsonb NOT NULL DEFAULT '{}',
                related_object_type text,
                related_object_id   text,
                is_read             boolean NOT NULL DEFAULT false,
                read_at             timestamptz,
                status              text NOT NULL DEFAULT 'SENT' CHECK (status IN ('SENT', 'DELIVERED', 'READ', 'FAILED')),
                delivery_method     text NOT NULL DEFAULT 'IN_APP',
                requires_action     boolean NOT NULL DEFAULT false,
                action_taken        boolean NOT NULL DEFAULT false,
                created_at          timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX notifications_recipient ON notifications (recipient_id, id);
            CREATE INDEX notifications_unread ON notifications (recipient_id) WHERE NOT is_read;

            CREATE TABLE room_members (
                room        text NOT NULL,
                user_id     bigint NOT NULL REFERENCES users ON DELETE CASCADE,
                added_at    timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (room, user_id)
            );
            CREATE INDEX room_members_user ON room_members (user_id);
            """),
        Migration(version: 3, name: "preferences, events, outbox, announcements", sql: """
            CREATE TABLE notification_preferences (
                user_id                     bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
                in_app_enabled              boolean NOT NULL DEFAULT true,
                email_enabled               boolean NOT NULL DEFAULT false,
                sms_enabled                 boolean NOT NULL DEFAULT false,
                telegram_enabled            boolean NOT NULL DEFAULT false,
                telegram_chat_id            text,
                telegram_disabled_reason    text,
                phone_number                text,
                payment_notifications       boolean NOT NULL DEFAULT true,
                homework_notifications      boolean NOT NULL DEFAULT true,
                lesson_notifications        boolean NOT NULL DEFAULT true,
                attendance_notifications    boolean NOT NULL DEFAULT true,
                gamification_notifications  boolean NOT NULL DEFAULT true,
                grades_notifications        boolean NOT NULL DEFAULT true,
                khatma_notifications        boolean NOT NULL DEFAULT true,
                halaka_notifications        boolean NOT NULL DEFAULT true,
                course_notifications        boolean NOT NULL DEFAULT true,
                system_notifications        boolean NOT NULL DEFAULT true,
                language                    text CHECK (language IN ('en', 'ar', 'fr')),
                timezone                    text NOT NULL DEFAULT 'UTC',
                quiet_hours_enabled         boolean NOT NULL DEFAULT false,
                quiet_hours_start           time NOT NULL DEFAULT '22:00',
                quiet_hours_end             time NOT NULL DEFAULT '07:00',
                updated_at                  timestamptz NOT NULL DEFAULT now()
            );

            -- Domain events posted by backends; the idempotency key makes a retry create nothing.
            CREATE TABLE events (
                id                  bigserial PRIMARY KEY,
                idempotency_key     text UNIQUE,
                event_type          text NOT NULL,
                recipients          jsonb NOT NULL,
                data                jsonb NOT NULL DEFAULT '{}',
                notification_ids    bigint[] NOT NULL DEFAULT '{}',
                created_at          timestamptz NOT NULL DEFAULT now()
            );

            ALTER TABLE notifications ADD COLUMN event_id bigint REFERENCES events ON DELETE SET NULL;
            CREATE INDEX notifications_announcements ON notifications (id) WHERE recipient_id IS NULL;

            -- Read state of announcements (notifications with no recipient, shown to everyone).
            CREATE TABLE announcement_reads (
                notification_id bigint NOT NULL REFERENCES notifications ON DELETE CASCADE,
                user_id         bigint NOT NULL REFERENCES users ON DELETE CASCADE,
                read_at         timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (user_id, notification_id)
            );

            -- The outbox: one row per notification and external channel, written in the same
            -- transaction as the notification; the worker sends it after.
            CREATE TABLE deliveries (
                id              bigserial PRIMARY KEY,
                notification_id bigint NOT NULL REFERENCES notifications ON DELETE CASCADE,
                user_id         bigint NOT NULL REFERENCES users ON DELETE CASCADE,
                channel         text NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'TELEGRAM')),
                destination     text NOT NULL,
                status          text NOT NULL DEFAULT 'PENDING'
                                CHECK (status IN ('PENDING', 'SENDING', 'DELIVERED', 'RETRY', 'FAILED')),
                attempts        integer NOT NULL DEFAULT 0,
                available_at    timestamptz NOT NULL DEFAULT now(),
                last_error      text,
                provider_id     text,
                created_at      timestamptz NOT NULL DEFAULT now(),
                updated_at      timestamptz NOT NULL DEFAULT now(),
                UNIQUE (notification_id, channel, user_id)
            );
            CREATE INDEX deliveries_due ON deliveries (available_at) WHERE status IN ('PENDING', 'RETRY');

            -- When `at` falls in the quiet hours [qs, qe) of time zone `tz`, the moment they end; else NULL.
            CREATE FUNCTION hub_quiet_until(tz text, qs time, qe time, at timestamptz) RETURNS timestamptz
            LANGUAGE plpgsql STABLE AS $$
            DECLARE
                local_time timestamp := at AT TIME ZONE tz;
                t time := local_time::time;
                end_local timestamp;
            BEGIN
                IF qs = qe THEN RETURN NULL; END IF;
                IF qs < qe THEN
                    IF t >= qs AND t < qe THEN end_local := local_time::date + qe; ELSE RETURN NULL; END IF;
                ELSIF t >= qs THEN
                    end_local := local_time::date + 1 + qe;
                ELSIF t < qe THEN
                    end_local := local_time::date + qe;
                ELSE
                    RETURN NULL;
                END IF;
                RETURN end_local AT TIME ZONE tz;
            END $$;
            """),
        Migration(version: 4, name: "index notifications by event", sql: """
            CREATE INDEX notifications_event ON notifications (event_id) WHERE event_id IS NOT NULL;
            """),
        // The event pipeline stores a whole batch of events in one statement: it needs the language
        // each notification was written in (to push it without reading it back). Event ids of a
        // duplicate are read from notifications.event_id, so events.notification_ids is no longer
        // written (an UPDATE per event).
        Migration(version: 5, name: "notification language", sql: """
            ALTER TABLE notifications ADD COLUMN language text;
            """),
        // The pipeline writes an event's notifications in the statement that writes the event and
        // joins each recipient to `users`, so neither reference can dangle when written. The
        // foreign-key checks cost more than the rows: each locks the referenced row (FOR KEY
        // SHARE); an event to a room of 10,000 took ~255 ms with the recipient check, ~118 ms
        // without (INSERT ... SELECT in psql, three runs each). Deleting a user still deletes their
        // notifications, by trigger; events are never deleted.
        Migration(version: 6, name: "notifications without per-row foreign-key checks", sql: """
            ALTER TABLE notifications DROP CONSTRAINT notifications_event_id_fkey;
            ALTER TABLE notifications DROP CONSTRAINT notifications_recipient_id_fkey;
            CREATE FUNCTION hub_delete_user_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM notifications WHERE recipient_id = OLD.id;
                RETURN OLD;
            END $$;
            CREATE TRIGGER users_delete_notifications BEFORE DELETE ON users
                FOR EACH ROW EXECUTE FUNCTION hub_delete_user_notifications();
            """),
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
        // Several nodes on one database (docs/bus.md): the bus stream, one row per publish (an
        // event batch lists its event ids; a message names its target), read by each node in
        // commit order through `txid` and the oldest running transaction; a row wakes the
        // listeners with an empty NOTIFY. Nodes hold leases on PostgreSQL's clock; each node's
        // presence is kept by node, and `hub_presence_users` counts the nodes a user is online on,
        // so exactly one transaction sees a user come online or go offline for the cluster.
        Migration(version: 10, name: "cluster bus, node leases, presence by node", sql: """
            CREATE TABLE hub_bus (
                id          bigserial PRIMARY KEY,
                txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
                node        text NOT NULL,
                kind        text NOT NULL CHECK (kind IN ('events', 'message', 'disconnect', 'room_removed', 'presence', 'node_gone')),
                users       bigint[],
                room        text,
                everyone    boolean NOT NULL DEFAULT false,
                event_ids   bigint[],
                notification_id bigint,
                payload     text,
                created_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX hub_bus_txid ON hub_bus (txid);
            CREATE INDEX hub_bus_created ON hub_bus (created_at);
            CREATE FUNCTION hub_bus_wake() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_notify('hub_bus', ''); RETURN NULL; END $$;
            CREATE TRIGGER hub_bus_wake AFTER INSERT ON hub_bus FOR EACH ROW EXECUTE FUNCTION hub_bus_wake();

            CREATE TABLE hub_nodes (
                node_id     text PRIMARY KEY,
                started_at  timestamptz NOT NULL DEFAULT now(),
                lease_until timestamptz NOT NULL,
                address     text
            );

            CREATE TABLE hub_presence (
                node        text NOT NULL,
                user_id     bigint NOT NULL,
                room        text NOT NULL,
                name        text NOT NULL DEFAULT '',
                role        text NOT NULL DEFAULT '',
                PRIMARY KEY (node, user_id, room)
            );
            CREATE TABLE hub_presence_users (
                user_id     bigint PRIMARY KEY,
                nodes       integer NOT NULL
            );
            """),
        // Languages are BCP 47 tags (`uz`, `ar-MA`; templates fall back to the primary language,
        // then English). The inbox states beside read: seen (the bell was opened), archived,
        // snoozed (hidden until then; the snooze is cleared when it is announced again), expiry,
        // and whether an announcement reaches accounts created after it. Announcements keep each
        // user's state in announcement_states (read stays in announcement_reads); a personal
        // notification deleted by its recipient is deleted.
        Migration(version: 11, name: "inbox states, expiry, BCP 47 languages", sql: """
            ALTER TABLE users DROP CONSTRAINT users_language_check;
            ALTER TABLE users ADD COLUMN gender text;
            ALTER TABLE notification_preferences DROP CONSTRAINT notification_preferences_language_check;
            ALTER TABLE notifications ADD COLUMN seen_at timestamptz, ADD COLUMN archived_at timestamptz,
                ADD COLUMN snoozed_until timestamptz, ADD COLUMN expires_at timestamptz,
                ADD COLUMN include_new_users boolean NOT NULL DEFAULT false;
            CREATE INDEX notifications_snoozed ON notifications (snoozed_until) WHERE snoozed_until IS NOT NULL;
            CREATE TABLE announcement_states (
                notification_id bigint NOT NULL REFERENCES notifications ON DELETE CASCADE,
                user_id         bigint NOT NULL REFERENCES users ON DELETE CASCADE,
                seen_at         timestamptz,
                archived_at     timestamptz,
                snoozed_until   timestamptz,
                deleted_at      timestamptz,
                PRIMARY KEY (user_id, notification_id)
            );
            CREATE INDEX announcement_states_snoozed ON announcement_states (snoozed_until) WHERE snoozed_until IS NOT NULL;
            """),
        // Scheduled events: the event as the event statement reads it, kept until `send_at`; the
        // scheduler claims due rows with a lease (SKIP LOCKED), and the idempotency key makes a
        // row sent twice one event.
        Migration(version: 12, name: "scheduled events", sql: """
            CREATE TABLE scheduled_events (
                id                  bigserial PRIMARY KEY,
                event_type          text NOT NULL,
                event               jsonb NOT NULL,
                send_at             timestamptz NOT NULL,
                cancellation_key    text,
                cancel_if_read      bigint,
                idempotency_key     text NOT NULL UNIQUE,
                status              text NOT NULL DEFAULT 'PENDING'
                                    CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'CANCELLED')),
                lease_until         timestamptz,
                event_id            bigint,
                reason              text,
                created_at          timestamptz NOT NULL DEFAULT now(),
                updated_at          timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX scheduled_events_due ON scheduled_events (send_at) WHERE status IN ('PENDING', 'SENDING');
            CREATE INDEX scheduled_events_key ON scheduled_events (cancellation_key) WHERE status = 'PENDING';
            """),
        // Recurring reminders: the event as posted and its rule; one run per time zone it fires in
        // (the rule's own, or each zone users have), at its next occurrence ('infinity' when a
        // schedule has ended). Skipped dates map to their reasons.
        Migration(version: 13, name: "recurring reminders", sql: """
            CREATE TABLE reminders (
                id                  bigserial PRIMARY KEY,
                event_type          text NOT NULL,
                event               jsonb NOT NULL,
                rule                jsonb NOT NULL,
                timezone            text,
                cancellation_key    text,
                skipped             jsonb NOT NULL DEFAULT '{}',
                active              boolean NOT NULL DEFAULT true,
                created_at          timestamptz NOT NULL DEFAULT now(),
                updated_at          timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX reminders_key ON reminders (cancellation_key) WHERE active;
            CREATE TABLE reminder_runs (
                reminder_id         bigint NOT NULL REFERENCES reminders ON DELETE CASCADE,
                timezone            text NOT NULL,
                next_at             timestamptz,
                occurrence_date     date,
                occurrence_time     text,
                PRIMARY KEY (reminder_id, timezone)
            );
            CREATE INDEX reminder_runs_due ON reminder_runs (next_at);
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
        // Unread counts (NotificationStore.counts): a user's unread rows with their inbox state in
        // the index, so the count reads no table row (a batch of 500 handshakes over 200,000
        // notifications: 1.2-1.3 s without it, 0.65-0.73 s with it); and the announcements made
        // before an account by a range of created_at.
        Migration(version: 16, name: "indexes for unread counts", sql: """
            CREATE INDEX notifications_unread_state ON notifications (recipient_id)
                INCLUDE (seen_at, archived_at, snoozed_until, expires_at) WHERE NOT is_read;
            CREATE INDEX notifications_announcements_created ON notifications (created_at) WHERE recipient_id IS NULL;
            """),
        // The bus's wake-up names the node that wrote (a node's reader ignores its own: a single
        // node read the bus on every one of its own events). notifications_unread is covered by
        // notifications_unread_state (same key, same predicate): one index less per notification.
        Migration(version: 17, name: "bus wake-up names its node; one unread index", sql: """
            CREATE OR REPLACE FUNCTION hub_bus_wake() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_notify('hub_bus', NEW.node); RETURN NULL; END $$;
            DROP INDEX notifications_unread;
            """),
        // What the operator console shows of the other nodes, written with each lease renewal.
        Migration(version: 18, name: "node vitals with the lease", sql: """
            ALTER TABLE hub_nodes ADD COLUMN version text NOT NULL DEFAULT '',
                ADD COLUMN sessions integer NOT NULL DEFAULT 0, ADD COLUMN bus_lag_ms bigint NOT NULL DEFAULT 0;
            """),
    ]

    /// Applies what is missing; returns the versions applied now (empty on a second start).
    public static func apply(on connection: PostgresConnection, migrations: [Migration] = all) throws -> [Int] {
        // Under the lock too: nodes starting together on a new database raced on this CREATE
        // (IF NOT EXISTS does not stop two creators; one failed on pg_type's unique index).
        try connection.executeScript("""
            BEGIN;
            SELECT pg_advisory_xact_lock(7468756201);
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            );
            COMMIT
            """)
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            try connection.execute("BEGIN")
            do {
                try connection.execute("SELECT pg_advisory_xact_lock(7468756201)")
                let done = try connection.execute("SELECT 1 FROM schema_migrations WHERE version = $1", [String(migration.version)])
                if done.rows.isEmpty {
                    try connection.executeScript(migration.sql)
                    try connection.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                           [String(migration.version), migration.name])
                    applied.append(migration.version)
                }
                try connection.execute("COMMIT")
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw error
            }
        }
        return applied
    }
}
