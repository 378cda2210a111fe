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

/// The seam for several hubd nodes (DESIGN: Scale-out): publishing goes through a bus, and each
/// node's hub delivers what the bus hands it to its own sessions. `InProcessBus` serves one node;
/// a PostgreSQL LISTEN/NOTIFY bus can take its place without touching sessions.
public protocol ChannelBus: Sendable {
    /// Many messages at once, in order (an event's notifications for a room of 10,000).
    func publish(_ messages: [ChannelMessage])
    /// Called once by the hub with the function that delivers to local sessions.
    func attach(_ deliver: @escaping @Sendable ([ChannelMessage]) -> Void)
}

extension ChannelBus {
    public func publish(_ target: ChannelTarget, json: [UInt8], notificationID: Int64?) {
        publish([ChannelMessage(target, json: json, notificationID: notificationID)])
    }
}

/// One node: publishing is local delivery.
public final class InProcessBus: ChannelBus {
    private let deliver = LockedBox<(@Sendable ([ChannelMessage]) -> Void)?>(nil)

    public init() {}

    public func attach(_ deliver: @escaping @Sendable ([ChannelMessage]) -> Void) {
        self.deliver.set(deliver)
    }

    public func publish(_ messages: [ChannelMessage]) {
        deliver.get()?(messages)
    }
}

/// A value behind a lock, for rarely changed shared settings.
final class LockedBox<Value: Sendable>: Sendable {
    private let value: Locked<Value>
    init(_ value: Value) { self.value = Locked(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}
