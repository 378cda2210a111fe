import Foundation
import Hub
@testable import Channels

/// A clock moved by hand: both of a session's clocks advance together.
struct FakeClock {
    var now = SessionTime(monotonicMillis: 5_000_000, wallMillis: 1_800_000_000_000)

    mutating func advance(millis: Int64) {
        now.monotonicMillis += millis
        now.wallMillis += millis
    }

    var unixSeconds: Int64 { now.wallMillis / 1000 }
}

/// A session machine with a fake clock, and its actions read back as short words:
/// `connected`, `error:auth_required`, `close 4401`, `#12` (a replayed notification), `push#15`…
struct SessionHarness {
    var clock = FakeClock()
    var machine: SessionMachine
    /// Every action so far, in order.
    var actions: [SessionAction] = []

    init(user: ChannelUser? = nil, pathUserID: Int64? = nil, resumeFrom: Int64? = nil,
         configure: (inout ChannelConfiguration) -> Void = { _ in })
    {
        var configuration = ChannelConfiguration()
        configure(&configuration)
        machine = SessionMachine(settings: SessionSettings(configuration), user: user, pathUserID: pathUserID,
                                 resumeFrom: resumeFrom)
    }

    /// A user whose token expires `ttl` seconds after the harness's clock.
    static func user(_ id: Int64 = 7, ttl: Int64 = 900, staff: Bool = false, clock: FakeClock = FakeClock()) -> ChannelUser {
        ChannelUser(id: id, displayName: "User \(id)", role: staff ? "STAFF" : "STUDENT", isStaff: staff,
                    tokenExpiresAt: clock.unixSeconds + ttl)
    }

    @discardableResult
    mutating func record(_ new: [SessionAction]) -> [String] {
        actions += new
        return new.map(Self.describe)
    }

    @discardableResult mutating func open() -> [String] { record(machine.opened(now: clock.now)) }
    @discardableResult mutating func send(_ json: String) -> [String] {
        record(machine.receive(text: Array(json.utf8), now: clock.now))
    }
    @discardableResult mutating func tick() -> [String] { record(machine.tick(now: clock.now)) }
    @discardableResult mutating func verified(_ user: ChannelUser, first: Bool = true, generation: UInt64 = 0) -> [String] {
        record(machine.tokenVerified(.success(user), first: first, generation: generation, now: clock.now))
    }
    @discardableResult mutating func rejected(_ rejection: TokenRejection, first: Bool = true) -> [String] {
        record(machine.tokenVerified(.failure(rejection), first: first, generation: 0, now: clock.now))
    }
    @discardableResult mutating func unread(_ count: Int, unseen: Int = 0) -> [String] {
        record(machine.unreadCountLoaded(InboxCounts(unread: count, unseen: unseen), now: clock.now))
    }
    @discardableResult mutating func history(_ ids: [Int64], after: Int64) -> [String] {
        let items = ids.map { StoredPush(id: $0, json: Self.notification($0)) }
        return record(machine.historyLoaded(.success(items), after: after, now: clock.now))
    }

    /// A live push as the hub delivers it: "push#id" (or "push" without id) if sent at once.
    @discardableResult mutating func push(_ id: Int64?) -> String? {
        machine.livePush(Self.push(id)) ? (id.map { "push#\($0)" } ?? "push") : nil
    }

    /// Opens an authenticated session and takes it to live.
    static func live(user: ChannelUser = user(), configure: (inout ChannelConfiguration) -> Void = { _ in }) -> SessionHarness {
        var harness = SessionHarness(user: user, configure: configure)
        harness.open()
        harness.unread(0)
        return harness
    }

    static func notification(_ id: Int64) -> [UInt8] {
        Envelope.make("grade_published", id: id) { json in json.field("title", "n\(id)") }
    }

    static func push(_ id: Int64?) -> Push {
        let json = id.map(notification) ?? Envelope.make("presence_diff") { _ in }
        return Push(frame: WebSocketFrameEncoder.frame(.text, payload: json), notificationID: id)
    }

    /// The JSON object of a `send` action.
    static func object(_ action: SessionAction) -> [String: Any]? {
        guard case .send(let bytes) = action else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// The `data` of the last message of this type sent.
    func lastData(_ type: String) -> [String: Any]? {
        for action in actions.reversed() {
            if let object = Self.object(action), object["type"] as? String == type { return object["data"] as? [String: Any] }
        }
        return nil
    }

    static func describe(_ action: SessionAction) -> String {
        switch action {
        case .send:
            let object = object(action) ?? [:]
            let type = object["type"] as? String ?? "?"
            if type == "error" { return "error:" + ((object["data"] as? [String: Any])?["code"] as? String ?? "?") }
            if let id = object["id"] as? Int { return "#\(id)" }
            return type
        case .sendPush(let push): return push.notificationID.map { "push#\($0)" } ?? "push"
        case .close(let code, _): return "close \(code.rawValue)"
        case .verifyToken(_, let first): return first ? "verify" : "verify refresh"
        case .bind(let user, _): return "bind \(user.id)"
        case .loadHistory(let after, _): return "history>\(after)"
        case .markRead(let ids): return ids.map { "markRead \($0)" } ?? "markRead all"
        case .announceRead(let outcome):
            return "announceRead \(outcome.ids) unread \(outcome.counts.unread) unseen \(outcome.counts.unseen)"
        case .changeInbox(let change): return "change \(change.state)"
        case .announceChange(let outcome, let state): return "announceChange \(state) \(outcome.ids)"
        case .checkRoom(let room): return "check \(room)"
        case .joinRoom(let room): return "join \(room)"
        case .sendPresenceState(let room): return "presence \(room)"
        case .leaveRoom(let room): return "leave \(room)"
        }
    }
}
