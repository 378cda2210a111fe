import Hub
import Foundation
import Synchronization
import Testing
@testable import RESTBridge

/// The event pipeline's one statement against the real PostgreSQL that `make test` starts, each
/// test in a schema of its own with every migration applied.
@Suite struct EventStoreTests {
    @discardableResult
    func user(_ connection: PostgresConnection, _ name: String, role: String = "STUDENT", language: String = "en",
                      active: Bool = true) throws -> Int64 {
        Int64(try connection.execute("""
            INSERT INTO users (email, password, first_name, role, language, is_active)
            VALUES ($1, '!', $1, $2, $3, $4) RETURNING id
            """, ["\(name)@school.ma", role, language, active ? "true" : "false"]).first!.int("id")!)
    }

    private func event(_ recipients: Recipients, key: String? = nil, category: String = "system",
                       priority: Priority = .medium) -> EventRequest {
        EventRequest(type: "system_alert", category: category, priority: priority,
                     title: Localized(en: "Hello", ar: "مرحبا", fr: "Bonjour"),
                     message: Localized(en: "Body", ar: "نص", fr: "Texte"), data: #"{"n":1}"#, recipients: recipients,
                     idempotencyKey: key)
    }

    @Test func oneStatementResolvesEveryAudienceOncePerUserInTheirLanguage() throws {
        try withSchema { connection in
            let amina = try user(connection, "amina"), omar = try user(connection, "omar", language: "fr")
            let parent = try user(connection, "parent", role: "PARENT", language: "ar")
            let teacher = try user(connection, "teacher", role: "TEACHER")
            try user(connection, "gone", role: "TEACHER", active: false)
            try connection.execute("INSERT INTO room_members (room, user_id) VALUES ('class:5', $1), ('class:5', $2)",
                                   [String(amina), String(omar)])
            try connection.execute("INSERT INTO guardians (parent_id, student_id) VALUES ($1, $2)", [String(parent), String(amina)])
            let stored = try EventStore.store([
                event(Recipients(users: [amina], rooms: ["class:5"])),
                event(Recipients(roles: [.TEACHER], guardiansOf: [amina])),
                event(Recipients(everyone: true)),
            ], on: connection)
            #expect(stored.map(\.duplicate) == [false, false, false])
            #expect(Set(stored.map(\.eventID)).count == 3)
            #expect(stored[0].notifications.map(\.recipientID) == [amina, omar])
            #expect(stored[0].notifications.map(\.language) == [.en, .fr])
            #expect(Set(stored[1].notifications.compactMap(\.recipientID)) == [teacher, parent])
            #expect(stored[1].notifications.first { $0.recipientID == parent }?.language == .ar)
            #expect(stored[2].notifications.count == 1 && stored[2].notifications[0].recipientID == nil)
            let titles = try connection.execute("SELECT recipient_id, title FROM notifications WHERE recipient_id = $1",
                                                [String(parent)]).rows.map { $0.string("title") }
            #expect(titles == ["مرحبا"])
            let ids = stored.flatMap(\.notifications).map(\.id)
            #expect(ids == ids.sorted(), "ids follow the order of the batch")
        }
    }

    @Test func anIdempotencyKeyIsOneEventWithinABatchAndAcrossBatches() throws {
        try withSchema { connection in
            let amina = try user(connection, "amina")
            let first = try EventStore.store([event(Recipients(users: [amina]), key: "k1"),
                                              event(Recipients(users: [amina]), key: "k1"),
                                              event(Recipients(users: [amina]), key: "k2")], on: connection)
            #expect(first.map(\.duplicate) == [false, true, false])
            #expect(first[1].eventID == first[0].eventID && first[1].existingIDs == first[0].notifications.map(\.id))
            let again = try EventStore.store([event(Recipients(users: [amina]), key: "k2"),
                                              event(Recipients(users: [amina]))], on: connection)
            #expect(again[0].duplicate && again[0].eventID == first[2].eventID)
            #expect(again[0].existingIDs == first[2].notifications.map(\.id) && again[0].notifications.isEmpty)
            #expect(!again[1].duplicate && again[1].notifications.count == 1)
            #expect(try connection.execute("SELECT count(*) AS n FROM events").first?.int("n") == 3)
            #expect(try connection.execute("SELECT count(*) AS n FROM notifications").first?.int("n") == 3)
        }
    }

    @Test func outboxRowsFollowChannelsCategoriesAndQuietHours() throws {
        try withSchema { connection in
            let amina = try user(connection, "amina"), omar = try user(connection, "omar"), sara = try user(connection, "sara")
            try connection.execute("""
                INSERT INTO notification_preferences (user_id, email_enabled, sms_enabled, phone_number, attendance_notifications,
                    quiet_hours_enabled, quiet_hours_start, quiet_hours_end)
                VALUES ($1, true, true, '+212600000001', true, false, '22:00', '07:00'),
                       ($2, true, false, NULL, false, false, '22:00', '07:00'),
                       ($3, true, false, NULL, true, true, '00:00', '23:59')
                """, [String(amina), String(omar), String(sara)])
            let stored = try EventStore.store([
                event(Recipients(users: [amina, omar, sara]), category: "attendance"),
                event(Recipients(users: [sara]), category: "attendance", priority: .urgent),
            ], on: connection)
            let methods = Dictionary(uniqueKeysWithValues: stored[0].notifications.map { ($0.recipientID!, $0.deliveryMethod) })
            #expect(methods == [amina: "IN_APP,EMAIL,SMS", omar: "IN_APP", sara: "IN_APP,EMAIL"])
            #expect(stored[0].notifications.map(\.queuedDeliveries).reduce(0, +) == 3)
            let rows = try connection.execute("""
                SELECT d.user_id, d.channel, d.destination, d.available_at > now() + interval '1 minute' AS deferred, n.priority
                FROM deliveries d JOIN notifications n ON n.id = d.notification_id ORDER BY d.notification_id, d.channel
                """).rows
            #expect(rows.map { "\($0.int("user_id")!):\($0.string("channel")!):\($0.string("destination")!)" } == [
                "\(amina):EMAIL:amina@school.ma", "\(amina):SMS:+212600000001", "\(sara):EMAIL:sara@school.ma",
                "\(sara):EMAIL:sara@school.ma",
            ])
            #expect(rows.map { $0.bool("deferred")! } == [false, false, true, false], "quiet hours wait, URGENT does not")
        }
    }

    /// An escalation step is the same outbox row, due `after` seconds later with its condition;
    /// channels outside the policy go at once, and a switched-off channel has no step at all.
    @Test func escalationStepsAreRowsDueLaterWithTheirCondition() throws {
        try withSchema { connection in
            let amina = try user(connection, "amina"), omar = try user(connection, "omar")
            try connection.execute("""
                INSERT INTO notification_preferences (user_id, email_enabled, sms_enabled, phone_number)
                VALUES ($1, true, true, '+212600000001'), ($2, true, false, '+212600000002')
                """, [String(amina), String(omar)])
            var escalated = event(Recipients(users: [amina, omar]))
            escalated.escalation = [EscalationStep(after: 900, channels: [.sms]),
                                    EscalationStep(after: 60, channels: [.email], condition: .offline)]
            let stored = try EventStore.store([escalated, event(Recipients(users: [amina]))], on: connection)
            #expect(stored[0].notifications.map(\.deliveryMethod) == ["IN_APP,EMAIL,SMS", "IN_APP,EMAIL"])
            let rows = try connection.execute("""
                SELECT d.notification_id, d.user_id, d.channel, d.send_if, d.step_after,
                    round(extract(epoch FROM d.available_at - now())) AS due_in
                FROM deliveries d ORDER BY d.notification_id, d.channel
                """).rows
            #expect(rows.map { "\($0.int("user_id")!):\($0.string("channel")!):\($0.string("send_if") ?? "-"):\($0.int("step_after") ?? -1):\($0.int("due_in")!)" } == [
                "\(amina):EMAIL:offline:60:60", "\(amina):SMS:unread:900:900", "\(omar):EMAIL:offline:60:60",
                "\(amina):EMAIL:-:-1:0", "\(amina):SMS:-:-1:0",
            ])
        }
    }

    /// PUSH: one row per subscription (its id as destination), on without a preferences row, off
    /// by the push switch or the category switch, deferred by quiet hours unless URGENT.
    @Test func pushRowsOnePerSubscriptionFollowingSwitchesAndQuietHours() throws {
        try withSchema { connection in
            let hind = try user(connection, "hind"), yusuf = try user(connection, "yusuf"), noor = try user(connection, "noor")
            let nadia = try user(connection, "nadia"), bare = try user(connection, "bare")
            try connection.execute("""
                INSERT INTO notification_preferences (user_id, push_enabled, attendance_notifications, quiet_hours_enabled,
                    quiet_hours_start, quiet_hours_end)
                VALUES ($1, false, true, false, '22:00', '07:00'), ($2, true, false, false, '22:00', '07:00'),
                       ($3, true, true, true, '00:00', '23:59')
                """, [String(yusuf), String(noor), String(nadia)])
            var subscriptions: [Int64: [String]] = [:]
            for (owner, count) in [(hind, 2), (yusuf, 1), (noor, 1), (nadia, 1)] {
                for index in 0..<count {
                    let id = try connection.execute("""
                        INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, 'k', 'a') RETURNING id
                        """, [String(owner), "https://push.example/\(owner)/\(index)"]).first!.string("id")!
                    subscriptions[owner, default: []].append(id)
                }
            }
            let stored = try EventStore.store([
                event(Recipients(users: [hind, yusuf, noor, nadia, bare]), category: "attendance"),
                event(Recipients(users: [nadia]), category: "attendance", priority: .urgent),
            ], on: connection)
            let methods = Dictionary(uniqueKeysWithValues: stored[0].notifications.map { ($0.recipientID!, $0.deliveryMethod) })
            #expect(methods == [hind: "IN_APP,PUSH", yusuf: "IN_APP", noor: "IN_APP", nadia: "IN_APP,PUSH", bare: "IN_APP"])
            let rows = try connection.execute("""
                SELECT d.user_id, d.destination, d.available_at > now() + interval '1 minute' AS deferred
                FROM deliveries d WHERE d.channel = 'PUSH' ORDER BY d.notification_id, d.destination
                """).rows
            #expect(rows.map { "\($0.int("user_id")!):\($0.string("destination")!)" }.sorted() == (
                subscriptions[hind]!.map { "\(hind):\($0)" } + ["\(nadia):\(subscriptions[nadia]![0])", "\(nadia):\(subscriptions[nadia]![0])"]
            ).sorted())
            let deferred = rows.filter { $0.int("user_id") == Int(nadia) }.map { $0.bool("deferred")! }
            #expect(deferred == [true, false], "quiet hours wait, URGENT does not")
        }
    }

    @Test func aFailingRequestFailsAloneAndAfterBatchSeesCommitOrder() async throws {
        let seen = Locked<[Int]>([])
        let allSeen = DispatchSemaphore(value: 0)
        // afterBatch runs after a batch's callers have their answers: wait for it, not for them.
        let batcher = Batcher<Int, Int>(pool: DatabasePool(url: DatabaseTests.url, workers: 1), maxInFlight: 1,
                                        isolateFailures: true, afterBatch: { outputs in
                                            if seen.withLock({ $0 += outputs; return $0.count }) == 5 { allSeen.signal() }
                                        }) {
            connection, inputs in
            // One statement for the batch: a negative input makes PostgreSQL fail it (division by zero).
            let literal = PostgresArray.bigint(inputs.map(Int64.init))
            return try connection.execute("""
                SELECT 10 / (CASE WHEN i < 0 THEN 0 ELSE 1 END) * i AS v FROM unnest($1::bigint[]) WITH ORDINALITY AS t(i, o)
                ORDER BY o
                """, [literal]).rows.map { $0.int("v")! }
        }
        let results = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for input in [1, 2, -3, 4, 5, 6] {
                group.addTask {
                    do { return (input, .success(try await batcher.submit(input))) } catch { return (input, .failure(error)) }
                }
            }
            return await group.reduce(into: [Int: Result<Int, any Error>]()) { $0[$1.0] = $1.1 }
        }
        for input in [1, 2, 4, 5, 6] { #expect((try? results[input]?.get()) == input * 10) }
        if case .success = results[-3]! { Issue.record("the failing input must fail") }
        #expect(allSeen.wait(timeout: .now() + 10) == .success)
        #expect(seen.withLock { $0.sorted() } == [10, 20, 40, 50, 60])
    }
}
