import Testing
@testable import Channels

/// The user-level transitions presence webhooks are written from, with a fake clock: online at the
/// first session, offline once when the last one has been gone for the grace, nothing for a reload.
@Suite struct UserPresenceTransitionTests {
    @Test func onlineAtTheFirstSessionOnly() {
        var tracker = PresenceTracker(graceMillis: 5000)
        let first = tracker.connect(1, session: .named("a1"), now: 0)
        let secondTab = tracker.connect(1, session: .named("a2"), now: 10)
        let other = tracker.connect(2, session: .named("o1"), now: 20)
        #expect(first && !secondTab && other, "a second tab is no transition")
    }

    @Test func offlineOnceAfterTheGraceWhenTheLastTabCloses() {
        var tracker = PresenceTracker(graceMillis: 5000)
        tracker.connect(1, session: .named("a1"), now: 0)
        tracker.connect(1, session: .named("a2"), now: 0)
        tracker.disconnect(1, session: .named("a1"), now: 1000)
        #expect(tracker.expireAll(now: 10_000).offline.isEmpty, "one tab is still open")
        tracker.disconnect(1, session: .named("a2"), now: 11_000)
        #expect(tracker.expireAll(now: 15_999).offline.isEmpty, "within the grace")
        #expect(tracker.expireAll(now: 16_000).offline == [1])
        #expect(tracker.expireAll(now: 99_000).offline.isEmpty, "once")
        let again = tracker.connect(1, session: .named("a3"), now: 100_000)
        #expect(again, "online again after being offline")
    }

    @Test func reloadWithinTheGraceIsNoTransition() {
        var tracker = PresenceTracker(graceMillis: 5000)
        tracker.connect(1, session: .named("a1"), now: 0)
        tracker.disconnect(1, session: .named("a1"), now: 1000)
        let back = tracker.connect(1, session: .named("a2"), now: 3000)
        #expect(!back, "back within the grace: still online")
        #expect(tracker.expireAll(now: 50_000).offline.isEmpty)
    }
}
