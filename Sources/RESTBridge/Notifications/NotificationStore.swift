import Channels
import Foundation
import Hub

/// Stored notifications: the REST shape, the WebSocket push, history for resume, read state.
public struct NotificationStore: Sendable {
    let pool: DatabasePool
    /// Handshakes look their users up together (see `userWithUnreadCount`), one batch at a time:
    /// larger batches halved PostgreSQL's share of a reconnect storm (49% -> 24% of the machine
    /// at ~7,500 handshakes/s), and the other pool connections stay free for REST.
    private let usersWithUnreadCounts: BatchedLookup<Int64, (User, InboxCounts)>

    public init(pool: DatabasePool) {
        self.pool = pool
        usersWithUnreadCounts = BatchedLookup(pool: pool) { connection, ids in
            var found: [Int64: (User, InboxCounts)] = [:]
            for row in try connection.executePrepared(Self.usersWithCounts, [PostgresArray.bigint(ids)]).rows {
                if let user = User(row: row) { found[user.id] = (user, Self.counts(row)) }
            }
            return found
        }
    }

    /// The handshakes' look-up: users (`$1`, an array of ids) with their unread counts.
    static let usersWithCounts = """
        SELECT \(User.columns), \(counts(of: "u.id", createdAt: "u.created_at"))
        FROM users u WHERE u.id = ANY($1::bigint[])
        """

    /// Columns of `n` (notifications) joined with `ar` and `st` (the caller's announcement reads
    /// and states, `$1`): read, seen, archived and snoozed are per user for announcements (no recipient).
    static let columns = """
        n.id, n.recipient_id, n.notification_type, n.category, n.priority, n.title, n.title_arabic, n.title_french,
        n.message, n.message_arabic, n.message_french, n.data::text AS data, n.related_object_type, n.related_object_id,
        CASE WHEN n.recipient_id IS NULL THEN ar.user_id IS NOT NULL ELSE n.is_read END AS is_read,
        hub_iso(CASE WHEN n.recipient_id IS NULL THEN ar.read_at ELSE n.read_at END) AS read_at,
        CASE WHEN n.recipient_id IS NULL AND ar.user_id IS NOT NULL THEN 'READ' ELSE n.status END AS status,
        n.delivery_method, n.requires_action, n.action_taken, hub_iso(n.created_at) AS created_at, n.event_id,
        hub_iso(\(seenAt)) AS seen_at, hub_iso(\(archivedAt)) AS archived_at, hub_iso(\(snoozedUntil)) AS snoozed_until,
        hub_iso(n.expires_at) AS expires_at
        """

    /// The caller's state of `n`: its own columns, or `st`'s for an announcement.
    static func perUser(_ column: String) -> String {
        "(CASE WHEN n.recipient_id IS NULL THEN st.\(column) ELSE n.\(column) END)"
    }
    static let seenAt = perUser("seen_at")
    static let archivedAt = perUser("archived_at")
    static let snoozedUntil = perUser("snoozed_until")

    /// The caller's notifications: their own and the announcements made since the account was
    /// created (or meant for new users too) that they have not deleted; never an expired one.
    /// `$1` is the user id.
    static let visible = """
        FROM notifications n LEFT JOIN announcement_reads ar ON ar.notification_id = n.id AND ar.user_id = $1
        LEFT JOIN announcement_states st ON st.notification_id = n.id AND st.user_id = $1
        WHERE (n.recipient_id = $1 OR (n.recipient_id IS NULL AND st.deleted_at IS NULL
            AND (n.include_new_users OR n.created_at >= (SELECT created_at FROM users WHERE id = $1))))
        AND (n.expires_at IS NULL OR n.expires_at > now())
        """

    /// What lists, counts and replays show: visible, and not snoozed now.
    static let shown = visible + " AND (\(snoozedUntil) IS NULL OR \(snoozedUntil) <= now())"

    /// A user's counts as one select item, `counts` (read by `counts(_:)`): their own unread
    /// (unseen: and not seen) notifications, plus the announcements shown to them that they have
    /// not read (seen), leaving out what is archived, snoozed, expired or deleted. Unseen is never
    /// more than unread: reading a notification also makes it seen.
    /// `createdAt`: the user's `created_at` where the statement has it (a join), else looked up.
    ///
    /// Both counts come from one pass over each source: counted one by one, each index was read
    /// twice and each aggregate set up twice per user (PostgreSQL: 0.47-0.50 ms for a batch of 15
    /// handshakes with 30 unread notifications each, 0.33 ms in one pass; pgbench).
    /// The announcement part is every live announcement, less those made before the account
    /// (unless meant for new users too), less those among the user's own few read and state rows
    /// that do not count. Counting each user's announcements one by one cost 3.3-4.0 s for a batch
    /// of 500 handshakes with 500 announcements, against 0.3-0.5 s before seen and archive existed.
    /// Per user, nothing here grows with the number of announcements: "made before the account" is
    /// a binary search (`width_bucket`) in the sorted creation times, gathered once per statement
    /// and added to both counts by the caller (used twice in SQL, they were gathered twice); the
    /// announcements of the user's own rows are probed by id, one `LIMIT 1` look-up each. As
    /// `id = ANY (their ids)`, the generic plan scanned every live announcement for each user:
    /// 1,971 buffers for 15 handshakes with 120 announcements, 348 now (EXPLAIN ANALYZE), and
    /// churn after a bench's load at 0.61 of raw upgrades, 0.91-0.93 now.
    static func counts(of user: String, createdAt: String? = nil) -> String {
        let live = "a.recipient_id IS NULL AND (a.expires_at IS NULL OR a.expires_at > now())"
        let created = createdAt ?? "(SELECT created_at FROM users WHERE id = \(user))"
        let hidden = "r.user_id IS NOT NULL OR s.deleted_at IS NOT NULL OR s.archived_at IS NOT NULL OR s.snoozed_until > now()"
        // Timestamps are in microseconds: "at or before created - 1 µs" is "before created".
        return """
        (SELECT ARRAY[own.unread - hidden.unread, own.unseen - hidden.unseen, shown.n]
         FROM (SELECT count(*) AS unread, count(*) FILTER (WHERE seen_at IS NULL) AS unseen FROM notifications
               WHERE recipient_id = \(user) AND NOT is_read AND archived_at IS NULL
               AND (snoozed_until IS NULL OR snoozed_until <= now()) AND (expires_at IS NULL OR expires_at > now())) own,
              (SELECT (SELECT count(*) FROM notifications a WHERE \(live))
                  - COALESCE(width_bucket(\(created) - interval '1 microsecond',
                      (SELECT array_agg(a.created_at ORDER BY a.created_at) FROM notifications a
                       WHERE \(live) AND NOT a.include_new_users)), 0) AS n) shown,
              (SELECT count(*) FILTER (WHERE \(hidden)) AS unread,
                   count(*) FILTER (WHERE \(hidden) OR s.seen_at IS NOT NULL) AS unseen
               FROM (SELECT notification_id FROM announcement_reads WHERE user_id = \(user)
                     UNION SELECT notification_id FROM announcement_states WHERE user_id = \(user)) mine
               CROSS JOIN LATERAL (SELECT a.id FROM notifications a WHERE a.id = mine.notification_id AND \(live)
                   AND (a.include_new_users OR a.created_at >= \(created)) LIMIT 1) a
               LEFT JOIN announcement_states s ON s.notification_id = a.id AND s.user_id = \(user)
               LEFT JOIN announcement_reads r ON r.notification_id = a.id AND r.user_id = \(user)) hidden) AS counts
        """
    }

    static func counts(_ row: QueryResult.Row) -> InboxCounts {
        let parts = row.string("counts").flatMap(PostgresArray.integers) ?? []
        guard parts.count == 3, let unread = parts[0], let unseen = parts[1], let shown = parts[2] else { return .zero }
        return InboxCounts(unread: Int(unread + shown), unseen: Int(unseen + shown))
    }

    static let isReadExpression = "(CASE WHEN n.recipient_id IS NULL THEN ar.user_id IS NOT NULL ELSE n.is_read END)"

    /// Notifications of a user after an id, oldest first (resume).
    public func history(userID: Int64, after: Int64, limit: Int) async throws -> [StoredNotification] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT \(Self.columns) \(Self.shown) AND \(Self.archivedAt) IS NULL AND n.id > $2 ORDER BY n.id LIMIT $3
                """, [String(userID), String(after), String(limit)]).rows.map(StoredNotification.init(row:))
        }
    }

    /// A user and their unread count (a WebSocket handshake's only query), batched with the other
    /// handshakes of the moment into one statement.
    /// `done` runs on a database worker thread: no task for each handshake.
    public func userWithUnreadCount(id: Int64, done: @escaping @Sendable (Result<(User, InboxCounts)?, any Error>) -> Void) {
        usersWithUnreadCounts.value(for: id, done: done)
    }

    public func unreadCount(userID: Int64) async throws -> InboxCounts {
        try await pool.run { connection in
            try connection.executePrepared("SELECT \(Self.counts(of: "$1::bigint"))", [String(userID)]).first
                .map(Self.counts) ?? .zero
        }
    }

    /// Marks the user's own notifications read (all unread ones when `ids` is nil); returns the
    /// ids that changed and the counts after, in one transaction. Every read (REST, socket,
    /// mark-all) comes here, and cancels the escalation steps waiting for that notification to
    /// stay unread in the same statement: once this commits, no such step can be claimed.
    public func markRead(userID: Int64, ids: [Int64]?) async throws -> InboxOutcome {
        try await pool.transaction { connection in
            let idArray = ids.map(PostgresArray.bigint)
            let personal = try connection.executePrepared("""
                WITH read AS (
                    UPDATE notifications SET is_read = true, read_at = now(), status = 'READ'
                    WHERE recipient_id = $1 AND NOT is_read AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
                    RETURNING id, notification_type),
                cancelled AS (
                    UPDATE deliveries d SET status = 'CANCELLED', last_error = 'read', updated_at = now()
                    FROM read WHERE d.notification_id = read.id AND d.send_if = 'unread' AND d.status IN ('PENDING', 'RETRY')),
                webhooks AS (\(Self.readWebhooks))
                SELECT id FROM read
                """, [String(userID), idArray])
            let announcements = try connection.executePrepared("""
                WITH read AS (
                    INSERT INTO announcement_reads (notification_id, user_id)
                    SELECT id, $1 FROM notifications WHERE recipient_id IS NULL AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
                    ON CONFLICT DO NOTHING RETURNING notification_id AS id,
                        (SELECT notification_type FROM notifications WHERE id = notification_id)),
                webhooks AS (\(Self.readWebhooks))
                SELECT id FROM read
                """, [String(userID), idArray])
            let counts = try connection.executePrepared("SELECT \(Self.counts(of: "$1::bigint"))", [String(userID)])
            let changed = (personal.rows + announcements.rows).compactMap { $0.int("id").map(Int64.init) }.sorted()
            return InboxOutcome(ids: changed, counts: counts.first.map(Self.counts) ?? .zero)
        }
    }

    /// `notification.read` webhooks for the rows `read` (id, notification_type) of user `$1`,
    /// written in the statement that marks them read.
    static let readWebhooks = WebhookOutbox.insert(type: "'notification.read'", data: """
        jsonb_build_object('notification_id', c.id, 'user_id', $1::bigint, 'notification_type', c.notification_type,
            'read_at', hub_iso(now()))
        """, from: "read c")

    /// A notification as `userID` sees it; `owner` tells whether it is theirs (or an announcement).
    public func find(id: Int64, for userID: Int64) async throws -> (StoredNotification, owner: Bool)? {
        try await pool.run { connection in
            guard let row = try connection.executePrepared("""
                SELECT \(Self.columns) FROM notifications n
                LEFT JOIN announcement_reads ar ON ar.notification_id = n.id AND ar.user_id = $1
                LEFT JOIN announcement_states st ON st.notification_id = n.id AND st.user_id = $1 WHERE n.id = $2
                """, [String(userID), String(id)]).first else { return nil }
            let notification = StoredNotification(row: row)
            return (notification, notification.recipientID == nil || notification.recipientID == userID)
        }
    }

    /// The list filters of the API, each a fixed SQL fragment with its own parameter.
    public struct Filters: Sendable {
        public var isRead: Bool?
        public var type: String?
        public var category: String?
        public var priority: String?
        public var createdFrom: String?
        public var createdTo: String?
        public var search: String?
        public var isSeen: Bool?
        /// false (the default): archived ones are hidden; true: only archived ones.
        public var archived = false
        /// `archived` as an optional, for the query parser.
        public var archivedFlag: Bool? {
            get { archived }
            set { archived = newValue ?? false }
        }
        public var expiresFrom: String?
        /// One of `orderings`' keys.
        public var ordering = "-created_at"

        public init() {}

        public static let orderings: [String: String] = [
            "created_at": "n.created_at, n.id", "-created_at": "n.created_at DESC, n.id DESC",
            "id": "n.id", "-id": "n.id DESC",
            "priority": "array_position(ARRAY['LOW','MEDIUM','HIGH','URGENT'], n.priority), n.id DESC",
            "-priority": "array_position(ARRAY['LOW','MEDIUM','HIGH','URGENT'], n.priority) DESC, n.id DESC",
        ]
    }

    /// A page of the caller's notifications and the total. Only constant fragments are joined
    /// into the SQL; every value is a parameter.
    public func list(userID: Int64, filters: Filters, offset: Int, limit: Int) async throws -> ([StoredNotification], Int) {
        var clauses: [String] = []
        var parameters: [String?] = [String(userID)]
        func add(_ clause: (Int) -> String, _ value: String) {
            parameters.append(value)
            clauses.append(clause(parameters.count))
        }
        if let isRead = filters.isRead { add({ "\(Self.isReadExpression) = $\($0)::boolean" }, isRead ? "true" : "false") }
        if let type = filters.type { add({ "n.notification_type = $\($0)" }, type) }
        if let category = filters.category { add({ "n.category = $\($0)" }, category) }
        if let priority = filters.priority { add({ "n.priority = $\($0)" }, priority) }
        if let from = filters.createdFrom { add({ "n.created_at >= $\($0)::timestamptz" }, from) }
        if let to = filters.createdTo { add({ "n.created_at <= $\($0)::timestamptz" }, to) }
        if let isSeen = filters.isSeen {
            add({ "(\(Self.seenAt) IS NOT NULL OR \(Self.isReadExpression)) = $\($0)::boolean" }, isSeen ? "true" : "false")
        }
        clauses.append(filters.archived ? "\(Self.archivedAt) IS NOT NULL" : "\(Self.archivedAt) IS NULL")
        if let from = filters.expiresFrom { add({ "n.expires_at >= $\($0)::timestamptz" }, from) }
        if let search = filters.search {
            let escaped = search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            add({ "(n.title ILIKE $\($0) OR n.message ILIKE $\($0) OR n.title_arabic ILIKE $\($0) OR n.title_french ILIKE $\($0))" },
                "%" + escaped + "%")
        }
        let filterSQL = clauses.map { " AND " + $0 }.joined()
        let order = Filters.orderings[filters.ordering] ?? Filters.orderings["-created_at"]!
        let countParameters = parameters
        parameters.append(String(offset))
        parameters.append(String(limit))
        let pageSQL = "SELECT \(Self.columns) \(Self.shown)\(filterSQL) ORDER BY \(order) OFFSET $\(parameters.count - 1) LIMIT $\(parameters.count)"
        let countSQL = "SELECT count(*) AS n \(Self.shown)\(filterSQL)"
        let pageParameters = parameters
        return try await pool.run { connection in
            let rows = try connection.executePrepared(pageSQL, pageParameters).rows.map(StoredNotification.init(row:))
            let total = try connection.executePrepared(countSQL, countParameters).first?.int("n") ?? 0
            return (rows, total)
        }
    }

    /// The external deliveries (outbox rows) of one notification.
    public func deliveries(notificationID: Int64) async throws -> [QueryResult.Row] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT id, channel, destination, status, attempts, last_error, provider_id, send_if, step_after,
                    hub_iso(available_at) AS available_at, hub_iso(created_at) AS created_at, hub_iso(updated_at) AS updated_at
                FROM deliveries WHERE notification_id = $1 ORDER BY id
                """, [String(notificationID)]).rows
        }
    }
}
