import Testing
@testable import Channels

/// Authentication of a session with a fake clock and no sockets: the first-message `auth` and its
/// deadline (4401), refused tokens, token expiry and refresh through `auth`.
@Suite struct SessionAuthTests {
    @Test func firstMessageAuthThenConnected() {
        var session = SessionHarness()
        #expect(session.open() == [])
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["error:auth_required"], "only auth before auth")
        #expect(session.send(#"{"type":"subscribe","room":"class:5"}"#) == ["error:auth_required"])
        #expect(session.send(#"{"type":"auth","token":"t"}"#) == ["verify"])
        #expect(session.verified(SessionHarness.user(7)) == ["bind 7"])
        #expect(session.push(20) == nil, "a push before connected is held")
        #expect(session.unread(4) == ["connected", "push#20"])
        let connected = session.lastData("connected")
        #expect(connected?["user_id"] as? Int == 7)
        #expect(connected?["unread_count"] as? Int == 4)
        #expect(connected?["heartbeat_interval"] as? Int == 30)
        #expect(connected?["session_id"] as? String == session.machine.id.description)
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"])
        #expect(session.push(21) == "push#21")
    }

    @Test func noAuthWithinTheDeadlineCloses4401() {
        var session = SessionHarness()
        session.open()
        #expect(session.machine.nextDeadline == session.clock.now.monotonicMillis + 10_000)
        session.clock.advance(millis: 9_999)
        #expect(session.tick() == [])
        session.clock.advance(millis: 1)
        #expect(session.tick() == ["close 4401"])
        #expect(session.send(#"{"type":"auth","token":"t"}"#) == [], "closed: nothing more")
        #expect(session.tick() == [])
    }

    @Test func anAuthInFlightDoesNotStopTheDeadlineButALateAnswerIsIgnored() {
        var session = SessionHarness()
        session.open()
        session.send(#"{"type":"auth","token":"t"}"#)
        session.clock.advance(millis: 10_000)
        #expect(session.tick() == ["close 4401"])
        #expect(session.verified(SessionHarness.user()) == [])
    }

    @Test func refusedFirstTokensClose() {
        var bad = SessionHarness()
        bad.open()
        bad.send(#"{"type":"auth","token":"t"}"#)
        #expect(bad.rejected(.invalid("bad signature")) == ["close 4401"])

        var expired = SessionHarness()
        expired.open()
        expired.send(#"{"type":"auth","token":"t"}"#)
        #expect(expired.rejected(.expired) == ["close 4401"])

        var down = SessionHarness()
        down.open()
        down.send(#"{"type":"auth","token":"t"}"#)
        #expect(down.rejected(.unavailable) == ["close 1011"], "the store is down: reconnect later")

        var other = SessionHarness(pathUserID: 8)
        other.open()
        other.send(#"{"type":"auth","token":"t"}"#)
        #expect(other.verified(SessionHarness.user(7)) == ["close 4403"], "the path names user 8")
    }

    @Test func tokenExpiryCloses4401AndAuthRefreshesIt() {
        let clock = FakeClock()
        var session = SessionHarness.live(user: SessionHarness.user(7, ttl: 60, clock: clock))
        session.clock.advance(millis: 59_000)
        #expect(session.tick() == [])
        #expect(session.send(#"{"type":"auth","token":"fresh"}"#) == ["verify refresh"])
        #expect(session.verified(SessionHarness.user(7, ttl: 960, clock: clock), first: false) == ["authenticated"])
        #expect(session.lastData("authenticated")?["expires_at"] as? Int == Int(clock.unixSeconds + 960))
        session.clock.advance(millis: 2_000)
        #expect(session.tick() == [], "past the old expiry, within the new one")
        // Keep the heartbeat alive until the refreshed token runs out.
        while session.clock.unixSeconds + 30 < clock.unixSeconds + 960 {
            session.clock.advance(millis: 30_000)
            #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"])
            #expect(session.tick() == [])
        }
        session.clock.advance(millis: (clock.unixSeconds + 960 - session.clock.unixSeconds) * 1000 - 1)
        #expect(session.tick() == [], "a millisecond before expiry")
        session.clock.advance(millis: 1)
        #expect(session.tick() == ["close 4401"])
        #expect(session.push(40) == nil)
    }

    @Test func refreshWithAnotherUsersTokenIs4403AndABadOneIs4401() {
        var other = SessionHarness.live()
        other.send(#"{"type":"auth","token":"x"}"#)
        #expect(other.verified(SessionHarness.user(8), first: false) == ["close 4403"])

        var bad = SessionHarness.live()
        bad.send(#"{"type":"auth","token":"x"}"#)
        #expect(bad.rejected(.expired, first: false) == ["close 4401"])
    }

    @Test func headerTokenBindsOnOpenAndSkipsTheCountQueryWhenKnown() {
        let user = ChannelUser(id: 3, displayName: "A", role: "STUDENT", isStaff: false,
                               tokenExpiresAt: FakeClock().unixSeconds + 900, unreadAtVerification: InboxCounts(unread: 2, unseen: 1))
        var machine = SessionMachine(settings: SessionSettings(ChannelConfiguration()), user: user, pathUserID: 3,
                                     resumeFrom: nil, knownUnread: KnownUnread(count: InboxCounts(unread: 2, unseen: 1), generation: 11))
        let actions = machine.opened(now: FakeClock().now)
        guard case .bind(let bound, let known)? = actions.first else { Issue.record("no bind"); return }
        #expect(bound == user)
        #expect(known == KnownUnread(count: InboxCounts(unread: 2, unseen: 1), generation: 11))
    }
}
