import Hub

/// The `/ws/notifications` protocol of one connection as a value: events in (a client message, a
/// timer tick, a token checked, history loaded, a live push), actions out (send, close, verify,
/// load history, mark read, join a room). Nothing here reads a clock, owns a task or holds a
/// socket, so every rule is tested with a fake clock and no I/O (the swift-websocket
/// `WebSocketStateMachine` shape; resume follows centrifuge's recovery: hold live pushes, replay,
/// merge by id, drop only true duplicates, go live).
///
/// Deadlines (auth, heartbeat, token expiry, the end of the duplicate window) are checked by
/// `tick(now:)`, which the hub calls from its coarse per-loop sweep: no timer per session.
/// Idle memory is kept small: inline integers, a shared settings reference, and the resume state
/// created only while it is needed.
struct SessionMachine {
    enum Phase: UInt8 {
        /// Upgraded without a token: only `auth` is accepted until it is verified.
        case awaitingAuth
        /// Authenticated and bound; live pushes are held until `connected` has been sent.
        case starting
        /// Replaying history; live notification pushes are held until the replay is merged.
        case resuming
        case live
        case closed
    }

    let settings: SessionSettings
    let id: SessionID
    var phase: Phase
    private(set) var user: ChannelUser?
    private(set) var rooms: Set<String> = []
    /// The path's user id (0: none); a token for another user is refused.
    private let pathUserID: Int64
    /// `last_id` asked for before the session was live (-1: none).
    var pendingResume: Int64
    /// Until opened: the publish generation read before the upgrade's token was checked (with
    /// `user.unreadAtVerification`, see `SessionAction.bind`; .max: none). Then: the auth deadline
    /// while awaiting auth. One field, as the two are never needed at once.
    private var generationOrAuthDeadline: UInt64
    private(set) var lastHeard: Int64 = 0
    private var rate: RateBucket
    /// Held pushes and replayed ids: allocated for a resume (or a push during start) only.
    var recovery: Recovery?

    private var configuration: ChannelConfiguration { settings.configuration }

    /// Armed by `opened`; until then, never.
    private var authDeadline: Int64 {
        phase == .awaitingAuth && generationOrAuthDeadline != .max ? Int64(generationOrAuthDeadline) : .max
    }

    /// `user` is set when the token came with the upgrade; `knownUnread` with it when the verifier
    /// read the unread count (see `SessionAction.bind`).
    init(id: SessionID = .random(), settings: SessionSettings, user: ChannelUser?, pathUserID: Int64?,
         resumeFrom: Int64?, knownUnread: KnownUnread? = nil)
    {
        self.id = id
        self.settings = settings
        self.user = user
        self.pathUserID = pathUserID ?? 0
        generationOrAuthDeadline = knownUnread?.generation ?? .max
        pendingResume = resumeFrom ?? -1
        phase = user == nil ? .awaitingAuth : .starting
        rate = RateBucket(tokens: Float(settings.configuration.messageBurst))
    }

    // MARK: Lifecycle

    /// The upgrade completed: arm the auth deadline, or bind the user that came with the token.
    mutating func opened(now: SessionTime) -> [SessionAction] {
        lastHeard = now.monotonicMillis
        rate.updated = now.monotonicMillis
        guard let user else {
            generationOrAuthDeadline = UInt64(now.monotonicMillis + configuration.authTimeoutMillis)
            return []
        }
        let generation = generationOrAuthDeadline
        generationOrAuthDeadline = .max
        guard generation != .max, let count = user.unreadAtVerification else { return [.bind(user, known: nil)] }
        return [.bind(user, known: KnownUnread(count: count, generation: generation))]
    }

    /// The connection is gone (for whatever reason): nothing more is sent.
    mutating func closed() {
        phase = .closed
        recovery = nil
    }

    /// The server closes this session (a ban, a password change, shutdown).
    mutating func closeFromServer(_ code: CloseCode) -> [SessionAction] {
        close(code, code.reason)
    }

    /// Any frame from the client (pongs included, as the transport sees them) counts as life.
    mutating func heard(at monotonicMillis: Int64) {
        lastHeard = max(lastHeard, monotonicMillis)
    }

    /// The coarse sweep: auth deadline (4401), heartbeat silence (4000), token expiry (4401), and
    /// the end of the window in which a push may duplicate a replayed notification.
    mutating func tick(now: SessionTime) -> [SessionAction] {
        switch phase {
        case .awaitingAuth:
            if now.monotonicMillis >= authDeadline { return close(.unauthorized, "no auth message in time") }
        case .starting, .resuming, .live:
            if now.monotonicMillis - lastHeard >= configuration.heartbeatTimeoutMillis {
                return close(.heartbeatTimeout, CloseCode.heartbeatTimeout.reason)
            }
            if let user, user.tokenExpiresAt <= now.unixSeconds { return close(.unauthorized, "token expired") }
            if phase == .live, let recovery, now.monotonicMillis >= recovery.replayedUntil { self.recovery = nil }
        case .closed:
            break
        }
        return []
    }

    /// The next monotonic time at which `tick` may act (for tests and callers that arm timers).
    var nextDeadline: Int64 {
        switch phase {
        case .awaitingAuth: authDeadline
        case .starting, .resuming, .live: lastHeard + configuration.heartbeatTimeoutMillis
        case .closed: .max
        }
    }

    // MARK: Client messages

    /// A text message: rate-limited, parsed, then handled.
    mutating func receive(text: [UInt8], now: SessionTime) -> [SessionAction] {
        guard phase != .closed else { return [] }
        heard(at: now.monotonicMillis)
        if let refusal = takeMessageToken(now: now) { return refusal }
        switch ClientMessage.parse(text) {
        case .failure(.invalidJSON):
            return [.send(Envelope.error("invalid_json", "Messages must be JSON objects with a \"type\"", now: now))]
        case .failure(.unknownType(let type)):
            return [.send(Envelope.error("unknown_type", "Unknown message type \"\(type.prefix(40))\"", now: now))]
        case .failure(.invalidField(let field)):
            return [.send(Envelope.error("invalid_message", "Missing or invalid field \"\(field)\"", now: now))]
        case .success(let message):
            return receive(message, now: now)
        }
    }

    /// A binary message: this channel speaks JSON text only.
    mutating func receiveBinary(now: SessionTime) -> [SessionAction] {
        guard phase != .closed else { return [] }
        heard(at: now.monotonicMillis)
        return [.send(Envelope.error("unsupported_data", "This channel speaks JSON text messages", now: now))]
    }

    /// A parsed client message (rate limiting is `receive(text:now:)`'s job).
    mutating func receive(_ message: ClientMessage, now: SessionTime) -> [SessionAction] {
        switch phase {
        case .closed:
            return []
        case .awaitingAuth:
            guard case .auth(let token) = message else {
                return [.send(Envelope.error("auth_required", "Send {\"type\":\"auth\",\"token\":…} first", now: now))]
            }
            return [.verifyToken(token, first: true)]
        case .starting, .resuming, .live:
            break
        }
        switch message {
        case .heartbeat:
            return [.send(Envelope.make("heartbeat_ack", now: now.wallMillis) { json in
                json.field("server_time", WallClock.iso8601(millis: now.wallMillis))
            })]
        case .auth(let token):
            return [.verifyToken(token, first: false)]
        case .resume(let lastID):
            guard phase == .live else {
                pendingResume = lastID
                return []
            }
            return startResume(after: lastID)
        case .markRead(let ids):
            return [.markRead(ids)]
        case .markAllRead:
            return [.markRead(nil)]
        case .change(let change):
            return [.changeInbox(change)]
        case .subscribe(let room):
            if rooms.contains(room) { return [.sendPresenceState(room)] }
            guard rooms.count < configuration.maxRoomsPerSession else {
                let limit = configuration.maxRoomsPerSession
                return [.send(Envelope.error("too_many_rooms", "At most \(limit) rooms per connection", now: now))]
            }
            return [.checkRoom(room)]
        case .unsubscribe(let room):
            guard rooms.remove(room) != nil else {
                return [.send(Envelope.error("not_subscribed", "Not subscribed to \(room)", now: now))]
            }
            return [.leaveRoom(room), .send(Envelope.make("unsubscribed", now: now.wallMillis) { json in
                json.field("room", room)
            })]
        }
    }

    /// The user was removed from a room's members: the session leaves it and is told, as if it
    /// had unsubscribed (`reason: removed`).
    mutating func removedFromRoom(_ room: String, now: SessionTime) -> [SessionAction] {
        guard phase == .live || phase == .resuming, rooms.remove(room) != nil else { return [] }
        return [.leaveRoom(room), .send(Envelope.make("unsubscribed", now: now.wallMillis) { json in
            json.field("room", room)
            json.field("reason", "removed")
        })]
    }

    // MARK: Answers to actions

    /// A token checked after `verifyToken`; `generation` is the hub's publish generation read
    /// before the check (see `KnownUnread`).
    mutating func tokenVerified(_ result: Result<ChannelUser, TokenRejection>, first: Bool, generation: UInt64,
                                now: SessionTime) -> [SessionAction]
    {
        guard phase != .closed else { return [] }
        switch result {
        case .failure(.unavailable):
            return close(.internalError, "authentication unavailable; reconnect")
        case .failure:
            return close(.unauthorized, CloseCode.unauthorized.reason)
        case .success(let verified):
            if pathUserID != 0 && pathUserID != verified.id { return close(.forbidden, "token is for another user") }
            if let current = user, current.id != verified.id { return close(.forbidden, "token is for another user") }
            if first {
                guard phase == .awaitingAuth else { return [] }
                user = verified
                phase = .starting
                let known = verified.unreadAtVerification.map { KnownUnread(count: $0, generation: generation) }
                return [.bind(verified, known: known)]
            }
            user = verified
            return [.send(Envelope.make("authenticated", now: now.wallMillis) { json in
                json.field("user_id", Int(verified.id))
                json.key("expires_at"); json.int(verified.tokenExpiresAt)
            })]
        }
    }

    /// The unread count after `bind`: send `connected`, then replay if asked, else go live.
    mutating func unreadCountLoaded(_ counts: InboxCounts, now: SessionTime) -> [SessionAction] {
        guard phase == .starting, let user else { return [] }
        var actions: [SessionAction] = [.send(Envelope.make("connected", now: now.wallMillis) { json in
            json.field("session_id", id.description)
            json.field("user_id", Int(user.id))
            json.field("heartbeat_interval", Int(configuration.heartbeatIntervalMillis / 1000))
            counts.write(to: &json)
            json.field("server_time", WallClock.iso8601(millis: now.wallMillis))
        })]
        if pendingResume >= 0 {
            let lastID = pendingResume
            pendingResume = -1
            actions += startResume(after: lastID)
        } else {
            phase = .live
            releaseHeld(into: &actions)
        }
        return actions
    }

    /// The outcome of `markRead`: on success every session of the user is told.
    mutating func markReadFinished(_ result: Result<InboxOutcome, any Error>, now: SessionTime) -> [SessionAction] {
        guard phase != .closed else { return [] }
        switch result {
        case .failure:
            return [.send(Envelope.error("mark_read_failed", "Could not save the read state; try again", now: now))]
        case .success(let outcome):
            return [.announceRead(outcome)]
        }
    }

    /// The outcome of `changeInbox`: on success every session of the user is told.
    mutating func inboxChangeFinished(_ result: Result<InboxOutcome, any Error>, state: String,
                                      now: SessionTime) -> [SessionAction]
    {
        guard phase != .closed else { return [] }
        switch result {
        case .failure:
            return [.send(Envelope.error("update_failed", "Could not save the \(state) state; try again", now: now))]
        case .success(let outcome):
            return [.announceChange(outcome, state: state)]
        }
    }

    /// The answer to `checkRoom`. Before the session is live an allowed room is joined quietly.
    mutating func roomChecked(_ room: String, allowed: Bool, now: SessionTime) -> [SessionAction] {
        switch phase {
        case .closed, .awaitingAuth:
            return []
        case .live:
            guard allowed else { return [.send(Envelope.error("forbidden", "Not a member of \(room)", now: now))] }
        case .starting, .resuming:
            guard allowed else { return [] }
        }
        guard !rooms.contains(room) else { return [] }
        rooms.insert(room)
        return [.joinRoom(room)]
    }

    // MARK: Live pushes

    /// A publish reached this session. True: send its frame now. False: it is held (to be sent by
    /// a later action, in order) or dropped (before auth, after close, or a true duplicate of a
    /// replayed id). Allocates nothing on the live path: this runs once per recipient per publish.
    mutating func livePush(_ push: Push) -> Bool {
        switch phase {
        case .live:
            guard recovery != nil, let id = push.notificationID else { return true }
            return !dropIfReplayed(id)
        case .starting:
            hold(push)
            return false
        case .resuming:
            // Only notifications race the replay; presence and read changes go out at once.
            guard push.notificationID != nil else { return true }
            hold(push)
            return false
        case .awaitingAuth, .closed:
            return false
        }
    }

    // MARK: Helpers

    private mutating func close(_ code: CloseCode, _ reason: String) -> [SessionAction] {
        guard phase != .closed else { return [] }
        phase = .closed
        recovery = nil
        return [.close(code, reason: reason)]
    }

    /// Token bucket per session: nil to go on; otherwise the refusal (an error, or 4429 after
    /// `maxRateStrikes` refusals).
    private mutating func takeMessageToken(now: SessionTime) -> [SessionAction]? {
        if rate.take(now: now.monotonicMillis, perSecond: configuration.messagesPerSecond,
                     burst: configuration.messageBurst) { return nil }
        if Int(rate.strikes) >= configuration.maxRateStrikes { return close(.rateLimited, CloseCode.rateLimited.reason) }
        return [.send(Envelope.error("rate_limited", "Too many messages; slow down", now: now))]
    }
}
