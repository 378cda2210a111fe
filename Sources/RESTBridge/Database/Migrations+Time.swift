extension Migrations {
    /// Migrations of time: scheduled events and recurring reminders.
    static let time: [Migration] = [
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
    ]
}
