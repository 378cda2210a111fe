import Foundation
import Hub

/// The adapter between one `/ws/notifications` WebSocket and its `SessionMachine`: it feeds the
/// machine the socket's events with the loop's time and carries out the actions it returns.
/// Asynchronous work (token checks, history, read state, room checks) runs in a `Task` made for
/// that one request and comes back to the loop through the connection handle; nothing is held
/// while the session is idle. Lives on its WebSocket's loop.
final class Session: WebSocketDelegate {
    let hub: ChannelHub
    private(set) var machine: SessionMachine
    private var socket: WebSocket?

    /// `verifiedAtGeneration`: the hub's publish generation read before the upgrade's token was
    /// checked, which makes the unread count read with the user exact if nothing was published since.
    init(hub: ChannelHub, user: ChannelUser?, pathUserID: Int64?, resumeFrom: Int64?,
         verifiedAtGeneration: UInt64? = nil)
    {
        self.hub = hub
        var known: KnownUnread?
        if let count = user?.unreadAtVerification, let verifiedAtGeneration {
            known = KnownUnread(count: count, generation: verifiedAtGeneration)
        }
        machine = SessionMachine(settings: hub.sessionSettings, user: user, pathUserID: pathUserID,
                                 resumeFrom: resumeFrom, knownUnread: known)
    }

    var id: SessionID { machine.id }
    var user: ChannelUser? { machine.user }
    var rooms: Set<String> { machine.rooms }

    // MARK: WebSocket events

    func webSocketDidOpen(_ socket: WebSocket) {
        self.socket = socket
        guard let loop = socket.loop else { return }
        hub.register(self, on: loop)
        perform(machine.opened(now: now(loop)))
    }

    func webSocket(_ socket: WebSocket, didReceiveText text: [UInt8]) {
        guard let loop = socket.loop else { return }
        perform(machine.receive(text: text, now: now(loop)))
    }

    func webSocket(_ socket: WebSocket, didReceiveBinary data: [UInt8]) {
        guard let loop = socket.loop else { return }
        perform(machine.receiveBinary(now: now(loop)))
    }

    func webSocketDidClose(_ socket: WebSocket, code: UInt16?) {
        if let loop = socket.loop { hub.unregister(self, on: loop) }
        machine.closed()
        self.socket = nil
    }

    // MARK: From the hub (on this loop)

    /// A publish reached this session: the hot path of fan-out, one call per recipient.
    func deliver(_ push: Push) {
        if machine.livePush(push) { socket?.send(frame: push.frame) }
    }

    func removedFromRoom(_ room: String) {
        guard let loop = socket?.loop else { return }
        perform(machine.removedFromRoom(room, now: now(loop)))
    }

    func closeFromServer(_ code: CloseCode) {
        perform(machine.closeFromServer(code))
    }

    /// The loop's coarse sweep. The transport's last frame (pongs included) counts as life.
    func sweep(now: SessionTime) {
        if let socket { machine.heard(at: socket.lastSeen) }
        let actions = machine.tick(now: now)
        if !actions.isEmpty { perform(actions) }
    }

    // MARK: Carrying out actions

    private func now(_ loop: EventLoop) -> SessionTime {
        SessionTime(monotonicMillis: loop.now, wallMillis: WallClock.nowMillis())
    }

    private func perform(_ actions: [SessionAction]) {
        for action in actions { perform(action) }
    }

    private func perform(_ action: SessionAction) {
        switch action {
        case .send(let json):
            socket?.send(text: json)
        case .sendPush(let push):
            socket?.send(frame: push.frame)
        case .close(let code, let reason):
            socket?.close(code: code.rawValue, reason: reason)
        case .verifyToken(let token, let first):
            let generation = hub.publishGeneration
            let then: @Sendable (Session, Result<ChannelUser, TokenRejection>, SessionTime) -> [SessionAction] = {
                session, result, now in session.machine.tokenVerified(result, first: first, generation: generation, now: now)
            }
            if let verifyNow = hub.dependencies.verifyTokenNow, let handle = socket?.handle {
                verifyNow(token) { result in Self.back(on: handle, with: result, then) }
            } else {
                let verify = hub.dependencies.verifyToken
                later({ await verify(token) }, then: then)
            }
        case .bind(let user, let known):
            bind(user, known: known)
        case .loadHistory(let after, let limit):
            guard let user = machine.user else { return }
            let history = hub.dependencies.history
            later({ () -> Result<[StoredPush], any Error> in
                do { return .success(try await history(user.id, after, limit)) } catch { return .failure(error) }
            }) { session, result, now in
                session.machine.historyLoaded(result, after: after, now: now)
            }
        case .markRead(let ids):
            guard let user = machine.user else { return }
            let mark = hub.dependencies.markRead
            later({ () -> Result<InboxOutcome, any Error> in
                do { return .success(try await mark(user.id, ids)) } catch { return .failure(error) }
            }) { session, result, now in
                session.machine.markReadFinished(result, now: now)
            }
        case .announceRead(let outcome):
            guard let user = machine.user else { return }
            hub.announceRead(userID: user.id, ids: outcome.ids, counts: outcome.counts)
        case .changeInbox(let change):
            guard let user = machine.user else { return }
            guard let apply = hub.dependencies.changeInbox else {
                _ = socket?.send(text: Envelope.error("unsupported", "This hub does not keep inbox states"))
                return
            }
            later({ () -> Result<InboxOutcome, any Error> in
                do { return .success(try await apply(user.id, change)) } catch { return .failure(error) }
            }) { session, result, now in
                session.machine.inboxChangeFinished(result, state: change.state, now: now)
            }
        case .announceChange(let outcome, let state):
            guard let user = machine.user else { return }
            hub.announceChange(userID: user.id, ids: outcome.ids, state: state, counts: outcome.counts)
        case .checkRoom(let room):
            guard let user = machine.user else { return }
            let canJoin = hub.dependencies.canJoinRoom
            later({ user.isStaff ? true : await canJoin(user, room) }) { session, allowed, now in
                session.machine.roomChecked(room, allowed: allowed, now: now)
            }
        case .joinRoom(let room):
            guard let loop = socket?.loop, let user = machine.user else { return }
            sendPresenceState(room, hub.join(self, user: user, room: room, on: loop))
        case .sendPresenceState(let room):
            sendPresenceState(room, hub.members(of: room))
        case .leaveRoom(let room):
            guard let loop = socket?.loop else { return }
            hub.leave(self, room: room, on: loop)
        }
    }

    /// Binds the user so later publishes reach this session, then learns the unread count: the
    /// one read with the token if nothing was published since (no second query), else a query.
    private func bind(_ user: ChannelUser, known: KnownUnread?) {
        guard let loop = socket?.loop else { return }
        hub.bind(self, user: user, on: loop)
        if let known, hub.publishGeneration == known.generation {
            return perform(machine.unreadCountLoaded(known.count, now: now(loop)))
        }
        let unread = hub.dependencies.unreadCount
        later({ (try? await unread(user.id)) ?? .zero }) { session, count, now in
            session.machine.unreadCountLoaded(count, now: now)
        }
    }

    private func sendPresenceState(_ room: String, _ members: [PresenceMember]) {
        socket?.send(text: Envelope.make("presence_state") { json in
            json.field("room", room)
            json.key("members")
            ChannelHub.writeMembers(members, to: &json)
        })
    }

    /// Runs `work` off the loop; back on the loop, if this session's connection is still open,
    /// hands the result to the machine through `then` and carries out what it answers.
    private func later<T: Sendable>(_ work: @escaping @Sendable () async -> T,
                                    then: @escaping @Sendable (Session, T, SessionTime) -> [SessionAction])
    {
        guard let handle = socket?.handle else { return }
        Task {
            let value = await work()
            Session.back(on: handle, with: value, then)
        }
    }

    /// From any thread: on the connection's loop, if it is still open, hands `value` to its
    /// session's machine through `then` and carries out what it answers.
    private static func back<T: Sendable>(on handle: ConnectionHandle, with value: T,
                                          _ then: @escaping @Sendable (Session, T, SessionTime) -> [SessionAction])
    {
        handle.withConnection { connection in
            guard let session = (connection.handler as? WebSocket)?.delegate as? Session else { return }
            let now = SessionTime(monotonicMillis: connection.loop.now, wallMillis: WallClock.nowMillis())
            session.perform(then(session, value, now))
        }
    }
}
