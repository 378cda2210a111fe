import Foundation
import Hub

/// One `/ws/notifications` connection: authentication, heartbeat answers, rooms, resume, read
/// state. Lives on its WebSocket's loop; asynchronous work (token checks, history, read state)
/// comes back to the loop through the connection handle before touching the session.
final class Session: WebSocketDelegate {
    private enum State {
        case awaitingAuth(deadline: Int64)
        /// Authenticated; live pushes are held until `connected` (and any replay) has been sent.
        case starting(buffer: [Push])
        case resuming(buffer: [Push])
        case live
        case closed
    }

    /// 96 random bits in hex: names the session in `connected` and in presence.
    let id = String(UInt64.random(in: 0...UInt64.max), radix: 16) + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    let hub: ChannelHub
    private(set) var user: ChannelUser?
    private let pathUserID: Int64?
    private var requestedResume: Int64?
    private var state: State
    private(set) var rooms: Set<String> = []
    private var socket: WebSocket?
    /// Ids the last resume replayed from history, so that a live push of one of them racing the
    /// replay is not sent twice. Live pushes are otherwise never filtered by id: events committed
    /// concurrently may be pushed out of id order, and each one must arrive.
    private var replayed: Set<Int64> = []
    private var replayedUntil: Int64 = 0
    /// The hub's publish generation read before the token was verified (with the unread count).
    private var verifiedAtGeneration: UInt64?
    private var tokens: Double
    private var tokensUpdated: Int64 = 0
    private var strikes = 0

    init(hub: ChannelHub, user: ChannelUser?, pathUserID: Int64?, resumeFrom: Int64?, verifiedAtGeneration: UInt64? = nil) {
        self.hub = hub
        self.user = user
        self.verifiedAtGeneration = verifiedAtGeneration
        self.pathUserID = pathUserID
        requestedResume = resumeFrom
        state = user == nil ? .awaitingAuth(deadline: .max) : .starting(buffer: [])
        tokens = hub.configuration.messageBurst
    }

    private var configuration: ChannelConfiguration { hub.configuration }

    // MARK: WebSocket events

    func webSocketDidOpen(_ socket: WebSocket) {
        self.socket = socket
        guard let loop = socket.loop else { return }
        tokensUpdated = loop.now
        hub.register(self, on: loop)
        if let user {
            start(as: user)
        } else {
            state = .awaitingAuth(deadline: loop.now + configuration.authTimeoutMillis)
        }
    }

    func webSocket(_ socket: WebSocket, didReceiveText text: [UInt8]) {
        guard takeMessageToken(now: socket.loop?.now ?? 0) else { return }
        switch ClientMessage.parse(text) {
        case .failure(.invalidJSON):
            send(Envelope.error("invalid_json", "Messages must be JSON objects with a \"type\""))
        case .failure(.unknownType(let type)):
            send(Envelope.error("unknown_type", "Unknown message type \"\(type.prefix(40))\""))
        case .failure(.invalidField(let field)):
            send(Envelope.error("invalid_message", "Missing or invalid field \"\(field)\""))
        case .success(let message):
            handle(message)
        }
    }

    func webSocket(_ socket: WebSocket, didReceiveBinary data: [UInt8]) {
        send(Envelope.error("unsupported_data", "This channel speaks JSON text messages"))
    }

    func webSocketDidClose(_ socket: WebSocket, code: UInt16?) {
        state = .closed
        if let loop = socket.loop { hub.unregister(self, on: loop) }
        rooms = []
        self.socket = nil
    }

    // MARK: Messages

    private func handle(_ message: ClientMessage) {
        if case .awaitingAuth = state {
            guard case .auth(let token) = message else {
                send(Envelope.error("auth_required", "Send {\"type\":\"auth\",\"token\":…} first"))
                return
            }
            authenticate(token, first: true)
            return
        }
        guard let user else { return }
        switch message {
        case .heartbeat:
            send(Envelope.make("heartbeat_ack") { json in json.field("server_time", WallClock.iso8601()) })
        case .auth(let token):
            authenticate(token, first: false)
        case .resume(let lastID):
            if case .live = state { startResume(after: lastID) } else { requestedResume = lastID }
        case .markRead(let ids):
            markRead(user, ids)
        case .markAllRead:
            markRead(user, nil)
        case .subscribe(let room):
            subscribe(user, room)
        case .unsubscribe(let room):
            guard rooms.contains(room), let loop = socket?.loop else {
                send(Envelope.error("not_subscribed", "Not subscribed to \(room)"))
                return
            }
            rooms.remove(room)
            hub.leave(self, room: room, on: loop)
            send(Envelope.make("unsubscribed") { json in json.field("room", room) })
        }
    }

    private func authenticate(_ token: String, first: Bool) {
        let verify = hub.dependencies.verifyToken
        let generation = hub.publishGeneration
        withLater({ await verify(token) }) { session, result in
            session.finishAuthentication(result, first: first, generation: generation)
        }
    }

    private func finishAuthentication(_ result: Result<ChannelUser, TokenRejection>, first: Bool, generation: UInt64) {
        guard let socket else { return }
        switch result {
        case .failure(.unavailable):
            socket.close(code: CloseCode.internalError.rawValue, reason: "authentication unavailable; reconnect")
        case .failure:
            socket.close(code: CloseCode.unauthorized.rawValue, reason: CloseCode.unauthorized.reason)
        case .success(let verified):
            if let pathUserID, pathUserID != verified.id {
                return socket.close(code: CloseCode.forbidden.rawValue, reason: "token is for another user")
            }
            if let current = user, current.id != verified.id {
                return socket.close(code: CloseCode.forbidden.rawValue, reason: "token is for another user")
            }
            if first {
                guard case .awaitingAuth = state else { return }
                user = verified
                verifiedAtGeneration = generation
                state = .starting(buffer: [])
                start(as: verified)
            } else {
                user = verified
                send(Envelope.make("authenticated") { json in
                    json.field("user_id", Int(verified.id))
                    json.key("expires_at"); json.int(verified.tokenExpiresAt)
                })
            }
        }
    }

    /// Binds the user, sends `connected` with the unread count, then replays if asked.
    private func start(as user: ChannelUser) {
        guard let loop = socket?.loop else { return }
        hub.bind(self, user: user, on: loop)
        // Bound now, so later publishes reach this session. If none happened since before the
        // token was verified, the count read with the user is exact: no second query.
        if let count = user.unreadAtVerification, let generation = verifiedAtGeneration, hub.publishGeneration == generation {
            return sendConnected(unread: count)
        }
        let unread = hub.dependencies.unreadCount
        withLater({ (try? await unread(user.id)) ?? 0 }) { session, count in
            session.sendConnected(unread: count)
        }
    }

    private func sendConnected(unread: Int) {
        guard let user, case .starting(let buffer) = state else { return }
        send(Envelope.make("connected") { json in
            json.field("session_id", id)
            json.field("user_id", Int(user.id))
            json.field("heartbeat_interval", Int(configuration.heartbeatIntervalMillis / 1000))
            json.field("unread_count", unread)
            json.field("server_time", WallClock.iso8601())
        })
        if let lastID = requestedResume {
            requestedResume = nil
            state = .resuming(buffer: buffer)
            loadHistory(after: lastID, count: 0)
        } else {
            state = .live
            for push in buffer { deliver(push) }
        }
    }

    /// Replays stored notifications after `lastID` while holding live pushes, then merges them by
    /// id so nothing is missed and nothing is sent twice.
    private func startResume(after lastID: Int64) {
        state = .resuming(buffer: [])
        loadHistory(after: lastID, count: 0)
    }

    private func loadHistory(after lastID: Int64, count: Int) {
        guard let user else { return }
        let history = hub.dependencies.history
        let page = configuration.historyPageSize
        withLater({ () -> Result<[StoredPush], Error> in
            do { return .success(try await history(user.id, lastID, page)) } catch { return .failure(error) }
        }) { session, result in
            session.continueResume(result, after: lastID, count: count)
        }
    }

    private func continueResume(_ result: Result<[StoredPush], Error>, after lastID: Int64, count: Int) {
        guard case .resuming(let buffer) = state else { return }
        switch result {
        case .failure:
            send(Envelope.error("resume_failed", "History is unavailable; try resuming again"))
            state = .live
            for push in buffer { deliver(push) }
        case .success(let items):
            var cursor = lastID
            for item in items where item.id > cursor {
                socket?.send(text: item.json)
                cursor = item.id
                replayed.insert(item.id)
            }
            // A push that raced the replay arrives within moments; after this the set is dropped.
            replayedUntil = MonotonicClock.nowMillis() + 10_000
            if items.count == configuration.historyPageSize {
                loadHistory(after: cursor, count: count + items.count)
                return
            }
            state = .live
            var sent = count + items.count
            var finalID = max(cursor, replayed.max() ?? lastID)
            for push in buffer {
                if let id = push.notificationID, replayed.contains(id) { continue }
                deliver(push)
                if let id = push.notificationID {
                    sent += 1
                    finalID = max(finalID, id)
                }
            }
            send(Envelope.make("resumed") { json in
                json.field("count", sent)
                json.key("last_id"); json.int(finalID)
            })
        }
    }

    private func markRead(_ user: ChannelUser, _ ids: [Int64]?) {
        let mark = hub.dependencies.markRead
        let hub = self.hub
        withLater({ () -> Result<(ids: [Int64], unread: Int), Error> in
            do { return .success(try await mark(user.id, ids)) } catch { return .failure(error) }
        }) { session, result in
            switch result {
            case .failure:
                session.send(Envelope.error("mark_read_failed", "Could not save the read state; try again"))
            case .success(let outcome):
                hub.announceRead(userID: user.id, ids: outcome.ids, unreadCount: outcome.unread)
            }
        }
    }

    private func subscribe(_ user: ChannelUser, _ room: String) {
        if rooms.contains(room) {
            sendPresenceState(room, hub.members(of: room))
            return
        }
        guard rooms.count < configuration.maxRoomsPerSession else {
            send(Envelope.error("too_many_rooms", "At most \(configuration.maxRoomsPerSession) rooms per connection"))
            return
        }
        let canJoin = hub.dependencies.canJoinRoom
        withLater({ user.isStaff ? true : await canJoin(user, room) }) { session, allowed in
            session.finishSubscribe(user, room, allowed: allowed)
        }
    }

    private func finishSubscribe(_ user: ChannelUser, _ room: String, allowed: Bool) {
        guard case .live = state, let loop = socket?.loop else {
            if case .closed = state { return }
            // Still starting or resuming: subscribe once live is simpler for clients; do it now anyway.
            if let loop = socket?.loop, allowed { joinRoom(user, room, loop) }
            return
        }
        guard allowed else {
            send(Envelope.error("forbidden", "Not a member of \(room)"))
            return
        }
        joinRoom(user, room, loop)
    }

    private func joinRoom(_ user: ChannelUser, _ room: String, _ loop: EventLoop) {
        guard !rooms.contains(room) else { return }
        rooms.insert(room)
        sendPresenceState(room, hub.join(self, user: user, room: room, on: loop))
    }

    private func sendPresenceState(_ room: String, _ members: [PresenceMember]) {
        send(Envelope.make("presence_state") { json in
            json.field("room", room)
            json.key("members")
            ChannelHub.writeMembers(members, to: &json)
        })
    }

    // MARK: Delivery and limits

    /// A publish reached this session (on its loop).
    func deliver(_ push: Push) {
        switch state {
        case .starting(var buffer):
            buffer.append(push)
            state = .starting(buffer: buffer)
        case .resuming(var buffer) where push.notificationID != nil:
            buffer.append(push)
            state = .resuming(buffer: buffer)
        case .live, .resuming:
            if !replayed.isEmpty, let id = push.notificationID, replayed.remove(id) != nil { return }
            socket?.send(frame: push.frame)
        case .awaitingAuth, .closed:
            break
        }
    }

    private func send(_ json: [UInt8]) {
        socket?.send(text: json)
    }

    /// Token bucket per session; repeated abuse closes with 4429.
    private func takeMessageToken(now: Int64) -> Bool {
        let elapsed = Double(max(0, now - tokensUpdated)) / 1000
        tokensUpdated = now
        tokens = min(configuration.messageBurst, tokens + elapsed * configuration.messagesPerSecond)
        if tokens >= 1 {
            tokens -= 1
            return true
        }
        strikes += 1
        if strikes >= configuration.maxRateStrikes {
            socket?.close(code: CloseCode.rateLimited.rawValue, reason: CloseCode.rateLimited.reason)
        } else {
            send(Envelope.error("rate_limited", "Too many messages; slow down"))
        }
        return false
    }

    func closeFromServer(_ code: CloseCode) {
        socket?.close(code: code.rawValue, reason: code.reason)
    }

    /// The loop's coarse sweep: auth deadline and token expiry.
    func sweep(monotonicMillis: Int64, unixSeconds: Int64) {
        switch state {
        case .awaitingAuth(let deadline) where monotonicMillis >= deadline:
            socket?.close(code: CloseCode.unauthorized.rawValue, reason: "no auth message in time")
        case .starting, .resuming, .live:
            if !replayed.isEmpty && monotonicMillis >= replayedUntil { replayed = [] }
            if let user, user.tokenExpiresAt <= unixSeconds {
                socket?.close(code: CloseCode.unauthorized.rawValue, reason: "token expired")
            }
        default:
            break
        }
    }

    /// Runs `work` off the loop, then `then` back on the loop if this session's connection is
    /// still open.
    private func withLater<T: Sendable>(_ work: @escaping @Sendable () async -> T,
                                        then: @escaping @Sendable (Session, T) -> Void)
    {
        guard let handle = socket?.handle else { return }
        Task {
            let value = await work()
            handle.withConnection { connection in
                guard let session = (connection.handler as? WebSocket)?.delegate as? Session else { return }
                then(session, value)
            }
        }
    }
}
