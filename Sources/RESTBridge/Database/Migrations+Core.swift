extension Migrations {
    /// Migrations of the core schema: users, notifications, rooms, preferences, events, the outbox.
    static let core: [Migration] = [
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
        // hub_iso as STABLE, which to_char is: PostgreSQL inlines a SQL function only when its
        // body is no more volatile than it is declared, so the IMMUTABLE one ran as a function
        // call, its body parsed and planned again at each call site of each statement
        // (`fmgr_sql`: 4% of PostgreSQL's time in a handshake storm, perf). Inlined: 0.8 µs a
        // call instead of 1.9 (psql, 100,000 calls).
        Migration(version: 19, name: "hub_iso inlined", sql: """
            CREATE OR REPLACE FUNCTION hub_iso(ts timestamptz) RETURNS text LANGUAGE sql STABLE AS
                $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
            """),
    ]
}
