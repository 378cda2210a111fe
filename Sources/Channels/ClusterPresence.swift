/// Presence across nodes: this node's sessions (a `PresenceTracker`, with its grace periods) merged
/// with what the other nodes shared (`PresenceChange`s, already past their own grace). Every call
/// answers what to `announce` to this node's sessions (diffs of the merged view: a user present on
/// another node neither joins nor leaves here) and what to `share` with the other nodes (this
/// node's own changes). Pure state with the time passed in, tested with a fake clock.
public struct ClusterPresence: Sendable {
    private struct RemoteNode: Sendable {
        var users: [Int64: PresenceMember] = [:]
        var rooms: [String: [Int64: PresenceMember]] = [:]
    }

    public private(set) var local: PresenceTracker
    private var remote: [String: RemoteNode] = [:]
    /// When a user was last reported by another node (their clock is not ours: our time of receipt).
    private var remoteSeen: [Int64: Int64] = [:]

    public init(graceMillis: Int64) {
        local = PresenceTracker(graceMillis: graceMillis)
    }

    // MARK: This node's sessions

    public mutating func connect(_ member: PresenceMember, session: SessionID, now: Int64) -> [PresenceChange] {
        return local.connect(member.userID, session: session, now: now) ? [PresenceChange(room: nil, member: member, present: true)] : []
    }

    public mutating func disconnect(_ userID: Int64, session: SessionID, now: Int64) {
        local.disconnect(userID, session: session, now: now)
    }

    public mutating func join(_ room: String, member: PresenceMember, session: SessionID,
                              now: Int64) -> (announce: PresenceDiff?, share: [PresenceChange])
    {
        let elsewhere = isPresentRemotely(member.userID, in: room)
        guard let diff = local.join(room, member: member, session: session, now: now) else { return (nil, []) }
        return (elsewhere ? nil : diff, [PresenceChange(room: room, member: member, present: true)])
    }

    public mutating func leave(_ room: String, userID: Int64, session: SessionID, now: Int64) {
        local.leave(room, userID: userID, session: session, now: now)
    }

    /// Local leaves and offlines whose grace is over: shared all, announced unless another node
    /// still has the user.
    public mutating func expire(now: Int64) -> (announce: [PresenceDiff], share: [PresenceChange]) {
        let (diffs, offline) = local.expireAll(now: now)
        var announce: [PresenceDiff] = []
        var share: [PresenceChange] = []
        for diff in diffs {
            share += diff.leaves.map { PresenceChange(room: diff.room, member: $0, present: false) }
            let leaves = diff.leaves.filter { !isPresentRemotely($0.userID, in: diff.room) }
            if !leaves.isEmpty { announce.append(PresenceDiff(room: diff.room, joins: [], leaves: leaves)) }
        }
        // A user's own online state needs only the id (no name kept per idle session for it).
        for userID in offline where !local.isOnline(userID) {
            share.append(PresenceChange(room: nil, member: PresenceMember(userID: userID, name: "", role: ""), present: false))
        }
        return (announce, share)
    }

    /// Everything this node has, as changes: for a node that must say it all again (its lease
    /// had ended while it was alive, or the bus lost entries).
    public var localState: [PresenceChange] {
        var changes: [PresenceChange] = []
        for userID in local.onlineUsers {
            changes.append(PresenceChange(room: nil, member: PresenceMember(userID: userID, name: "", role: ""), present: true))
        }
        for room in local.roomNames {
            for member in local.members(of: room) { changes.append(PresenceChange(room: room, member: member, present: true)) }
        }
        return changes
    }

    // MARK: Other nodes

    /// Applies another node's changes; answers the diffs of the merged view, per room in order.
    public mutating func apply(node: String, _ changes: [PresenceChange], now: Int64) -> [PresenceDiff] {
        var diffs: [PresenceDiff] = []
        var state = remote[node] ?? RemoteNode()
        defer { remote[node] = state }
        for change in changes {
            let userID = change.member.userID
            remoteSeen[userID] = now
            guard let room = change.room else {
                state.users[userID] = change.present ? change.member : nil
                continue
            }
            remote[node] = state
            let before = isPresent(userID, in: room)
            state.rooms[room, default: [:]][userID] = change.present ? change.member : nil
            if state.rooms[room]?.isEmpty == true { state.rooms[room] = nil }
            remote[node] = state
            guard before != isPresent(userID, in: room) else { continue }
            Self.add(change, to: &diffs, room: room)
        }
        return diffs
    }

    /// A node stopped or its lease ended: its users leave wherever no other node has them.
    public mutating func removeNode(_ node: String, now: Int64) -> [PresenceDiff] {
        guard let state = remote[node] else { return [] }
        var changes: [PresenceChange] = []
        for userID in state.users.keys.sorted() {
            changes.append(PresenceChange(room: nil, member: state.users[userID]!, present: false))
        }
        for room in state.rooms.keys.sorted() {
            for (_, member) in state.rooms[room]!.sorted(by: { $0.key < $1.key }) {
                changes.append(PresenceChange(room: room, member: member, present: false))
            }
        }
        let diffs = apply(node: node, changes, now: now)
        remote[node] = nil
        return diffs
    }

    public var remoteNodes: [String] { remote.keys.sorted() }

    // MARK: The merged view

    public func members(of room: String) -> [PresenceMember] {
        var all: [Int64: PresenceMember] = [:]
        for node in remote.values { for (id, member) in node.rooms[room] ?? [:] { all[id] = member } }
        for member in local.members(of: room) { all[member.userID] = member }
        return all.values.sorted { $0.userID < $1.userID }
    }

    public func isOnline(_ userID: Int64) -> Bool {
        local.isOnline(userID) || remote.values.contains { $0.users[userID] != nil }
    }

    public func lastSeen(_ userID: Int64) -> Int64? {
        switch (local.lastSeen(userID), remoteSeen[userID]) {
        case (let mine?, let theirs?): max(mine, theirs)
        case (let mine, let theirs): mine ?? theirs
        }
    }

    private func isPresent(_ userID: Int64, in room: String) -> Bool {
        local.isMember(userID, of: room) || isPresentRemotely(userID, in: room)
    }

    private func isPresentRemotely(_ userID: Int64, in room: String) -> Bool {
        remote.values.contains { $0.rooms[room]?[userID] != nil }
    }

    private static func add(_ change: PresenceChange, to diffs: inout [PresenceDiff], room: String) {
        let index: Int
        if let found = diffs.firstIndex(where: { $0.room == room }) {
            index = found
        } else {
            diffs.append(PresenceDiff(room: room, joins: [], leaves: []))
            index = diffs.count - 1
        }
        if change.present { diffs[index].joins.append(change.member) } else { diffs[index].leaves.append(change.member) }
    }
}
