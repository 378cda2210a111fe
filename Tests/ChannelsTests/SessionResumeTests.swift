import Testing
@testable import Channels

/// Resume with live pushes racing the replay: no gap, no duplicate, in order. Live pushes may come
/// out of id order (events committed concurrently) and are never dropped, except a true duplicate
/// of an id the replay just sent.
@Suite struct SessionResumeTests {
    @Test func liveNotificationsRacingTheReplayAreMergedWithoutGapOrDuplicate() {
        var session = SessionHarness.live()
        #expect(session.send(#"{"type":"resume","last_id":10}"#) == ["history>10"])
        // While history is read: 12 and 11 (both in the history), 15 (committed after the read),
        // and 9 (an older event committed late) arrive live; a presence diff has no id.
        #expect(session.push(12) == nil)
        #expect(session.push(15) == nil)
        #expect(session.push(nil) == "push", "presence and read changes are not held")
        #expect(session.push(11) == nil)
        #expect(session.push(9) == nil)
        #expect(session.history([11, 12, 13], after: 10) == ["#11", "#12", "#13", "push#15", "push#9", "resumed"])
        let resumed = session.lastData("resumed")
        #expect(resumed?["count"] as? Int == 5)
        #expect(resumed?["last_id"] as? Int == 15)
        // Live again: a late duplicate of a replayed id is dropped, anything else is sent, in any order.
        #expect(session.push(13) == nil, "13 was replayed")
        #expect(session.push(14) == "push#14", "never dropped for being below the cursor")
        #expect(session.push(13) == "push#13", "dropped once: the duplicate is gone")
        #expect(session.push(16) == "push#16")
    }

    @Test func theDuplicateWindowEndsAndFreesItsState() {
        var session = SessionHarness.live()
        session.send(#"{"type":"resume","last_id":0}"#)
        session.history([1, 2], after: 0)
        #expect(session.machine.recovery != nil, "ids 1 and 2 may still race in")
        session.clock.advance(millis: SessionMachine.duplicateWindowMillis)
        #expect(session.tick() == [])
        #expect(session.machine.recovery == nil)
        #expect(session.push(2) == "push#2", "past the window every push is sent")
    }

    @Test func historyIsReadPageByPage() {
        var session = SessionHarness.live { $0.historyPageSize = 2 }
        session.send(#"{"type":"resume","last_id":0}"#)
        #expect(session.push(4) == nil)
        #expect(session.history([1, 2], after: 0) == ["#1", "#2", "history>2"])
        #expect(session.push(6) == nil)
        #expect(session.history([3, 4], after: 2) == ["#3", "#4", "history>4"])
        #expect(session.history([5], after: 4) == ["#5", "push#6", "resumed"])
        #expect(session.lastData("resumed")?["count"] as? Int == 6)
        #expect(session.lastData("resumed")?["last_id"] as? Int == 6)
    }

    @Test func resumeFromTheURLReplaysRightAfterConnected() {
        var session = SessionHarness(user: SessionHarness.user(), resumeFrom: 3)
        #expect(session.open() == ["bind 7"])
        #expect(session.push(nil) == nil, "held until connected")
        #expect(session.push(5) == nil)
        #expect(session.unread(2) == ["connected", "history>3"])
        #expect(session.history([4, 5], after: 3) == ["#4", "#5", "push", "resumed"])
    }

    @Test func aResumeAskedBeforeConnectedIsKept() {
        var session = SessionHarness()
        session.open()
        session.send(#"{"type":"auth","token":"t"}"#)
        session.verified(SessionHarness.user())
        #expect(session.send(#"{"type":"resume","last_id":8}"#) == [])
        #expect(session.unread(0) == ["connected", "history>8"])
    }

    @Test func aFailedHistoryReadSaysSoAndGoesLiveWithTheHeldPushes() {
        struct Down: Error {}
        var session = SessionHarness.live()
        session.send(#"{"type":"resume","last_id":1}"#)
        session.push(3)
        let actions = session.record(session.machine.historyLoaded(.failure(Down()), after: 1, now: session.clock.now))
        #expect(actions == ["error:resume_failed", "push#3"])
        #expect(session.push(4) == "push#4")
    }

    @Test func aResumeDuringAResumeRunsAfterIt() {
        var session = SessionHarness.live()
        session.send(#"{"type":"resume","last_id":1}"#)
        #expect(session.send(#"{"type":"resume","last_id":5}"#) == [])
        #expect(session.history([2], after: 1) == ["#2", "resumed", "history>5"])
    }

    @Test func copiesOfAMachineDoNotShareTheirResumeState() {
        var session = SessionHarness.live()
        session.send(#"{"type":"resume","last_id":0}"#)
        session.push(3)
        var copy = session.machine
        _ = copy.historyLoaded(.success([]), after: 0, now: session.clock.now)
        #expect(session.history([], after: 0) == ["push#3", "resumed"], "the copy's merge left this one alone")
    }
}
