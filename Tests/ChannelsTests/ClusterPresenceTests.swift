import Testing
@testable import Channels

/// Presence merged across nodes, with a fake clock: what this node shares, what it announces to
/// its own sessions when other nodes' changes arrive, and a node's end.
@Suite struct ClusterPresenceTests {
    let amina = PresenceMember(userID: 1, name: "Amina", role: "STUDENT")
    let omar = PresenceMember(userID: 2, name: "Omar", role: "TEACHER")

    @Test func localChangesAreSharedOnceAndLeavesAfterTheGrace() {
        var presence = ClusterPresence(graceMillis: 500)
        #expect(presence.connect(amina, session: .named("a1"), now: 0) == [PresenceChange(room: nil, member: amina, present: true)])
        #expect(presence.connect(amina, session: .named("a2"), now: 0).isEmpty, "a second tab is no news")
        let joined = presence.join("class:5", member: amina, session: .named("a1"), now: 0)
        #expect(joined.announce?.joins == [amina])
        #expect(joined.share == [PresenceChange(room: "class:5", member: amina, present: true)])
        presence.leave("class:5", userID: 1, session: .named("a1"), now: 100)
        presence.disconnect(1, session: .named("a1"), now: 100)
        presence.disconnect(1, session: .named("a2"), now: 100)
        #expect(presence.expire(now: 599).share.isEmpty, "nothing before the grace is over")
        let expired = presence.expire(now: 600)
        #expect(expired.share == [PresenceChange(room: "class:5", member: amina, present: false),
                                  PresenceChange(room: nil, member: PresenceMember(userID: 1, name: "", role: ""), present: false)])
        #expect(expired.announce == [PresenceDiff(room: "class:5", joins: [], leaves: [amina])])
    }

    @Test func anotherNodesJoinsAndLeavesAreAnnouncedOnceMerged() {
        var presence = ClusterPresence(graceMillis: 500)
        _ = presence.join("class:5", member: amina, session: .named("a1"), now: 0)
        let diffs = presence.apply(node: "b", [PresenceChange(room: nil, member: omar, present: true),
                                                PresenceChange(room: "class:5", member: omar, present: true)], now: 10)
        #expect(diffs == [PresenceDiff(room: "class:5", joins: [omar], leaves: [])])
        #expect(presence.members(of: "class:5") == [amina, omar])
        #expect(presence.isOnline(2))
        // Omar also on node c: no news; leaving b while on c: no leave.
        #expect(presence.apply(node: "c", [PresenceChange(room: "class:5", member: omar, present: true)], now: 20).isEmpty)
        #expect(presence.apply(node: "b", [PresenceChange(room: "class:5", member: omar, present: false)], now: 30).isEmpty)
        #expect(presence.apply(node: "c", [PresenceChange(room: "class:5", member: omar, present: false)], now: 40)
            == [PresenceDiff(room: "class:5", joins: [], leaves: [omar])])
        #expect(presence.members(of: "class:5") == [amina])
    }

    @Test func aUserOnTwoNodesNeitherJoinsNorLeavesWhenOneTabMoves() {
        var presence = ClusterPresence(graceMillis: 500)
        _ = presence.apply(node: "b", [PresenceChange(room: "class:5", member: amina, present: true)], now: 0)
        let joined = presence.join("class:5", member: amina, session: .named("a1"), now: 10)
        #expect(joined.announce == nil, "already present through node b")
        #expect(joined.share.count == 1, "but node b's peers must know this node has her too")
        presence.leave("class:5", userID: 1, session: .named("a1"), now: 20)
        let expired = presence.expire(now: 1000)
        #expect(expired.announce.isEmpty && expired.share.count == 1)
        #expect(presence.members(of: "class:5") == [amina])
    }

    @Test func aGoneNodesUsersLeaveAndGoOffline() {
        var presence = ClusterPresence(graceMillis: 500)
        _ = presence.apply(node: "b", [PresenceChange(room: nil, member: omar, present: true),
                                       PresenceChange(room: "class:5", member: omar, present: true),
                                       PresenceChange(room: "khatma:1", member: omar, present: true)], now: 0)
        #expect(presence.remoteNodes == ["b"])
        let diffs = presence.removeNode("b", now: 100)
        #expect(diffs == [PresenceDiff(room: "class:5", joins: [], leaves: [omar]),
                          PresenceDiff(room: "khatma:1", joins: [], leaves: [omar])])
        #expect(!presence.isOnline(2) && presence.remoteNodes.isEmpty)
        #expect(presence.lastSeen(2) == 100)
        #expect(presence.removeNode("b", now: 200).isEmpty, "once")
    }

    @Test func localStateSaysEverythingAgain() {
        var presence = ClusterPresence(graceMillis: 500)
        _ = presence.connect(amina, session: .named("a1"), now: 0)
        _ = presence.join("class:5", member: amina, session: .named("a1"), now: 0)
        _ = presence.apply(node: "b", [PresenceChange(room: "class:5", member: omar, present: true)], now: 0)
        #expect(presence.localState == [PresenceChange(room: nil, member: PresenceMember(userID: 1, name: "", role: ""), present: true),
                                        PresenceChange(room: "class:5", member: amina, present: true)])
    }
}
