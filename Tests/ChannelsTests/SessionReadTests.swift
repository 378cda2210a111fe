import Foundation
import Synchronization
import Hub
import Testing
@testable import Channels

/// Records what a hub publishes instead of delivering it.
final class RecordingBus: ChannelBus {
    let published = Locked<[(ChannelTarget, [UInt8], Int64?)]>([])
    func share(_ item: BusItem) {
        guard case .messages(let messages) = item else { return }
        published.withLock { list in
            for message in messages { list.append((message.target, message.json, message.notificationID)) }
        }
    }
    func attach(_ receive: @escaping @Sendable (BusItem) -> Void) {}
}

/// `mark_read` and `mark_all_read`: persisted, then announced to every session of the user.
@Suite struct SessionReadTests {
    @Test func markReadIsPersistedThenAnnouncedToEverySessionOfTheUser() throws {
        var phone = SessionHarness.live()
        var laptop = SessionHarness.live()
        #expect(phone.send(#"{"type":"mark_read","ids":[3,4]}"#) == ["markRead [3, 4]"])
        #expect(phone.send(#"{"type":"mark_read","id":5}"#) == ["markRead [5]"])
        let outcome = phone.record(phone.machine.markReadFinished(.success(InboxOutcome(ids: [3, 4], counts: InboxCounts(unread: 2, unseen: 1))),
                                                                   now: phone.clock.now))
        #expect(outcome == ["announceRead [3, 4] unread 2 unseen 1"])

        // The adapter hands `announceRead` to the hub, which publishes once to the user.
        let bus = RecordingBus()
        let hub = ChannelHub(loopCount: 1, configuration: ChannelConfiguration(), dependencies: .unused, bus: bus)
        hub.announceRead(userID: 7, ids: [3, 4], counts: InboxCounts(unread: 2, unseen: 1))
        let published = bus.published.withLock { $0 }
        try #require(published.count == 1)
        #expect(published[0].0 == .user(7))
        #expect(published[0].2 == nil, "a read change is not a resumable notification")
        let message = try #require(try JSONSerialization.jsonObject(with: Data(published[0].1)) as? [String: Any])
        #expect(message["type"] as? String == "notification_read")
        let data = message["data"] as? [String: Any]
        #expect(data?["ids"] as? [Int] == [3, 4])
        #expect(data?["unread_count"] as? Int == 2)
        #expect(data?["unseen_count"] as? Int == 1)

        // Every session of user 7 sends that one frame, even one busy resuming.
        let push = Push(frame: WebSocketFrameEncoder.frame(.text, payload: published[0].1), notificationID: nil)
        laptop.send(#"{"type":"resume","last_id":0}"#)
        let toPhone = phone.machine.livePush(push), toLaptop = laptop.machine.livePush(push)
        #expect(toPhone && toLaptop)
    }

    /// `mark_seen`, `archive`, `unarchive` and `snooze`: persisted, then announced as `notification_updated`.
    @Test func inboxChangesArePersistedThenAnnounced() throws {
        #expect(try ClientMessage.parse(Array(#"{"type":"mark_seen","up_to_id":9}"#.utf8)).get() == .change(.seen(ids: [], upTo: 9)))
        #expect(try ClientMessage.parse(Array(#"{"type":"mark_seen","ids":[4,5]}"#.utf8)).get() == .change(.seen(ids: [4, 5], upTo: nil)))
        #expect(try ClientMessage.parse(Array(#"{"type":"snooze","id":3,"until":"2030-01-01T08:00:00Z"}"#.utf8)).get()
            == .change(.snooze([3], until: "2030-01-01T08:00:00Z")))
        var session = SessionHarness.live()
        #expect(session.send(#"{"type":"mark_seen","up_to_id":9}"#) == ["change seen"])
        #expect(session.send(#"{"type":"archive","id":3}"#) == ["change archived"])
        #expect(session.send(#"{"type":"unarchive","ids":[3]}"#) == ["change unarchived"])
        #expect(session.send(#"{"type":"snooze","ids":[3],"until":"2030-01-01T00:00:00Z"}"#) == ["change snoozed"])
        #expect(session.send(#"{"type":"snooze","ids":[3],"until":"tomorrow"}"#) == ["error:invalid_message"])
        #expect(session.send(#"{"type":"archive"}"#) == ["error:invalid_message"])
        let done = InboxOutcome(ids: [3], counts: InboxCounts(unread: 1, unseen: 0))
        #expect(session.record(session.machine.inboxChangeFinished(.success(done), state: "archived", now: session.clock.now))
            == ["announceChange archived [3]"])
        struct Down: Error {}
        #expect(session.record(session.machine.inboxChangeFinished(.failure(Down()), state: "seen", now: session.clock.now))
            == ["error:update_failed"])
    }

    @Test func markAllReadAndAFailedSave() {
        var session = SessionHarness.live()
        #expect(session.send(#"{"type":"mark_all_read"}"#) == ["markRead all"])
        struct Down: Error {}
        #expect(session.record(session.machine.markReadFinished(.failure(Down()), now: session.clock.now))
            == ["error:mark_read_failed"])
        #expect(session.send(#"{"type":"mark_read","ids":[]}"#) == ["error:invalid_message"])
    }
}

extension ChannelDependencies {
    /// Dependencies for tests that never reach them.
    static let unused = ChannelDependencies(
        verifyToken: { _ in .failure(.unavailable) }, canJoinRoom: { _, _ in false }, history: { _, _, _ in [] },
        unreadCount: { _ in .zero }, markRead: { _, _ in InboxOutcome(ids: [], counts: .zero) })
}
