import Foundation
import Hub

/// Stored notifications: the REST shape, the WebSocket push, history for resume, read state.
public struct NotificationStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    static let columns = """
        id, recipient_id, notification_type, category, priority, title, title_arabic, title_french, message,
        message_arabic, message_french, data::text AS data, related_object_type, related_object_id, is_read,
        hub_iso(read_at) AS read_at, status, delivery_method, requires_action, action_taken, hub_iso(created_at) AS created_at
        """

    public struct NewNotification: Sendable {
        public var recipient: Int64
        public var type: String
        public var category: String
        public var priority: String
        public var title: String
        public var titleArabic: String
        public var titleFrench: String
        public var message: String
        public var messageArabic: String
        public var messageFrench: String
        /// JSON object text.
        public var data: String
        public var relatedObjectType: String?
        public var relatedObjectID: String?
        public var requiresAction: Bool
    }

    public func insert(_ new: NewNotification) async throws -> StoredNotification {
        try await pool.run { connection in
            let row = try connection.executePrepared("""
                INSERT INTO notifications (recipient_id, notification_type, category, priority, title, title_arabic,
                    title_french, message, message_arabic, message_french, data, related_object_type, related_object_id,
                    requires_action)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14)
                RETURNING \(Self.columns)
                """, [String(new.recipient), new.type, new.category, new.priority, new.title, new.titleArabic,
                      new.titleFrench, new.message, new.messageArabic, new.messageFrench, new.data,
                      new.relatedObjectType, new.relatedObjectID, new.requiresAction ? "true" : "false"]).first!
            return StoredNotification(row: row)
        }
    }

    /// Notifications of a user after an id, oldest first (resume).
    public func history(userID: Int64, after: Int64, limit: Int) async throws -> [StoredNotification] {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT \(Self.columns) FROM notifications WHERE recipient_id = $1 AND id > $2 ORDER BY id LIMIT $3
                """, [String(userID), String(after), String(limit)]).rows.map(StoredNotification.init(row:))
        }
    }

    public func unreadCount(userID: Int64) async throws -> Int {
        try await pool.run { connection in
            try connection.executePrepared("SELECT count(*) AS n FROM notifications WHERE recipient_id = $1 AND NOT is_read",
                                           [String(userID)]).first?.int("n") ?? 0
        }
    }

    /// Marks the user's own notifications read (all unread ones when `ids` is nil); returns the
    /// ids that changed and the unread count after, in one transaction.
    public func markRead(userID: Int64, ids: [Int64]?) async throws -> (ids: [Int64], unread: Int) {
        try await pool.transaction { connection in
            let changed: QueryResult
            if let ids {
                changed = try connection.executePrepared("""
                    UPDATE notifications SET is_read = true, read_at = now(), status = 'READ'
                    WHERE recipient_id = $1 AND id = ANY($2::bigint[]) AND NOT is_read RETURNING id
                    """, [String(userID), "{" + ids.map(String.init).joined(separator: ",") + "}"])
            } else {
                changed = try connection.executePrepared("""
                    UPDATE notifications SET is_read = true, read_at = now(), status = 'READ'
                    WHERE recipient_id = $1 AND NOT is_read RETURNING id
                    """, [String(userID)])
            }
            let unread = try connection.executePrepared(
                "SELECT count(*) AS n FROM notifications WHERE recipient_id = $1 AND NOT is_read", [String(userID)])
            return (changed.rows.compactMap { $0.int("id").map(Int64.init) }.sorted(), unread.first?.int("n") ?? 0)
        }
    }

    public func find(id: Int64) async throws -> StoredNotification? {
        try await pool.run { connection in
            try connection.executePrepared("SELECT \(Self.columns) FROM notifications WHERE id = $1", [String(id)]).first
                .map(StoredNotification.init(row:))
        }
    }

    /// A page of a user's notifications, newest first, with the total count.
    public func list(userID: Int64, isRead: Bool?, offset: Int, limit: Int) async throws -> ([StoredNotification], Int) {
        try await pool.run { connection in
            let readFilter = isRead.map { $0 ? "true" : "false" }
            let rows = try connection.executePrepared("""
                SELECT \(Self.columns) FROM notifications
                WHERE recipient_id = $1 AND ($2::boolean IS NULL OR is_read = $2::boolean)
                ORDER BY id DESC OFFSET $3 LIMIT $4
                """, [String(userID), readFilter, String(offset), String(limit)]).rows.map(StoredNotification.init(row:))
            let total = try connection.executePrepared("""
                SELECT count(*) AS n FROM notifications WHERE recipient_id = $1 AND ($2::boolean IS NULL OR is_read = $2::boolean)
                """, [String(userID), readFilter]).first?.int("n") ?? 0
            return (rows, total)
        }
    }
}

/// A notification as stored, serialised the way the REST API shows it.
public struct StoredNotification: Sendable {
    public let id: Int64
    public let recipientID: Int64?
    public let type: String
    let row: QueryResult.Row

    init(row: QueryResult.Row) {
        id = Int64(row.int("id") ?? 0)
        recipientID = row.int("recipient_id").map(Int64.init)
        type = row.string("notification_type") ?? "notification"
        self.row = row
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("id"); json.int(id)
        json.key("recipient"); if let recipientID { json.int(recipientID) } else { json.null() }
        json.field("notification_type", type)
        json.field("notification_display", type.split(separator: "_").map { $0.capitalized }.joined(separator: " "))
        for name in ["category", "priority", "title", "title_arabic", "title_french", "message", "message_arabic",
                     "message_french", "status", "delivery_method"]
        {
            json.field(name, row.string(name) ?? "")
        }
        json.key("data"); json.raw(Array((row.string("data") ?? "{}").utf8))
        for name in ["related_object_type", "related_object_id", "read_at"] {
            json.key(name)
            if let value = row.string(name) { json.string(value) } else { json.null() }
        }
        json.field("is_read", row.bool("is_read") ?? false)
        json.field("requires_action", row.bool("requires_action") ?? false)
        json.field("action_taken", row.bool("action_taken") ?? false)
        json.field("created_at", row.string("created_at") ?? "")
        json.endObject()
    }

    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 512)
        write(to: &writer)
        return writer.bytes
    }

    /// The WebSocket push: the type, the id (resume cursor) and the REST shape in `data`.
    public var push: [UInt8] {
        var writer = JSONWriter(capacity: 640)
        writer.beginObject()
        writer.field("type", type)
        writer.key("id"); writer.int(id)
        writer.field("timestamp", WallClock.iso8601())
        writer.key("data")
        write(to: &writer)
        writer.endObject()
        return writer.bytes
    }
}
