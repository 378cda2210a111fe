import Synchronization

/// Where a message goes.
public enum ChannelTarget: Sendable, Hashable {
    case user(Int64)
    case room(String)
    case everyone
}

/// The seam for several hubd nodes (DESIGN: Scale-out): publishing goes through a bus, and each
/// node's hub delivers what the bus hands it to its own sessions. `InProcessBus` serves one node;
/// a PostgreSQL LISTEN/NOTIFY bus can take its place without touching sessions.
public protocol ChannelBus: Sendable {
    /// `json` is the complete message; `notificationID` marks resumable notification pushes.
    func publish(_ target: ChannelTarget, json: [UInt8], notificationID: Int64?)
    /// Called once by the hub with the function that delivers to local sessions.
    func attach(_ deliver: @escaping @Sendable (ChannelTarget, [UInt8], Int64?) -> Void)
}

/// One node: publishing is local delivery.
public final class InProcessBus: ChannelBus {
    private let deliver = LockedBox<(@Sendable (ChannelTarget, [UInt8], Int64?) -> Void)?>(nil)

    public init() {}

    public func attach(_ deliver: @escaping @Sendable (ChannelTarget, [UInt8], Int64?) -> Void) {
        self.deliver.set(deliver)
    }

    public func publish(_ target: ChannelTarget, json: [UInt8], notificationID: Int64?) {
        deliver.get()?(target, json, notificationID)
    }
}

/// A value behind a lock, for rarely changed shared settings.
final class LockedBox<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}
