import Hub
import Synchronization

/// Where a message goes.
public enum ChannelTarget: Sendable, Hashable {
    case user(Int64)
    case room(String)
    case everyone
}

/// One message for the bus: `json` is the complete message; `notificationID` marks resumable
/// notification pushes.
public struct ChannelMessage: Sendable {
    public let target: ChannelTarget
    public let json: [UInt8]
    public let notificationID: Int64?

    public init(_ target: ChannelTarget, json: [UInt8], notificationID: Int64? = nil) {
        self.target = target
        self.json = json
        self.notificationID = notificationID
    }
}

/// A change of one node's presence, as the other nodes merge it: a user came online on that node
/// or went offline there (`room` nil), or joined or left a room there. Leaves are shared after
/// the origin's grace period, so a receiver applies them at once.
public struct PresenceChange: Sendable, Equatable, Hashable {
    public let room: String?
    public let member: PresenceMember
    public let present: Bool

    public init(room: String?, member: PresenceMember, present: Bool) {
        self.room = room
        self.member = member
        self.present = present
    }
}

/// What crosses nodes: everything a node did for its own sessions that the sessions of other
/// nodes must see too.
public enum BusItem: Sendable {
    /// Pushes to users, rooms, everyone (read changes, presence diffs of a room are not: each
    /// node computes its own from `presence`).
    case messages([ChannelMessage])
    /// Close every session of a user (admin disconnect).
    case disconnect(userID: Int64, code: CloseCode)
    /// A user was removed from a room: their sessions leave it.
    case roomRemoved(userID: Int64, room: String)
    /// A node's presence changes (`node` is the origin).
    case presence(node: String, [PresenceChange])
    /// A node stopped (SIGTERM) or its lease ended: its presence is gone.
    case nodeGone(String)
}

/// The seam for several hubd nodes (DESIGN: Scale-out). The hub does everything for its own
/// sessions first, then `share`s it; the bus hands what other nodes shared to `attach`'s closure.
/// `InProcessBus` is one node (nothing to share); `PostgresBus` (RESTBridge) is the cluster.
public protocol ChannelBus: Sendable {
    /// Sends to the other nodes; never blocks (a bus queues and writes on a thread of its own).
    func share(_ item: BusItem)
    /// Called once by the hub with the function that applies what other nodes shared.
    func attach(_ receive: @escaping @Sendable (BusItem) -> Void)
}

/// One node: there is nobody to share with.
public final class InProcessBus: ChannelBus {
    public init() {}
    public func share(_ item: BusItem) {}
    public func attach(_ receive: @escaping @Sendable (BusItem) -> Void) {}
}

/// A value behind a lock, for rarely changed shared settings.
public final class LockedBox<Value: Sendable>: Sendable {
    private let value: Locked<Value>
    public init(_ value: Value) { self.value = Locked(value) }
    public func get() -> Value { value.withLock { $0 } }
    public func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}
