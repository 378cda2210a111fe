import Channels
import Foundation
import Hub
import Testing
@testable import RESTBridge

/// The cluster's presence counts against the real PostgreSQL, at the scale of a node's sessions
/// closing at once: a user goes online for the cluster on the first node that has them and
/// offline on the last one, whatever the size of the change.
@Suite struct PresenceTransitionsTests {
    @Test func aMassDisconnectGoesOfflineOnlyWhereNoOtherNodeHoldsTheUser() throws {
        try withSchemaURL { setup, url in
            let online = Locked<[String: Set<Int64>]>([:]), offline = Locked<[String: Set<Int64>]>([:])
            func node(_ name: String) throws -> PostgresBus {
                let bus = PostgresBus(settings: PostgresBus.Settings(url: url, nodeID: name), logger: Logger(level: .error))
                bus.onTransitions.withLock {
                    $0 = { up, down in
                        online.withLock { $0[name, default: []].formUnion(up) }
                        offline.withLock { $0[name, default: []].formUnion(down) }
                    }
                }
                try bus.start(hub: ChannelHub(loopCount: 1, configuration: ChannelConfiguration(), dependencies: BusOrderTests.unused,
                                              bus: bus))
                return bus
            }
            let a = try node("a"), b = try node("b")
            defer { a.stop(); b.stop() }
            func changes(_ users: ClosedRange<Int64>, present: Bool) -> BusItem {
                .presence(node: "", users.map { PresenceChange(room: nil, member: PresenceMember(userID: $0, name: "u\($0)", role: "STUDENT"),
                                                               present: present) })
            }
            func settled(_ done: () -> Bool) {
                let deadline = Date().addingTimeInterval(10)
                while !done() && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            }

            a.share(changes(1...3000, present: true))
            settled { online.withLock { $0["a"]?.count ?? 0 } == 3000 }
            b.share(changes(1...1000, present: true))
            b.share(changes(5001...5010, present: true))
            settled { online.withLock { $0["b"]?.count ?? 0 } == 10 }
            // Node a's 3,000 sessions close in one change: 1 to 1,000 are still on node b.
            a.share(changes(1...3000, present: false))
            settled { offline.withLock { $0["a"]?.count ?? 0 } >= 2000 }
            Thread.sleep(forTimeInterval: 0.2)

            #expect(online.withLock { $0["a"] } == Set(1...3000))
            #expect(online.withLock { $0["b"] } == Set(5001...5010), "users a already had are not online again")
            #expect(offline.withLock { $0["a"] } == Set(1001...3000))
            #expect(offline.withLock { $0["b"] ?? [] }.isEmpty)
            let counts = try setup.execute("SELECT count(*) FILTER (WHERE nodes > 0) AS up, coalesce(sum(nodes), 0) AS total FROM hub_presence_users")
            #expect(counts.first?.int("up") == 1010)
            #expect(counts.first?.int("total") == 1010)
        }
    }
}
