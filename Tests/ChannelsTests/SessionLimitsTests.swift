import Testing
@testable import Channels

/// Heartbeat silence (4000), the message rate limit (errors, then 4429), bad messages, and rooms,
/// all with a fake clock.
@Suite struct SessionLimitsTests {
    @Test func silenceForTheHeartbeatTimeoutCloses4000() {
        var session = SessionHarness.live()
        session.clock.advance(millis: 74_999)
        #expect(session.tick() == [])
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"], "any message is life")
        session.clock.advance(millis: 74_999)
        #expect(session.tick() == [])
        session.machine.heard(at: session.clock.now.monotonicMillis)
        session.clock.advance(millis: 74_999)
        #expect(session.tick() == [], "a transport frame (a pong) is life too")
        session.clock.advance(millis: 1)
        #expect(session.tick() == ["close 4000"])
        #expect(session.tick() == [], "closed once")
    }

    @Test func floodingGetsRateLimitedErrorsThen4429() {
        var session = SessionHarness.live()
        for _ in 0..<30 { #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"]) }
        for strike in 1..<20 {
            #expect(session.send(#"{"type":"heartbeat"}"#) == ["error:rate_limited"], "strike \(strike)")
        }
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["close 4429"])
        #expect(session.send(#"{"type":"heartbeat"}"#) == [])
    }

    @Test func theBucketRefillsAtTheConfiguredRate() {
        var session = SessionHarness.live { $0.messageBurst = 2; $0.messagesPerSecond = 10 }
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"])
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"])
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["error:rate_limited"])
        session.clock.advance(millis: 100)
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"], "one token per 100 ms")
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["error:rate_limited"])
        session.clock.advance(millis: 10_000)
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"])
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"])
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["error:rate_limited"], "never more than the burst")
    }

    @Test func badMessagesAreErrorsAndTheSessionStays() {
        var session = SessionHarness.live()
        #expect(session.send("not json") == ["error:invalid_json"])
        #expect(session.send(#"{"type":"dance"}"#) == ["error:unknown_type"])
        #expect(session.send(#"{"type":"resume"}"#) == ["error:invalid_message"])
        #expect(SessionHarness.describe(session.machine.receiveBinary(now: session.clock.now)[0]) == "error:unsupported_data")
        #expect(session.send(#"{"type":"heartbeat"}"#) == ["heartbeat_ack"])
    }

    @Test func roomsAreCheckedJoinedAndLeft() {
        var session = SessionHarness.live()
        #expect(session.send(#"{"type":"subscribe","room":"class:5"}"#) == ["check class:5"])
        #expect(session.record(session.machine.roomChecked("class:5", allowed: true, now: session.clock.now)) == ["join class:5"])
        #expect(session.send(#"{"type":"subscribe","room":"class:5"}"#) == ["presence class:5"])
        #expect(session.send(#"{"type":"subscribe","room":"class:6"}"#) == ["check class:6"])
        #expect(session.record(session.machine.roomChecked("class:6", allowed: false, now: session.clock.now))
            == ["error:forbidden"])
        #expect(session.send(#"{"type":"unsubscribe","room":"class:5"}"#) == ["leave class:5", "unsubscribed"])
        #expect(session.send(#"{"type":"unsubscribe","room":"class:5"}"#) == ["error:not_subscribed"])
        #expect(session.machine.rooms.isEmpty)
    }

    @Test func roomsPerSessionAreCapped() {
        var session = SessionHarness.live { $0.maxRoomsPerSession = 1 }
        session.send(#"{"type":"subscribe","room":"class:5"}"#)
        session.record(session.machine.roomChecked("class:5", allowed: true, now: session.clock.now))
        #expect(session.send(#"{"type":"subscribe","room":"class:6"}"#) == ["error:too_many_rooms"])
    }

    @Test func anIdleSessionIsSmall() {
        // Every authenticated session carries one of these: keep it to a few cache lines.
        #expect(MemoryLayout<SessionMachine>.size <= 152, "\(MemoryLayout<SessionMachine>.size) bytes")
    }
}
