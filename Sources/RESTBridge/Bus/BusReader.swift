import Channels
import Foundation
import Glibc
import Hub

/// The bus's reader thread: one direct connection (never the pool's, and never through a
/// transaction-mode pooler, which breaks LISTEN) that LISTENs on `hub_bus` and reads the other
/// nodes' rows in commit order. The cursor is a transaction id: each read takes the rows whose
/// transaction is older than the oldest one still running (`pg_snapshot_xmin`), all of which have
/// committed or aborted, so a row that commits late, with a lower id, is never skipped (docs/bus.md).
/// A lost connection is made again and reading resumes from the cursor; a NOTIFY that never came
/// is covered by the poll backstop.
/// @unchecked Sendable: every field is used only on the reader thread.
final class BusReader: @unchecked Sendable {
    private let bus: PostgresBus
    /// Rows with `txid` at or past this one have not been read yet.
    private var cursor: String
    private var connection: PostgresConnection?
    private var listening = false
    private var warnedListen = false
    private var lostAt: Int64?
    /// Backstop polls that found rows no NOTIFY had announced, since the last NOTIFY.
    private var silentFinds = 0
    /// LISTEN works but notifications do not arrive (see `noticeSilence`).
    private var deaf = false

    init(bus: PostgresBus, horizon: String) {
        self.bus = bus
        cursor = horizon
    }

    private var settings: PostgresBus.Settings { bus.settings }

    func run() {
        var waitMillis: Int64 = 0
        var relook: Int64 = 2
        while !bus.stopping.load(ordering: .sequentiallyConsistent) {
            do {
                let connection = try connected()
                var notified = false
                if waitMillis > 0 { notified = try waitForNotification(on: connection, millis: waitMillis) }
                let backstop = waitMillis >= settings.pollMillis
                let (rows, waiting) = try read(on: connection)
                noticeSilence(found: rows > 0, notified: notified, backstop: backstop)
                // Rows of transactions still running wait for them: look again soon (2 ms, then
                // doubling up to 100 ms while an older transaction runs on).
                if waiting {
                    waitMillis = relook
                    relook = min(relook * 2, 100)
                } else {
                    waitMillis = listening && !deaf ? settings.pollMillis : settings.fallbackPollMillis
                    relook = 2
                }
            } catch {
                if connection != nil || lostAt == nil {
                    bus.logger.warning("bus reader: connection lost; reconnecting (nothing is lost: reading resumes from the table)",
                                       [("error", .string("\(error)"))])
                }
                connection = nil
                if lostAt == nil { lostAt = WallClock.nowMillis() }
                bus.set(mode: .disconnected)
                Thread.sleep(forTimeInterval: 0.25)
                waitMillis = 0
            }
        }
        bus.threadFinished()
    }

    /// Connects, LISTENs (unless told not to), and reads whatever came meanwhile.
    private func connected() throws -> PostgresConnection {
        if let connection { return connection }
        let fresh = try PostgresConnection(url: settings.url, applicationName: "hubd-bus-listen \(settings.nodeID)")
        listening = false
        deaf = false
        if !settings.listen && !warnedListen {
            warnedListen = true
            bus.logger.warning("bus: LISTEN is off (HUB_BUS_LISTEN=0); polling every \(settings.fallbackPollMillis) ms")
        }
        if settings.listen {
            do {
                try fresh.execute("LISTEN hub_bus")
                listening = true
            } catch {
                if !warnedListen {
                    warnedListen = true
                    bus.logger.warning("bus: LISTEN failed; polling every \(settings.fallbackPollMillis) ms instead",
                                       [("error", .string("\(error)"))])
                }
            }
        }
        connection = fresh
        bus.set(mode: listening ? .listening : .polling)
        if let lostAt {
            bus.logger.info("bus reader: reconnected; catching up from the table",
                            [("down_ms", .int(WallClock.nowMillis() - lostAt))])
            self.lostAt = nil
        }
        return fresh
    }

    /// Waits up to `millis` for another node's wake-up; true when one arrived. This node's own
    /// wake-ups (its rows, which it has delivered already) are drained and waited past.
    private func waitForNotification(on connection: PostgresConnection, millis: Int64) throws -> Bool {
        let deadline = MonotonicClock.nowMillis() + millis
        while true {
            if try connection.drainNotifications(ignoring: settings.nodeID) > 0 { return true }
            let left = deadline - MonotonicClock.nowMillis()
            guard left > 0 else { return false }
            var descriptor = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(left)) > 0 else { return false }
        }
    }

    /// Rows found by full backstop polls, three times without a NOTIFY in between: LISTEN does
    /// not work on this connection (a pooler that passes LISTEN but not notifications). Said once;
    /// the reader then polls quickly, and listens again as soon as a notification does arrive.
    private func noticeSilence(found: Bool, notified: Bool, backstop: Bool) {
        if notified {
            silentFinds = 0
            if deaf {
                deaf = false
                bus.set(mode: .listening)
            }
            return
        }
        guard listening, !deaf, backstop, found else { return }
        silentFinds += 1
        guard silentFinds >= 3 else { return }
        deaf = true
        bus.set(mode: .polling)
        if !warnedListen {
            warnedListen = true
            bus.logger.warning("bus: rows arrive without NOTIFY (a pooler in transaction mode?); polling every \(settings.fallbackPollMillis) ms")
        }
    }

    /// Reads the rows the cursor allows, hands them to the hub in order, moves the cursor.
    /// Answers how many rows, and whether rows of still-running transactions wait.
    private func read(on connection: PostgresConnection) throws -> (rows: Int, waiting: Bool) {
        let result = try connection.executePrepared(Self.readStatement, [cursor, settings.nodeID])
        guard let first = result.first, let horizon = first.string("horizon") else { return (0, false) }
        let waiting = (first.int("waiting") ?? 0) > 0
        let rows = result.rows.filter { $0.int("id") != nil }
        var eventIDs: [Int64] = []
        for row in rows where row.string("kind") == "events" { eventIDs += BusEntry.integers(row.string("event_ids")) }
        let pushes = eventIDs.isEmpty ? [:] : try notifications(of: eventIDs, on: connection)
        var items: [BusItem] = []
        var lag: Int64?
        for row in rows {
            lag = max(lag ?? 0, Int64(row.int("lag_ms") ?? 0))
            let kind = row.string("kind") ?? ""
            if kind == "events" {
                let messages = BusEntry.integers(row.string("event_ids")).flatMap { pushes[$0] ?? [] }
                if !messages.isEmpty { items.append(.messages(messages)) }
            } else if let item = BusEntry.item(kind: kind, node: row.string("node") ?? "", users: BusEntry.integers(row.string("users")),
                                               room: row.string("room"), everyone: row.bool("everyone") ?? false,
                                               notificationID: row.int("notification_id").map(Int64.init),
                                               payload: row.string("payload") ?? "")
            {
                items.append(item)
            }
        }
        bus.deliver(Self.merged(items))
        cursor = horizon
        bus.counted(in: rows.count, lag: lag)
        return (rows.count, waiting)
    }

    /// The live pushes of these events' notifications for this node's sessions, by event.
    private func notifications(of eventIDs: [Int64], on connection: PostgresConnection) throws -> [Int64: [ChannelMessage]] {
        let now = WallClock.nowMillis()
        var byEvent: [Int64: [ChannelMessage]] = [:]
        for row in try connection.executePrepared("""
            SELECT \(NotificationStore.columns) FROM notifications n LEFT JOIN announcement_reads ar ON false
            LEFT JOIN announcement_states st ON false
            WHERE n.event_id = ANY($1::bigint[]) AND (n.expires_at IS NULL OR n.expires_at > now()) ORDER BY n.id
            """, [PostgresArray.bigint(eventIDs)]).rows {
            let target: ChannelTarget = row.int("recipient_id").map { .user(Int64($0)) } ?? .everyone
            guard bus.hasSessions(for: target), let eventID = row.int("event_id") else { continue }
            let notification = StoredNotification(row: row)
            byEvent[Int64(eventID), default: []].append(ChannelMessage(target, json: notification.push(now: now),
                                                                      notificationID: notification.id))
        }
        return byEvent
    }

    /// Consecutive messages as one item: the hub hands each loop one task for all of them.
    private static func merged(_ items: [BusItem]) -> [BusItem] {
        var out: [BusItem] = []
        for item in items {
            if case .messages(let more) = item, case .messages(let before)? = out.last {
                out[out.count - 1] = .messages(before + more)
            } else {
                out.append(item)
            }
        }
        return out
    }

    /// The rows of other nodes whose transactions are older than the oldest running one and at
    /// or past the cursor, in id order; the new cursor (`horizon`) on every row (one row with no
    /// bus entry when there is nothing), and how many rows of running transactions wait.
    static let readStatement = """
        WITH w AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon)
        SELECT w.horizon::text AS horizon,
            (SELECT count(*) FROM hub_bus x WHERE x.txid >= w.horizon AND x.node <> $2) AS waiting,
            b.id, b.node, b.kind, b.users::text AS users, b.room, b.everyone, b.event_ids::text AS event_ids,
            b.notification_id, b.payload, (extract(epoch FROM clock_timestamp() - b.created_at) * 1000)::bigint AS lag_ms
        FROM w LEFT JOIN hub_bus b ON b.txid >= $1::xid8 AND b.txid < w.horizon AND b.node <> $2
        ORDER BY b.id
        """
}
