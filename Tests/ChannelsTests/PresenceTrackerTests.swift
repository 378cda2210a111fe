import Testing
@testable import Channels

/// Presence with a fake clock: every time is passed in, nothing sleeps.
@Suite struct PresenceTrackerTests {
    let amina = PresenceMember(userID: 1, name: "Amina", role: "STUDENT")
    let omar = PresenceMember(userID: 2, name: "Omar", role: "STUDENT")

    @Test func firstSessionJoinsLaterOnesDoNot() {
        var tracker = PresenceTracker(graceMillis: 5000)
        #expect(tracker.join("class:5", member: amina, session: .named("a1"), now: 0) == PresenceDiff(room: "class:5", joins: [amina], leaves: []))
        #expect(tracker.join("class:5", member: amina, session: .named("a2"), now: 10) == nil, "a second tab is no news")
        #expect(tracker.join("class:5", member: omar, session: .named("o1"), now: 20)?.joins == [omar])
        #expect(tracker.members(of: "class:5") == [amina, omar])
    }

    @Test func leaveWaitsForTheGracePeriod() {
        var tracker = PresenceTracker(graceMillis: 5000)
        _ = tracker.join("class:5", member: amina, session: .named("a1"), now: 0)
        tracker.leave("class:5", userID: 1, session: .named("a1"), now: 1000)
        #expect(tracker.expire(now: 5999).isEmpty)
        #expect(tracker.members(of: "class:5") == [amina], "still shown during the grace period")
        #expect(tracker.expire(now: 6000) == [PresenceDiff(room: "class:5", joins: [], leaves: [amina])])
        #expect(tracker.members(of: "class:5").isEmpty)
        #expect(tracker.expire(now: 99_999).isEmpty, "announced once")
    }

    @Test func reloadWithinGraceShowsNothing() {
        var tracker = PresenceTracker(graceMillis: 5000)
        _ = tracker.join("class:5", member: amina, session: .named("a1"), now: 0)
        tracker.leave("class:5", userID: 1, session: .named("a1"), now: 1000)
        #expect(tracker.join("class:5", member: amina, session: .named("a2"), now: 3000) == nil, "no join for a reload")
        #expect(tracker.expire(now: 10_000).isEmpty, "and no leave")
        #expect(tracker.members(of: "class:5") == [amina])
    }

    @Test func oneTabLeavingKeepsTheUserPresent() {
        var tracker = PresenceTracker(graceMillis: 5000)
        _ = tracker.join("class:5", member: amina, session: .named("a1"), now: 0)
        _ = tracker.join("class:5", member: amina, session: .named("a2"), now: 0)
        tracker.leave("class:5", userID: 1, session: .named("a1"), now: 100)
        #expect(tracker.expire(now: 60_000).isEmpty)
        #expect(tracker.members(of: "class:5") == [amina])
    }

    @Test func onlineWhileAnySessionAndLastSeen() {
        var tracker = PresenceTracker(graceMillis: 5000)
        tracker.connect(1, session: .named("a1"), now: 100)
        tracker.connect(1, session: .named("a2"), now: 200)
        tracker.disconnect(1, session: .named("a1"), now: 300)
        #expect(tracker.isOnline(1) && tracker.sessionCount(1) == 1)
        tracker.disconnect(1, session: .named("a2"), now: 400)
        #expect(tracker.isOnline(1), "online during the grace period")
        #expect(tracker.lastSeen(1) == 400)
        _ = tracker.expire(now: 5400)
        #expect(!tracker.isOnline(1))
        #expect(!tracker.isOnline(2))
    }
}

@Suite struct ClientMessageTests {
    private func parse(_ text: String) -> Result<ClientMessage, ClientMessage.ParseError> {
        ClientMessage.parse(Array(text.utf8))
    }

    @Test func knownMessages() throws {
        #expect(try parse(#"{"type":"heartbeat"}"#).get() == .heartbeat)
        #expect(try parse(#"{"type":"auth","token":"abc"}"#).get() == .auth(token: "abc"))
        #expect(try parse(#"{"type":"resume","last_id":41}"#).get() == .resume(lastID: 41))
        #expect(try parse(#"{"type":"resume","data":{"last_id":"41"}}"#).get() == .resume(lastID: 41))
        #expect(try parse(#"{"type":"mark_read","id":5}"#).get() == .markRead(ids: [5]))
        #expect(try parse(#"{"type":"mark_read","ids":[5,6]}"#).get() == .markRead(ids: [5, 6]))
        #expect(try parse(#"{"type":"mark_all_read"}"#).get() == .markAllRead)
        #expect(try parse(#"{"type":"subscribe","room":"khatma:12"}"#).get() == .subscribe(room: "khatma:12"))
        #expect(try parse(#"{"type":"unsubscribe","data":{"room":"halaka:quran-1"}}"#).get() == .unsubscribe(room: "halaka:quran-1"))
    }

    /// Found by FuzzClientMessage: an id past 2^53 (19 digits) given as a string parsed, but the same
    /// id as a JSON number was refused (it was read through a double). Both must be the same id.
    @Test func idsPastTwoToTheFiftyThirdAreExactAsNumbersAndAsStrings() throws {
        let crash = try String(contentsOfFile: #filePath.replacingOccurrences(of: "Tests/ChannelsTests/PresenceTrackerTests.swift",
            with: "Tests/Fuzz/corpus/FuzzClientMessage/resume-past-2-53"), encoding: .utf8)
        #expect(try parse(crash).get() == .resume(lastID: 1_111_111_111_111_111_111))
        #expect(try parse(#"{"type":"resume","last_id":1111111111111111111}"#).get() == .resume(lastID: 1_111_111_111_111_111_111))
        #expect(try parse(#"{"type":"mark_read","ids":[9007199254740993]}"#).get() == .markRead(ids: [9_007_199_254_740_993]))
        #expect(parse(#"{"type":"resume","last_id":18446744073709551615}"#) == .failure(.invalidField("last_id")))
        #expect(parse(#"{"type":"resume","last_id":1.5}"#) == .failure(.invalidField("last_id")))
    }

    @Test func refusals() {
        #expect(parse("not json") == .failure(.invalidJSON))
        #expect(parse("[1,2]") == .failure(.invalidJSON))
        #expect(parse(#"{"kind":"x"}"#) == .failure(.invalidField("type")))
        #expect(parse(#"{"type":"dance"}"#) == .failure(.unknownType("dance")))
        #expect(parse(#"{"type":"auth"}"#) == .failure(.invalidField("token")))
        #expect(parse(#"{"type":"resume","last_id":-1}"#) == .failure(.invalidField("last_id")))
        #expect(parse(#"{"type":"resume","last_id":true}"#) == .failure(.invalidField("last_id")))
        #expect(parse(#"{"type":"mark_read","ids":["x"]}"#) == .failure(.invalidField("ids")))
        #expect(parse(#"{"type":"subscribe","room":"class 5"}"#) == .failure(.invalidField("room")))
        #expect(parse(#"{"type":"subscribe","room":"bank:1"}"#) == .failure(.invalidField("room")))
    }
}

extension SessionID {
    /// A readable, deterministic id for tests ("a1" and "a2" are two tabs of the same user).
    static func named(_ name: String) -> SessionID {
        SessionID(high: name.utf8.reduce(0) { $0 << 8 | UInt64($1) }, low: 0)
    }
}
