import Channels
import Foundation
import Hub
import Testing
@testable import RESTBridge

/// The bus reader against the real PostgreSQL: a row whose transaction commits late, with a lower
/// id than a row already committed, is neither skipped nor delivered out of order; rows are read
/// once; a node's own rows are not read back.
@Suite struct BusOrderTests {
    @Test func aLateCommitWithALowerIDIsNotSkipped() throws {
        try withSchemaURL { _, url in
            var settings = PostgresBus.Settings(url: url, nodeID: "reader")
            settings.pollMillis = 50
            let bus = PostgresBus(settings: settings, logger: Logger(level: .error))
            let hub = ChannelHub(loopCount: 1, configuration: ChannelConfiguration(), dependencies: Self.unused, bus: bus)
            let seen = Locked<[String]>([])
            bus.attach { item in
                guard case .messages(let messages) = item else { return }
                seen.withLock { $0 += messages.map { String(decoding: $0.json, as: UTF8.self) } }
            }
            try bus.start(hub: hub)
            defer { bus.stop() }

            let late = try PostgresConnection(url: url), early = try PostgresConnection(url: url)
            func insert(_ connection: PostgresConnection, _ n: Int, node: String = "writer") throws {
                try connection.execute("INSERT INTO hub_bus (node, kind, users, payload) VALUES ($1, 'message', '{1}', $2)",
                                       [node, #"{"n":\#(n)}"#])
            }
            try late.execute("BEGIN")
            try insert(late, 1)                      // takes the lower id, commits last
            try insert(early, 2)                     // higher id, committed at once
            try insert(early, 3, node: "reader")     // the reader's own row: never read back
            Thread.sleep(forTimeInterval: 0.4)
            #expect(seen.withLock { $0 }.isEmpty, "row 2 waits for the transaction that started before it")
            try late.execute("COMMIT")
            let deadline = Date().addingTimeInterval(5)
            while seen.withLock({ $0.count }) < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            Thread.sleep(forTimeInterval: 0.3)
            #expect(seen.withLock { $0 } == [#"{"n":1}"#, #"{"n":2}"#], "both, once, in id order")
            #expect(bus.status.messagesIn == 2)
        }
    }

    static let unused = ChannelDependencies(
        verifyToken: { _ in .failure(.invalid("unused")) }, canJoinRoom: { _, _ in false },
        history: { _, _, _ in [] }, unreadCount: { _ in .zero }, markRead: { _, _ in InboxOutcome(ids: [], counts: .zero) })
}
