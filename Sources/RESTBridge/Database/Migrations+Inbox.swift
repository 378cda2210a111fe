extension Migrations {
    /// Migrations of the inbox: seen, archived, snoozed, expiry, and the indexes of its counts.
    static let inbox: [Migration] = [
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
        // Unread counts (NotificationStore.counts): a user's unread rows with their inbox state in
        // the index, so the count reads no table row (a batch of 500 handshakes over 200,000
        // notifications: 1.2-1.3 s without it, 0.65-0.73 s with it); and the announcements made
        // before an account by a range of created_at.
        Migration(version: 16, name: "indexes for unread counts", sql: """
            CREATE INDEX notifications_unread_state ON notifications (recipient_id)
                INCLUDE (seen_at, archived_at, snoozed_until, expires_at) WHERE NOT is_read;
            CREATE INDEX notifications_announcements_created ON notifications (created_at) WHERE recipient_id IS NULL;
            """),
        // Every handshake batch counts the live announcements and lists when they were made
        // (NotificationStore.counts); with no expiry they stay live for ever, so the count grows
        // with the platform's age. The index now holds the columns those filters read, so neither
        // reads a table row: with 2,000 live announcements a look-up of 11 users took 1.48-1.61 ms
        // and now 0.64-0.76 ms (pgbench of the look-up, generic plan); with 120, 0.30 and 0.27-0.29.
        Migration(version: 20, name: "live announcements counted from an index", sql: """
            CREATE INDEX notifications_announcements_live ON notifications (created_at)
                INCLUDE (expires_at, include_new_users) WHERE recipient_id IS NULL;
            DROP INDEX notifications_announcements_created;
            """),
    ]
}
