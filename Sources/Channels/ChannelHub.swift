import Dispatch
import Hub
import Synchronization

/// The sessions of one loop, by user and by room. Touched only on that loop. Unauthenticated
/// sessions are in neither index: the sweep finds every session through the loop's connections.
final class LoopRegistry {
    var byUser: [Int64: SessionGroup] = [:]
    var byRoom: [String: SessionGroup] = [:]
    var sweeping = false

    /// Calls `body` for each session of `target`, over a snapshot: a session that closes while it
    /// is handed a message (a slow consumer) changes the registry, not the iteration. No array of
    /// sessions is built (an announcement to 10,000 spent more time listing them than queueing).
    func forEachSession(of target: ChannelTarget, _ body: (Session) -> Void) {
        switch target {
        case .user(let id): byUser[id]?.forEach(body)
        case .room(let name): byRoom[name]?.forEach(body)
        case .everyone: for sessions in byUser.values { sessions.forEach(body) }
        }
    }
}

/// The registry of `/ws/notifications` sessions across loops, presence, and publishing.
/// A message is framed once per publish and the same bytes go to every recipient; only the loops
/// that have recipients get work, found through a small index of loops per user and per room.
/// @unchecked Sendable: `registries[i]` is touched only on loop i; everything else is a Mutex.
public final class ChannelHub: @unchecked Sendable {
    public let configuration: ChannelConfiguration
    /// The configuration as every session's state machine shares it (one reference each).
    let sessionSettings: SessionSettings
    public let dependencies: ChannelDependencies
    public let bus: ChannelBus
    private let registries: [LoopRegistry]
    private let loops: Locked<[EventLoop?]>
    private let userLoops = Locked<[Int64: UInt64]>([:])
    private let roomLoops = Locked<[String: UInt64]>([:])
    let presence: Locked<ClusterPresence>
    private let frames = Atomic<Int>(0)
    private let publishes = Atomic<UInt64>(0)
    private let boundSessions = Atomic<Int>(0)
    private let ticker: DispatchSourceTimer

    public init(loopCount: Int, configuration: ChannelConfiguration, dependencies: ChannelDependencies,
                bus: ChannelBus = InProcessBus())
    {
        precondition(loopCount <= 64, "at most 64 event loops")
        self.configuration = configuration
        sessionSettings = SessionSettings(configuration)
        self.dependencies = dependencies
        self.bus = bus
        registries = (0..<loopCount).map { _ in LoopRegistry() }
        loops = Locked(Array(repeating: nil, count: loopCount))
        presence = Locked(ClusterPresence(graceMillis: configuration.presenceGraceMillis))
        ticker = DispatchSource.makeTimerSource(queue: .global())
        bus.attach { [weak self] item in self?.receive(item) }
        ticker.setEventHandler { [weak self] in self?.expirePresence(now: WallClock.nowMillis()) }
        ticker.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250))
        ticker.resume()
    }

    deinit { ticker.cancel() }

    /// Frames built by publishes (one per publish, whatever the audience).
    public var frameCount: Int { frames.load(ordering: .relaxed) }

    /// Authenticated sessions open now, on every loop.
    public var sessionCount: Int { boundSessions.load(ordering: .relaxed) }

    // MARK: Publishing (any thread)

    public func publish(to target: ChannelTarget, json: [UInt8], notificationID: Int64? = nil) {
        publish([ChannelMessage(target, json: json, notificationID: notificationID)])
    }

    /// Publishes many messages in order to this node's sessions (each loop with recipients gets
    /// one task for all of them), then shares them with the other nodes.
    public func publish(_ messages: [ChannelMessage]) {
        guard !messages.isEmpty else { return }
        publishes.add(1, ordering: .sequentiallyConsistent)
        deliverLocally(messages)
        bus.share(.messages(messages))
    }

    /// Messages whose bus entry the caller wrote in its own transaction (the event statement
    /// writes one for its whole batch): this node's sessions only. Called after every commit of
    /// new notifications, even with none for this node's sessions: the publish generation moves.
    public func publishCommitted(_ messages: [ChannelMessage]) {
        publishes.add(1, ordering: .sequentiallyConsistent)
        if !messages.isEmpty { deliverLocally(messages) }
    }

    /// Does this node have a session for `target` (a bus receiver skips building the others)?
    public func hasSessions(for target: ChannelTarget) -> Bool {
        switch target {
        case .user(let id): userLoops.withLock { $0[id] != nil }
        case .room(let name): roomLoops.withLock { $0[name] != nil }
        case .everyone: boundSessions.load(ordering: .relaxed) > 0
        }
    }

    /// What another node shared, applied to this node's sessions.
    public func receive(_ item: BusItem) {
        switch item {
        case .messages(let messages):
            publishCommitted(messages)
        case .disconnect(let userID, let code):
            closeLocally(userID: userID, code: code)
        case .roomRemoved(let userID, let room):
            leaveLocally(userID: userID, room: room)
        case .presence(let node, let changes):
            announce(presence.withLock { $0.apply(node: node, changes, now: WallClock.nowMillis()) })
        case .nodeGone(let node):
            announce(presence.withLock { $0.removeNode(node, now: WallClock.nowMillis()) })
        }
    }

    /// This node's presence, all of it, shared again (after the bus lost track of it).
    public func shareAllPresence(node: String) {
        let changes = presence.withLock { $0.localState }
        if !changes.isEmpty { bus.share(.presence(node: node, changes)) }
    }

    private func announce(_ diffs: [PresenceDiff]) {
        guard !diffs.isEmpty else { return }
        publishCommitted(diffs.map { ChannelMessage(.room($0.room), json: Self.encode($0)) })
    }

    private func share(_ changes: [PresenceChange]) {
        guard !changes.isEmpty else { return }
        bus.share(.presence(node: "", changes))
        // One node: its own online/offline transitions are the cluster's (webhooks). With several
        // nodes, PostgreSQL decides them once for the cluster (PostgresBus.onTransitions).
        if bus is InProcessBus, let changed = dependencies.userPresenceChanged {
            for change in changes where change.room == nil { changed(change.member.userID, change.present) }
        }
    }

    /// Counts publishes (new notifications, read changes). A handshake reads it before verifying
    /// the token; if it is unchanged once the session is bound, nothing was published in between,
    /// so the unread count read with the user is exact and no push was missed.
    public var publishGeneration: UInt64 { publishes.load(ordering: .sequentiallyConsistent) }

    /// Tells every session of a user which notifications are now read, and the counts.
    public func announceRead(userID: Int64, ids: [Int64], counts: InboxCounts) {
        publish(to: .user(userID), json: Self.inboxMessage("notification_read", ids: ids, state: nil, counts: counts))
    }

    /// Tells every session of a user of another state change (`seen`, `archived`, `snoozed`…).
    public func announceChange(userID: Int64, ids: [Int64], state: String, counts: InboxCounts) {
        publish(to: .user(userID), json: Self.inboxMessage("notification_updated", ids: ids, state: state, counts: counts))
    }

    static func inboxMessage(_ type: String, ids: [Int64], state: String?, counts: InboxCounts) -> [UInt8] {
        Envelope.make(type) { json in
            json.key("ids")
            json.beginArray()
            for id in ids { json.int(id) }
            json.endArray()
            if let state { json.field("state", state) }
            counts.write(to: &json)
        }
    }

    func deliverLocally(_ messages: [ChannelMessage]) {
        let current = loops.withLock { $0 }
        var perLoop = [[(ChannelTarget, Push)]](repeating: [], count: current.count)
        for message in messages {
            let mask: UInt64
            switch message.target {
            case .user(let id): mask = userLoops.withLock { $0[id] ?? 0 }
            case .room(let name): mask = roomLoops.withLock { $0[name] ?? 0 }
            case .everyone: mask = .max
            }
            guard mask != 0 else { continue }
            frames.add(1, ordering: .relaxed)
            let push = Push(frame: WebSocketFrameEncoder.frame(.text, payload: message.json), notificationID: message.notificationID)
            for (index, loop) in current.enumerated() where loop != nil && mask & (1 << UInt64(index)) != 0 {
                perLoop[index].append((message.target, push))
            }
        }
        for (index, loop) in current.enumerated() {
            guard let loop, !perLoop[index].isEmpty else { continue }
            let pushes = perLoop[index]
            loop.execute { [self] in
                for (target, push) in pushes { registries[index].forEachSession(of: target) { $0.deliver(push) } }
            }
        }
    }

    /// Closes every session of a user, on every loop (after a password change, a ban, or to make
    /// clients reconnect); `code` tells the client whether to come back.
    public func disconnect(userID: Int64, code: CloseCode) {
        closeLocally(userID: userID, code: code)
        bus.share(.disconnect(userID: userID, code: code))
    }

    /// A user removed from a room's members: their sessions on every node leave it and are told
    /// with `unsubscribed` `{room, reason: "removed"}`.
    public func removeFromRoom(userID: Int64, room: String) {
        leaveLocally(userID: userID, room: room)
        bus.share(.roomRemoved(userID: userID, room: room))
    }

    private func leaveLocally(userID: Int64, room: String) {
        forEachLocalSession(of: userID) { $0.removedFromRoom(room) }
    }

    private func closeLocally(userID: Int64, code: CloseCode) {
        forEachLocalSession(of: userID) { $0.closeFromServer(code) }
    }

    /// Runs `body` on each of the user's sessions of this node, on the session's loop.
    private func forEachLocalSession(of userID: Int64, _ body: @escaping @Sendable (Session) -> Void) {
        let mask = userLoops.withLock { $0[userID] ?? 0 }
        for loop in loops.withLock({ $0 }) {
            guard let loop, mask & (1 << UInt64(loop.index)) != 0 else { continue }
            let registry = loop.index
            loop.execute { [self] in registries[registry].forEachSession(of: .user(userID), body) }
        }
    }

    // MARK: Sessions (on their loop)

    /// A session opened on `loop`: the loop is known to the hub and swept from now on.
    func register(_ session: Session, on loop: EventLoop) {
        let registry = registries[loop.index]
        guard !registry.sweeping else { return }
        loops.withLock { if $0[loop.index] == nil { $0[loop.index] = loop } }
        registry.sweeping = true
        scheduleSweep(on: loop)
    }

    func bind(_ session: Session, user: ChannelUser, on loop: EventLoop) {
        let registry = registries[loop.index]
        if registry.byUser[user.id] == nil {
            let bit = UInt64(1) << UInt64(loop.index)
            userLoops.withLock { $0[user.id, default: 0] |= bit }
        }
        if registry.byUser[user.id]?.insert(session) == nil { registry.byUser[user.id] = SessionGroup(session) }
        boundSessions.add(1, ordering: .relaxed)
        let member = PresenceMember(userID: user.id, name: user.displayName, role: user.role)
        share(presence.withLock { $0.connect(member, session: session.id, now: WallClock.nowMillis()) })
    }

    func unregister(_ session: Session, on loop: EventLoop) {
        let registry = registries[loop.index]
        guard let user = session.user else { return }
        for room in session.rooms { leave(session, room: room, on: loop) }
        guard let outcome = registry.byUser[user.id]?.remove(session), outcome.removed else { return }
        boundSessions.subtract(1, ordering: .relaxed)
        if outcome.isEmpty {
            registry.byUser[user.id] = nil
            let bit = UInt64(1) << UInt64(loop.index)
            userLoops.withLock { index in
                index[user.id, default: 0] &= ~bit
                if index[user.id] == 0 { index[user.id] = nil }
            }
        }
        presence.withLock { $0.disconnect(user.id, session: session.id, now: WallClock.nowMillis()) }
    }

    /// Adds the session to a room; returns the members now online there.
    func join(_ session: Session, user: ChannelUser, room: String, on loop: EventLoop) -> [PresenceMember] {
        let registry = registries[loop.index]
        if registry.byRoom[room] == nil {
            let bit = UInt64(1) << UInt64(loop.index)
            roomLoops.withLock { $0[room, default: 0] |= bit }
        }
        if registry.byRoom[room]?.insert(session) == nil { registry.byRoom[room] = SessionGroup(session) }
        let member = PresenceMember(userID: user.id, name: user.displayName, role: user.role)
        let (change, members) = presence.withLock { tracker in
            (tracker.join(room, member: member, session: session.id, now: WallClock.nowMillis()), tracker.members(of: room))
        }
        if let diff = change.announce { announce([diff]) }
        share(change.share)
        return members
    }

    func leave(_ session: Session, room: String, on loop: EventLoop) {
        let registry = registries[loop.index]
        if registry.byRoom[room]?.remove(session).isEmpty == true {
            registry.byRoom[room] = nil
            let bit = UInt64(1) << UInt64(loop.index)
            roomLoops.withLock { index in
                index[room, default: 0] &= ~bit
                if index[room] == 0 { index[room] = nil }
            }
        }
        if let user = session.user {
            presence.withLock { $0.leave(room, userID: user.id, session: session.id, now: WallClock.nowMillis()) }
        }
    }

    // MARK: Presence

    /// Announces leaves whose grace period is over (called by the ticker; tests pass their clock).
    public func expirePresence(now: Int64) {
        let (diffs, changes) = presence.withLock { $0.expire(now: now) }
        announce(diffs)
        share(changes)
    }

    public func members(of room: String) -> [PresenceMember] { presence.withLock { $0.members(of: room) } }
    public func isOnline(_ userID: Int64) -> Bool { presence.withLock { $0.isOnline(userID) } }
    public func lastSeen(_ userID: Int64) -> Int64? { presence.withLock { $0.lastSeen(userID) } }
    /// What the operator console shows of this node's presence.
    public func presenceSummary(limit: Int) -> (onlineUsers: Int, users: [(userID: Int64, sessions: Int)],
                                                rooms: [(room: String, members: Int)]) {
        presence.withLock { ($0.local.onlineUserCount, $0.local.busiestUsers(limit: limit), $0.local.busiestRooms(limit: limit)) }
    }

    /// Whether the user had a session on any node at any time since `sinceMillis` (wall clock; a
    /// remote session counts from when this node heard of it).
    public func wasConnected(_ userID: Int64, sinceMillis: Int64) -> Bool {
        presence.withLock { $0.isOnline(userID) || ($0.lastSeen(userID) ?? .min) >= sinceMillis }
    }

    static func encode(_ diff: PresenceDiff) -> [UInt8] {
        Envelope.make("presence_diff") { json in
            json.field("room", diff.room)
            json.key("joins")
            writeMembers(diff.joins, to: &json)
            json.key("leaves")
            writeMembers(diff.leaves, to: &json)
        }
    }

    /// Members as the channel and the REST API show them: `{user_id, name, role}`.
    public static func writeMembers(_ members: [PresenceMember], to json: inout JSONWriter) {
        json.beginArray()
        for member in members {
            json.beginObject()
            json.field("user_id", Int(member.userID))
            json.field("name", member.name)
            json.field("role", member.role)
            json.endObject()
        }
        json.endArray()
    }

    // MARK: Sweep

    /// Once a second per loop, every session's `tick`: auth deadline and token expiry (4401),
    /// heartbeat silence (4000), the end of a resume's duplicate window.
    private func scheduleSweep(on loop: EventLoop) {
        loop.schedule(afterMillis: 1000) { [weak self] in
            guard let self else { return }
            let now = SessionTime(monotonicMillis: loop.now, wallMillis: WallClock.nowMillis())
            loop.forEachConnection { connection in
                guard let session = (connection.handler as? WebSocket)?.delegate as? Session, session.hub === self else { return }
                session.sweep(now: now)
            }
            scheduleSweep(on: loop)
        }
    }
}

/// A message framed once, shared by every session it goes to.
struct Push {
    let frame: SharedBytes
    let notificationID: Int64?
}
