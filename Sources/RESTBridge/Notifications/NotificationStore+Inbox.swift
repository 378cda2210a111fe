import Channels
import Hub

/// Inbox states beside read: seen, archived, snoozed, deleted. A personal notification keeps its
/// state in its own columns; an announcement keeps each user's in `announcement_states`. Each
/// change is one transaction that answers the ids it changed and the counts after it.
extension NotificationStore {
    /// Applies `change` to the user's notifications among `change`'s ids (others are ignored).
    /// A snooze must end in the future (400 `until` otherwise).
    public func change(userID: Int64, _ change: InboxChange) async throws -> InboxOutcome {
        let user = String(userID)
        return try await pool.transaction { connection in
            var changed: [Int64] = []
            func run(_ personal: String, _ announcement: String, _ parameters: [String?]) throws {
                for sql in [personal, announcement] {
                    changed += try connection.executePrepared(sql, parameters).rows.compactMap { $0.int("id").map(Int64.init) }
                }
            }
            switch change {
            case .seen(let ids, let upTo):
                // `$2` the ids, or `$3` every id up to it.
                let match = "(id = ANY($2::bigint[]) OR id <= $3::bigint)"
                try run("""
                    UPDATE notifications SET seen_at = now()
                    WHERE recipient_id = $1 AND seen_at IS NULL AND NOT is_read AND \(match) RETURNING id
                    """, Self.upsertState("seen_at", "now()", where: match, onlyIf: "announcement_states.seen_at IS NULL"),
                    [user, PostgresArray.bigint(ids), String(upTo ?? 0)])
            case .archive(let ids), .unarchive(let ids):
                let archive: Bool = if case .archive = change { true } else { false }
                let value = archive ? "now()" : "NULL"
                try run("""
                    UPDATE notifications SET archived_at = \(value)
                    WHERE recipient_id = $1 AND id = ANY($2::bigint[]) AND archived_at IS \(archive ? "" : "NOT ")NULL RETURNING id
                    """, Self.upsertState("archived_at", value, where: "id = ANY($2::bigint[])",
                                          onlyIf: "announcement_states.archived_at IS \(archive ? "" : "NOT ")NULL"),
                    [user, PostgresArray.bigint(ids)])
            case .snooze(let ids, let until):
                let future = try connection.executePrepared("SELECT $1::timestamptz > now() AS ok", [until])
                guard future.first?.bool("ok") == true else {
                    throw APIError.validation([("until", ["Must be a time in the future."])])
                }
                try run("""
                    UPDATE notifications SET snoozed_until = $3::timestamptz
                    WHERE recipient_id = $1 AND id = ANY($2::bigint[]) RETURNING id
                    """, Self.upsertState("snoozed_until", "$3::timestamptz", where: "id = ANY($2::bigint[])", onlyIf: "true"),
                    [user, PostgresArray.bigint(ids), until])
            case .delete(let ids):
                try run("DELETE FROM notifications WHERE recipient_id = $1 AND id = ANY($2::bigint[]) RETURNING id",
                        Self.upsertState("deleted_at", "now()", where: "id = ANY($2::bigint[])",
                                         onlyIf: "announcement_states.deleted_at IS NULL"),
                        [user, PostgresArray.bigint(ids)])
            }
            let counts = try connection.executePrepared("SELECT \(Self.counts(of: "$1::bigint"))", [user])
            return InboxOutcome(ids: changed.sorted(), counts: counts.first.map(Self.counts) ?? .zero)
        }
    }

    /// Sets `column` of the user's (`$1`) state of the announcements matching `condition` that
    /// they can see, creating the state row when needed.
    private static func upsertState(_ column: String, _ value: String, where condition: String, onlyIf: String) -> String {
        """
        INSERT INTO announcement_states (notification_id, user_id, \(column))
        SELECT id, $1, \(value) FROM notifications
        WHERE recipient_id IS NULL AND \(condition) AND (expires_at IS NULL OR expires_at > now())
            AND (include_new_users OR created_at >= (SELECT created_at FROM users WHERE id = $1))
        ON CONFLICT (user_id, notification_id) DO UPDATE SET \(column) = EXCLUDED.\(column) WHERE \(onlyIf)
        RETURNING notification_id AS id
        """
    }

    public func setActionTaken(id: Int64, _ taken: Bool) async throws {
        _ = try await pool.run { connection in
            try connection.executePrepared("UPDATE notifications SET action_taken = $2::boolean WHERE id = $1",
                                           [String(id), taken ? "true" : "false"])
        }
    }

    /// A snooze that has ended: the notification as its user sees it, and their counts.
    public struct Unsnoozed: Sendable {
        public let userID: Int64
        public let notification: StoredNotification
        public let counts: InboxCounts
    }

    /// Ends every snooze that is due (clearing it, so each is announced once, by one node) and
    /// answers what to announce again.
    public func endDueSnoozes() async throws -> [Unsnoozed] {
        try await pool.transaction { connection in
            let due = try connection.executePrepared("""
                WITH personal AS (
                    UPDATE notifications SET snoozed_until = NULL WHERE snoozed_until <= now() RETURNING id, recipient_id AS user_id
                ), shared AS (
                    UPDATE announcement_states SET snoozed_until = NULL WHERE snoozed_until <= now()
                    RETURNING notification_id AS id, user_id
                )
                SELECT id, user_id FROM personal UNION ALL SELECT id, user_id FROM shared ORDER BY user_id, id
                """).rows
            var woken: [Unsnoozed] = []
            for row in due {
                guard let id = row.int("id"), let user = row.int("user_id") else { continue }
                let found = try connection.executePrepared("""
                    SELECT \(Self.columns), \(Self.counts(of: "$1::bigint")) \(Self.shown) AND n.id = $2
                    """, [String(user), String(id)])
                guard let first = found.first else { continue }  // expired or deleted meanwhile
                woken.append(Unsnoozed(userID: Int64(user), notification: StoredNotification(row: first), counts: Self.counts(first)))
            }
            return woken
        }
    }
}
