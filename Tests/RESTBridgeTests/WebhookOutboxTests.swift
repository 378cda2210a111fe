import Foundation
import Hub
import Testing
@testable import NotifyDrivers
@testable import RESTBridge

/// Webhook messages are written by the event batch's one statement, against the real PostgreSQL.
@Suite struct WebhookOutboxTests {
    private func endpoint(_ connection: PostgresConnection, _ types: [String], disabled: Bool = false) throws -> Int64 {
        Int64(try connection.execute("""
            INSERT INTO webhook_endpoints (url, event_types, secret, disabled) VALUES ('https://hooks.example/x', $1::text[],
                'whsec_AAAA', $2::boolean) RETURNING id
            """, [PostgresArray.text(types), disabled ? "true" : "false"]).first!.int("id")!)
    }

    @Test func theEventStatementQueuesOneMessagePerSubscribedEndpoint() throws {
        try withSchema { connection in
            let exact = try endpoint(connection, ["enrollment.created"])
            let wildcard = try endpoint(connection, ["enrollment.*", "payment.completed"])
            _ = try endpoint(connection, ["*"], disabled: true)
            _ = try endpoint(connection, ["notification.*"])
            let amina = try EventStoreTests().user(connection, "amina")
            func event(_ type: String, _ recipients: Recipients) -> EventRequest {
                EventRequest(type: type, category: "course", priority: .medium, title: Localized(en: "T", ar: "T", fr: "T"),
                             message: Localized(en: "M", ar: "M", fr: "M"), data: #"{"course_id":7}"#, recipients: recipients)
            }
            let stored = try EventStore.store([event("enrollment.created", Recipients()),
                                               event("payment.completed", Recipients(users: [amina])),
                                               event("course.published", Recipients())], on: connection)
            #expect(stored[0].notifications.isEmpty && stored[1].notifications.count == 1 && stored[2].notifications.isEmpty)
            #expect(stored.map(\.webhooksInBatch) == [3, 3, 3])
            let rows = try connection.execute("""
                SELECT endpoint_id, event_type, webhook_id, payload, status, notification_id FROM deliveries
                WHERE channel = 'WEBHOOK' ORDER BY endpoint_id, id
                """).rows
            #expect(rows.map { "\($0.int("endpoint_id")!):\($0.string("event_type")!)" }
                == ["\(exact):enrollment.created", "\(wildcard):enrollment.created", "\(wildcard):payment.completed"])
            #expect(Set(rows.compactMap { $0.string("webhook_id") }).count == 3)
            #expect(rows.allSatisfy { $0.string("webhook_id")!.range(of: "^msg_[0-9a-f]{32}$", options: .regularExpression) != nil })
            #expect(rows.allSatisfy { $0.string("status") == "PENDING" && $0.string("notification_id") == nil })
            let body = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].string("payload")!.utf8)) as? [String: Any])
            #expect(body["type"] as? String == "enrollment.created")
            #expect((body["data"] as? [String: Any])?["course_id"] as? Int == 7)
            #expect((body["timestamp"] as? String)?.hasSuffix("Z") == true)
        }
    }

    @Test func wildcardsMatchByPrefixOnly() throws {
        try withSchema { connection in
            let cases: [([String], String, Bool)] = [
                (["notification.*"], "notification.read", true), (["notification.*"], "notification", false),
                (["notification.*"], "notifications.read", false), (["*"], "anything.at.all", true),
                (["user.created"], "user.created", true), (["user.created"], "user.created.v2", false),
                (["a.b", "presence.*"], "presence.offline", true), ([], "x", false),
            ]
            for (patterns, type, expected) in cases {
                let answer = try connection.execute("SELECT hub_webhook_wants($1::text[], $2) AS yes",
                                                    [PostgresArray.text(patterns), type]).first?.bool("yes")
                #expect(answer == expected, "\(patterns) \(type)")
            }
        }
    }

    /// Standard Webhooks' schedule, scaled for tests, ±10%; 8 attempts; other channels keep theirs.
    @Test func theWebhookScheduleAndItsAttempts() {
        var configuration = OutboxWorker.Configuration()
        configuration.maxAttempts = 5
        let worker = OutboxWorker(url: "postgresql://unused", configuration: configuration, drivers: [], logger: Logger(level: .error))
        #expect(worker.maxAttempts(.webhook) == 8 && worker.maxAttempts(.email) == 5)
        for (attempt, base) in [(1, 5_000), (2, 300_000), (3, 1_800_000), (4, 7_200_000), (5, 18_000_000), (7, 36_000_000),
                                (12, 36_000_000)] as [(Int, Int64)]
        {
            for _ in 0..<20 {
                let delay = worker.backoff(attempt: attempt, channel: .webhook)
                #expect(delay >= base - base / 10 && delay <= base + base / 10, "attempt \(attempt): \(delay)")
            }
        }
    }
}
