/// A user as other room members see them.
public struct PresenceMember: Sendable, Equatable, Hashable {
    public let userID: Int64
    public let name: String
    public let role: String

    public init(userID: Int64, name: String, role: String) {
        self.userID = userID
        self.name = name
        self.role = role
    }
}

/// A change of a room's online members.
public struct PresenceDiff: Sendable, Equatable {
    public let room: String
    public var joins: [PresenceMember]
    public var leaves: [PresenceMember]
}

/// Who is online, in which rooms, counted by sessions: a user is online while any session is. A
/// leave is announced only after a grace period without any session, so a page reload (close,
/// then reconnect within the grace) shows no leave and no join. Pure state with the time passed
/// in, so tests drive it with a fake clock.
public struct PresenceTracker: Sendable {
    private struct RoomState: Sendable {
        var sessions: [Int64: SmallSet<SessionID>] = [:]
        var members: [Int64: PresenceMember] = [:]
        var pendingLeaves: [Int64: Int64] = [:]
    }

    /// A user's open sessions and latest connect or disconnect, in one entry per user (a user
    /// who went offline keeps the entry for `lastSeen`).
    private struct UserState: Sendable {
        var lastSeen: Int64
        var sessions = SmallSet<SessionID>()
    }

    public let graceMillis: Int64
    private var rooms: [String: RoomState] = [:]
    private var users: [Int64: UserState] = [:]
    private var pendingOffline: [Int64: Int64] = [:]

    public init(graceMillis: Int64) {
        self.graceMillis = graceMillis
    }

    /// Returns true when the user came online (no session before and no offline pending).
    @discardableResult
    public mutating func connect(_ userID: Int64, session: SessionID, now: Int64) -> Bool {
        let cameOnline = !isOnline(userID)
        users[userID, default: UserState(lastSeen: now)].sessions.insert(session)
        users[userID]?.lastSeen = now
        pendingOffline[userID] = nil
        return cameOnline
    }

    public mutating func disconnect(_ userID: Int64, session: SessionID, now: Int64) {
        users[userID, default: UserState(lastSeen: now)].sessions.remove(session)
        users[userID]?.lastSeen = now
        if users[userID]?.sessions.isEmpty ?? true {
            pendingOffline[userID] = now + graceMillis
        }
    }

    /// Adds a session to a room; a diff when the user was not there (nor about to leave).
    public mutating func join(_ room: String, member: PresenceMember, session: SessionID, now: Int64) -> PresenceDiff? {
        var state = rooms[room] ?? RoomState()
        defer { rooms[room] = state }
        let wasPresent = !(state.sessions[member.userID]?.isEmpty ?? true) || state.pendingLeaves[member.userID] != nil
        state.sessions[member.userID, default: SmallSet()].insert(session)
        state.members[member.userID] = member
        state.pendingLeaves[member.userID] = nil
        return wasPresent ? nil : PresenceDiff(room: room, joins: [member], leaves: [])
    }

    /// Removes a session from a room; the leave becomes a diff in `expire` after the grace period.
    public mutating func leave(_ room: String, userID: Int64, session: SessionID, now: Int64) {
        guard var state = rooms[room] else { return }
        state.sessions[userID]?.remove(session)
        if state.sessions[userID]?.isEmpty ?? false {
            state.sessions[userID] = nil
            state.pendingLeaves[userID] = now + graceMillis
        }
        rooms[room] = state
    }

    /// Leaves whose grace period is over, as diffs per room.
    public mutating func expire(now: Int64) -> [PresenceDiff] { expireAll(now: now).diffs }

    /// Room leaves whose grace period is over, and the users whose last session's grace is over.
    public mutating func expireAll(now: Int64) -> (diffs: [PresenceDiff], offline: [Int64]) {
        var diffs: [PresenceDiff] = []
        for (room, var state) in rooms where !state.pendingLeaves.isEmpty {
            var leaves: [PresenceMember] = []
            for (userID, deadline) in state.pendingLeaves where deadline <= now {
                state.pendingLeaves[userID] = nil
                if let member = state.members.removeValue(forKey: userID) { leaves.append(member) }
            }
            if state.sessions.isEmpty && state.pendingLeaves.isEmpty {
                rooms[room] = nil
            } else {
                rooms[room] = state
            }
            if !leaves.isEmpty {
                diffs.append(PresenceDiff(room: room, joins: [], leaves: leaves.sorted { $0.userID < $1.userID }))
            }
        }
        var offline: [Int64] = []
        for (userID, deadline) in pendingOffline where deadline <= now {
            pendingOffline[userID] = nil
            offline.append(userID)
        }
        return (diffs.sorted { $0.room < $1.room }, offline.sorted())
    }

    /// Online members of a room (those within their grace period included), by user id.
    public func members(of room: String) -> [PresenceMember] {
        guard let state = rooms[room] else { return [] }
        return state.members.values.sorted { $0.userID < $1.userID }
    }

    /// Is the user among a room's online members (within the grace period included)?
    public func isMember(_ userID: Int64, of room: String) -> Bool { rooms[room]?.members[userID] != nil }

    public func isOnline(_ userID: Int64) -> Bool {
        users[userID]?.sessions.isEmpty == false || pendingOffline[userID] != nil
    }

    public func sessionCount(_ userID: Int64) -> Int { users[userID]?.sessions.count ?? 0 }

    /// Users online now (grace included) and rooms with their members: this node's whole state.
    public var onlineUsers: [Int64] { users.keys.filter { isOnline($0) }.sorted() }
    public var roomNames: [String] { rooms.keys.sorted() }

    /// Milliseconds (the clock passed in) of the user's latest connect or disconnect.
    public func lastSeen(_ userID: Int64) -> Int64? { users[userID]?.lastSeen }

    /// The users with the most open sessions, most first (the operator console).
    public func busiestUsers(limit: Int) -> [(userID: Int64, sessions: Int)] {
        users.compactMap { id, state in state.sessions.isEmpty ? nil : (id, state.sessions.count) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(limit).map { ($0.0, $0.1) }
    }

    /// How many users have a session now.
    public var onlineUserCount: Int { users.values.reduce(0) { $0 + ($1.sessions.isEmpty ? 0 : 1) } }

    /// The rooms with the most online members, most first.
    public func busiestRooms(limit: Int) -> [(room: String, members: Int)] {
        rooms.map { ($0.key, $0.value.members.count) }.filter { $0.1 > 0 }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(limit).map { ($0.0, $0.1) }
    }
}
