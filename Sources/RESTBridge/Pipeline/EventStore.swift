import Foundation
import Hub

/// Stores a batch of events in one statement, whatever their number and audience: the events
/// (idempotency keys checked), their recipients resolved (users, room members, roles, guardians),
/// one notification per recipient in that recipient's language, and the outbox rows their
/// preferences allow. One round trip and one commit for the batch: at a thousand events a second
/// the pipeline spends PostgreSQL's time on rows, not on round trips (see EventPipeline).
struct EventStore: Sendable {
    /// What one stored event became.
    struct Stored: Sendable {
        let eventID: Int64
        let duplicate: Bool
        /// The new notifications (none for a duplicate), by id.
        let notifications: [NewRow]
        /// Ids of the notifications a duplicate's first delivery created.
        let existingIDs: [Int64]
        /// When the notifications were created (the transaction's time), ISO 8601.
        let createdAt: String
        /// Webhook messages the whole batch queued (the same for each of its events).
        var webhooksInBatch = 0
    }

    /// A notification as the statement answers it: what the pipeline does not already know.
    struct NewRow: Sendable {
        let id: Int64
        /// nil for an announcement.
        let recipientID: Int64?
        let language: Language
        /// `IN_APP` plus the external channels queued in the outbox, comma-separated.
        let deliveryMethod: String

        var queuedDeliveries: Int { deliveryMethod.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: ",") ? 1 : 0) } }
    }

    /// Stores `events` (in order) on `connection`, in one transaction. The same idempotency key
    /// twice in one batch is one event: the later one is answered as its duplicate.
    /// `busNode`: with the PostgreSQL bus, this node's id: the statement writes the batch's one
    /// bus row (its event ids) in the same transaction (docs/bus.md).
    static func store(_ events: [EventRequest], digestWindowSeconds: Int = 0, on connection: PostgresConnection,
                      busNode: String? = nil) throws -> [Stored]
    {
        try run(events, digestWindowSeconds: digestWindowSeconds, on: connection, busNode: busNode)(connection)
    }

    /// `store` in two steps: runs the statement (committed when this returns) and answers how to
    /// read what it stored, on the same connection, after the event slot is given up (`Batcher`).
    /// `elements`: each event's element of the input (`element`), when the caller encoded them
    /// already, outside the slot.
    static func run(_ events: [EventRequest], elements: [[UInt8]]? = nil, digestWindowSeconds: Int = 0,
                    on connection: PostgresConnection, busNode: String? = nil) throws
        -> @Sendable (PostgresConnection) throws -> [Stored]
    {
        var firstWithKey: [String: Int] = [:]
        var sent: [Int] = []  // indexes of `events` sent to the database
        var sameAs: [Int: Int] = [:]
        for (index, event) in events.enumerated() {
            if let key = event.idempotencyKey {
                if let first = firstWithKey[key] {
                    sameAs[index] = first
                    continue
                }
                firstWithKey[key] = index
            }
            sent.append(index)
        }
        var parameters = [input(sent.map { elements?[$0] ?? element(events[$0]) }), String(digestWindowSeconds)]
        if let busNode { parameters.append(busNode) }
        let groups = events.contains { !$0.recipients.rooms.isEmpty || !$0.recipients.roles.isEmpty }
        let rows = try connection.executePrepared(statements[(busNode == nil ? 0 : 1) + (groups ? 2 : 0)], parameters).rows
        return { [sent, sameAs] connection in try read(rows, of: events, sent: sent, sameAs: sameAs, on: connection) }
    }

    /// The stored events from the statement's rows (`sent`: the indexes of `events` it was given;
    /// `sameAs`: the others, each to the earlier event with its key).
    private static func read(_ rows: [QueryResult.Row], of events: [EventRequest], sent: [Int], sameAs: [Int: Int],
                             on connection: PostgresConnection) throws -> [Stored]
    {
        var stored = try answers(rows, count: sent.count)
        // Duplicates (rare) are looked up after the statement, which then needs no join to past
        // events, and which could not see one committed meanwhile by a concurrent statement.
        let unseen = stored.indices.filter { stored[$0].duplicate }
        if !unseen.isEmpty {
            let keys = unseen.map { events[sent[$0]].idempotencyKey ?? "" }
            let found = try existing(keys: keys, on: connection)
            for (position, key) in zip(unseen, keys) {
                let (id, ids) = found[key] ?? (0, [])
                stored[position] = Stored(eventID: id, duplicate: true, notifications: [], existingIDs: ids,
                                          createdAt: stored[position].createdAt)
            }
        }
        var byEvent: [Int: Stored] = [:]
        for (position, index) in sent.enumerated() { byEvent[index] = stored[position] }
        return events.indices.map { index in
            if let first = sameAs[index], let original = byEvent[first] {
                let ids = original.duplicate ? original.existingIDs : original.notifications.map(\.id)
                return Stored(eventID: original.eventID, duplicate: true, notifications: [], existingIDs: ids,
                              createdAt: original.createdAt)
            }
            return byEvent[index]!
        }
    }

    /// The batch as one JSON array of the events' elements, read by `jsonb_to_recordset` (one
    /// parameter, no escaping of array literals, any number of events).
    private static func input(_ elements: [[UInt8]]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(elements.reduce(2) { $0 + $1.count + 1 })
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: element)
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One event as its object of the input array.
    static func element(_ event: EventRequest) -> [UInt8] {
        var json = JSONWriter(capacity: 512)
        json.beginObject()
        json.key("idempotency_key"); if let key = event.idempotencyKey { json.string(key) } else { json.null() }
        json.field("event_type", event.type)
        json.field("category", event.category)
        json.field("priority", event.priority.rawValue)
        json.field("title", event.title.en)
        json.field("title_arabic", event.title.ar)
        json.field("title_french", event.title.fr)
        json.field("message", event.message.en)
        json.field("message_arabic", event.message.ar)
        json.field("message_french", event.message.fr)
        json.key("data"); json.raw(Array(event.data.utf8))
        json.key("related_object_type"); if let value = event.relatedObjectType { json.string(value) } else { json.null() }
        json.key("related_object_id"); if let value = event.relatedObjectID { json.string(value) } else { json.null() }
        json.field("requires_action", event.requiresAction)
        json.key("expires_at"); if let value = event.expiresAt { json.string(value) } else { json.null() }
        json.field("include_new_users", event.includeNewUsers)
        json.key("users"); ints(event.recipients.users, &json)
        json.key("rooms"); json.beginArray(); for room in event.recipients.rooms { json.string(room) }; json.endArray()
        json.key("roles"); json.beginArray(); for role in event.recipients.roles { json.string(role.rawValue) }; json.endArray()
        json.key("guardians_of"); ints(event.recipients.guardiansOf, &json)
        json.field("everyone", event.recipients.everyone)
        json.key("escalation"); EscalationStep.write(event.escalation, &json)
        json.key("timezone"); if let zone = event.recipientTimezone { json.string(zone) } else { json.null() }
        json.endObject()
        return json.bytes
    }

    private static func ints(_ values: [Int64], _ json: inout JSONWriter) {
        json.beginArray()
        for value in values { json.int(value) }
        json.endArray()
    }

    /// Reads the statement's rows: one per event, its new notifications as four arrays (ids,
    /// recipients, languages, channels) of the same order.
    private static func answers(_ rows: [QueryResult.Row], count: Int) throws -> [Stored] {
        var stored = [Stored](repeating: Stored(eventID: 0, duplicate: false, notifications: [], existingIDs: [], createdAt: ""),
                              count: count)
        for row in rows {
            guard let ord = row.int("ord"), ord >= 1, ord <= count else { continue }
            stored[ord - 1] = Stored(eventID: Int64(row.int("event_id") ?? 0), duplicate: row.bool("duplicate") ?? false,
                                     notifications: try newRows(row), existingIDs: [], createdAt: row.string("created_at") ?? "",
                                     webhooksInBatch: row.int("webhooks") ?? 0)
        }
        return stored
    }

    /// An event's new notifications from its row's arrays, by id.
    private static func newRows(_ row: QueryResult.Row) throws -> [NewRow] {
        guard let idsText = row.string("ids") else { return [] }
        guard let ids = PostgresArray.integers(idsText), let recipients = PostgresArray.integers(row.string("recipients") ?? ""),
              let languages = PostgresArray.elements(row.string("languages") ?? ""),
              let methods = PostgresArray.elements(row.string("methods") ?? ""),
              recipients.count == ids.count, languages.count == ids.count, methods.count == ids.count
        else { throw DatabaseError.query(sqlState: "XX000", message: "the event statement answered arrays that do not match") }
        var made: [NewRow] = []
        made.reserveCapacity(ids.count)
        for index in ids.indices {
            guard let id = ids[index] else { continue }
            made.append(NewRow(id: id, recipientID: recipients[index], language: Language(code: languages[index]),
                               deliveryMethod: methods[index] ?? "IN_APP"))
        }
        made.sort { $0.id < $1.id }
        return made
    }

    private static func existing(keys: [String], on connection: PostgresConnection) throws -> [String: (Int64, [Int64])] {
        var found: [String: (Int64, [Int64])] = [:]
        for row in try connection.executePrepared("""
            SELECT e.idempotency_key, e.id,
                (SELECT string_agg(n.id::text, ',' ORDER BY n.id) FROM notifications n WHERE n.event_id = e.id) AS ids
            FROM events e WHERE e.idempotency_key = ANY($1::text[])
            """, [PostgresArray.text(keys)]).rows {
            guard let key = row.string("idempotency_key"), let id = row.int("id") else { continue }
            found[key] = (Int64(id), (row.string("ids") ?? "").split(separator: ",").compactMap { Int64($0) })
        }
        return found
    }

    /// The whole batch in one statement. Each CTE is one step of the pipeline:
    /// `input` (the events, each with a new id), `new_events` (idempotency: a known key inserts
    /// nothing), `targets` (recipients resolved: users, room members, role holders, guardians;
    /// UNION removes a user named twice), `personal` (a notification per recipient, in their
    /// language, with the external channels their preferences allow), `outbox` (one delivery per
    /// such channel, due after quiet hours unless URGENT; a channel in an escalation step is due
    /// `after` seconds later, with the step's condition; a LOW or MEDIUM email or Telegram message
    /// for a user with a digest is held until the window's end, `$2` seconds wide in tests),
    /// `announcements` (`all`: stored once), `webhooks` (a message per event and endpoint
    /// subscribed to its type: an event with no recipients exists for these alone).
    /// PUSH is the one channel on by default (a user without preferences gets it) and the one with
    /// several rows per notification (one per browser subscription, its id as the destination);
    /// while nobody has a subscription it costs one probe of an empty table per statement, then
    /// an index probe per recipient whose push switch and category allow it.
    /// The answer: one row per event (a duplicate without its id: see `store`) with its new
    /// notifications as arrays: a room of 10,000 is one row to decode, not 10,001.
    ///
    /// Four texts: with and without the bus, for named users and for groups. No parameter decides
    /// whether a step runs or how recipients are looked up, since the plan is generic: with
    /// `$3 IS NOT NULL` inside, the custom plans of a node without the bus (the step folded away)
    /// cost less than the generic one, and PostgreSQL planned one execution in 25 again (3.3 ms
    /// each: pg_stat_statements with track_planning). The planner cannot know a batch's audience
    /// (a CTE of `unnest`s), so the caller, who can, picks how users and their preferences are
    /// found (`recipientLookup`).
    static let statements = [statement(bus: false, groups: false), statement(bus: true, groups: false),
                             statement(bus: false, groups: true), statement(bus: true, groups: true)]

    /// How a recipient's user and preference rows are found. Named users: an index probe each
    /// (`LATERAL … LIMIT 1`); joined, from a room's or a role's statistics, the planner hashed or
    /// sorted the whole users table for eight targeted events (4 ms, and 150 ms once a room of
    /// 10,000 existed: EXPLAIN ANALYZE, stop 15). A room's or a role's members, thousands: joined,
    /// a hash of each table beats ten thousand probes (a room of 10,000: 153 → 130 ms, EXPLAIN
    /// ANALYZE, stop 16).
    private static func recipientLookup(_ id: String, groups: Bool) -> String {
        groups ? """
            JOIN users u ON u.id = \(id)
                        LEFT JOIN notification_preferences p ON p.user_id = \(id)
            """ : """
            CROSS JOIN LATERAL (SELECT * FROM users WHERE users.id = \(id) LIMIT 1) u
                        LEFT JOIN LATERAL (SELECT * FROM notification_preferences np WHERE np.user_id = \(id) LIMIT 1) p ON true
            """
    }

    private static func statement(bus: Bool, groups: Bool) -> String {
        """
        WITH input AS MATERIALIZED (
            SELECT e.*, nextval('events_id_seq') AS event_id
            FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
                idempotency_key text, event_type text, category text, priority text,
                title text, title_arabic text, title_french text, message text, message_arabic text, message_french text,
                data jsonb, related_object_type text, related_object_id text, requires_action boolean,
                users bigint[], rooms text[], roles text[], guardians_of bigint[], everyone boolean, escalation jsonb,
                timezone text, expires_at timestamptz, include_new_users boolean))
                WITH ORDINALITY AS e(idempotency_key, event_type, category, priority, title, title_arabic, title_french,
                    message, message_arabic, message_french, data, related_object_type, related_object_id,
                    requires_action, users, rooms, roles, guardians_of, everyone, escalation, timezone, expires_at,
                    include_new_users, ord)
        ),
        new_events AS (
            INSERT INTO events (id, idempotency_key, event_type, recipients, data)
            SELECT event_id, idempotency_key, event_type,
                jsonb_build_object('users', users, 'rooms', rooms, 'roles', roles, 'guardians_of', guardians_of,
                                   'all', everyone),
                data
            FROM input ORDER BY ord
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
        ),
        fresh AS MATERIALIZED (SELECT i.* FROM input i JOIN new_events n ON n.id = i.event_id),
        targets AS (
            SELECT f.ord, r.user_id FROM fresh f CROSS JOIN LATERAL unnest(f.users) AS r(user_id)
            UNION SELECT f.ord, m.user_id FROM fresh f CROSS JOIN LATERAL unnest(f.rooms) AS r(room)
                JOIN room_members m ON m.room = r.room
            UNION SELECT f.ord, u.id FROM fresh f CROSS JOIN LATERAL unnest(f.roles) AS r(role) JOIN users u ON u.role = r.role
            UNION SELECT f.ord, g.parent_id FROM fresh f CROSS JOIN LATERAL unnest(f.guardians_of) AS r(student_id)
                JOIN guardians g ON g.student_id = r.student_id
        ),
        personal AS (
            INSERT INTO notifications (recipient_id, notification_type, category, priority, title, title_arabic,
                title_french, message, message_arabic, message_french, data, event_id, related_object_type,
                related_object_id, requires_action, delivery_method, language, expires_at)
            SELECT u.id, f.event_type, f.category, f.priority,
                CASE l.base WHEN 'ar' THEN f.title_arabic WHEN 'fr' THEN f.title_french ELSE f.title END,
                f.title_arabic, f.title_french,
                CASE l.base WHEN 'ar' THEN f.message_arabic WHEN 'fr' THEN f.message_french ELSE f.message END,
                f.message_arabic, f.message_french, f.data, f.event_id, f.related_object_type, f.related_object_id,
                f.requires_action,
                concat_ws(',', 'IN_APP',
                    CASE WHEN s.wanted AND p.email_enabled AND u.email <> '' THEN 'EMAIL' END,
                    CASE WHEN s.wanted AND p.sms_enabled AND COALESCE(p.phone_number, u.phone) <> '' THEN 'SMS' END,
                    CASE WHEN s.wanted AND p.telegram_enabled AND p.telegram_chat_id <> '' THEN 'TELEGRAM' END,
                    CASE WHEN (SELECT EXISTS (SELECT 1 FROM push_subscriptions)) AND COALESCE(s.wanted, true)
                        AND COALESCE(p.push_enabled, true)
                        AND EXISTS (SELECT 1 FROM push_subscriptions ps WHERE ps.user_id = u.id) THEN 'PUSH' END),
                l.code, f.expires_at
            FROM targets t
            JOIN fresh f ON f.ord = t.ord
            \(recipientLookup("t.user_id", groups: groups))
            CROSS JOIN LATERAL (SELECT COALESCE(p.language, u.language) AS code,
                lower(split_part(COALESCE(p.language, u.language), '-', 1)) AS base) l
            CROSS JOIN LATERAL (SELECT CASE f.category
                WHEN 'payment' THEN p.payment_notifications WHEN 'homework' THEN p.homework_notifications
                WHEN 'lesson' THEN p.lesson_notifications WHEN 'attendance' THEN p.attendance_notifications
                WHEN 'gamification' THEN p.gamification_notifications WHEN 'grades' THEN p.grades_notifications
                WHEN 'khatma' THEN p.khatma_notifications WHEN 'halaka' THEN p.halaka_notifications
                WHEN 'course' THEN p.course_notifications WHEN 'system' THEN p.system_notifications
                ELSE true END AS wanted) s
            WHERE u.is_active AND (f.timezone IS NULL OR COALESCE(p.timezone, 'UTC') = f.timezone)
            ORDER BY f.ord, u.id
            RETURNING id, recipient_id, event_id, priority, delivery_method, language
        ),
        outbox AS (
            INSERT INTO deliveries (notification_id, user_id, channel, destination, available_at, send_if, step_after, digest)
            SELECT n.id, n.recipient_id, c.channel,
                CASE c.channel WHEN 'EMAIL' THEN u.email WHEN 'SMS' THEN COALESCE(p.phone_number, u.phone)
                    WHEN 'PUSH' THEN ps.id::text ELSE p.telegram_chat_id END,
                COALESCE(CASE WHEN n.priority <> 'URGENT' AND p.quiet_hours_enabled
                    THEN hub_quiet_until(p.timezone, p.quiet_hours_start, p.quiet_hours_end, d.due) END, d.due),
                step.condition, step.after, held.digest
            FROM personal n
            JOIN fresh f ON f.event_id = n.event_id
            CROSS JOIN LATERAL unnest(string_to_array(n.delivery_method, ',')) AS c(channel)
            LEFT JOIN LATERAL (SELECT (s->>'after')::integer AS after, s->>'if' AS condition
                FROM jsonb_array_elements(f.escalation) AS s WHERE s->'channels' ? c.channel) step ON true
            \(recipientLookup("n.recipient_id", groups: groups))
            CROSS JOIN LATERAL (SELECT CASE WHEN step.after IS NULL AND n.priority IN ('LOW', 'MEDIUM') THEN
                NULLIF(CASE c.channel WHEN 'EMAIL' THEN p.email_digest WHEN 'TELEGRAM' THEN p.telegram_digest END, 'off')
                END AS digest) held
            CROSS JOIN LATERAL (SELECT CASE WHEN held.digest IS NOT NULL
                THEN hub_digest_until(held.digest, p.timezone, p.digest_time, p.digest_day, now(), $2::integer)
                ELSE now() + make_interval(secs => COALESCE(step.after, 0)) END AS due) d
            LEFT JOIN push_subscriptions ps ON c.channel = 'PUSH' AND ps.user_id = n.recipient_id
            WHERE n.delivery_method <> 'IN_APP' AND c.channel <> 'IN_APP' AND (c.channel <> 'PUSH' OR ps.id IS NOT NULL)
        ),
        announcements AS (
            INSERT INTO notifications (recipient_id, notification_type, category, priority, title, title_arabic,
                title_french, message, message_arabic, message_french, data, event_id, related_object_type,
                related_object_id, requires_action, expires_at, include_new_users)
            SELECT NULL, event_type, category, priority, title, title_arabic, title_french, message, message_arabic,
                message_french, data, event_id, related_object_type, related_object_id, requires_action, expires_at,
                include_new_users
            FROM fresh WHERE everyone ORDER BY ord
            RETURNING id, event_id, delivery_method
        ),
        webhooks AS (
            \(WebhookOutbox.insert(type: "f.event_type", data: "f.data", from: "fresh f"))
            RETURNING id
        )\(bus ? """
        ,
        bus AS (
            INSERT INTO hub_bus (node, kind, event_ids)
            SELECT $3::text, 'events', array_agg(event_id ORDER BY ord) FROM fresh HAVING count(*) > 0
        )
        """ : "")
        SELECT i.ord, n.id AS event_id, n.id IS NULL AS duplicate, hub_iso(now()) AS created_at,
            (SELECT count(*) FROM webhooks) AS webhooks, made.ids, made.recipients, made.languages, made.methods
        FROM input i LEFT JOIN new_events n ON n.id = i.event_id
        LEFT JOIN (
            SELECT event_id, array_agg(id) AS ids, array_agg(recipient_id) AS recipients, array_agg(language) AS languages,
                array_agg(delivery_method) AS methods
            FROM (SELECT id, event_id, recipient_id, language, delivery_method FROM personal
                  UNION ALL SELECT id, event_id, NULL, NULL, delivery_method FROM announcements) AS rows
            GROUP BY event_id
        ) made ON made.event_id = n.id
        """
    }
}
