import Synchronization

/// WebSockets spread over several loops that receive the same messages. A broadcast frames the
/// message once and hands the same bytes to every loop that has members; each loop queues them on
/// its own sockets, so no connection state is touched off its loop.
/// @unchecked Sendable: `slots[i]` is touched only on loop i; `loops` is guarded by a Mutex.
public final class BroadcastGroup: @unchecked Sendable {
    private final class Slot {
        var members: [ObjectIdentifier: WebSocket] = [:]
    }

    private let slots: [Slot]
    private let loops: Locked<[EventLoop?]>
    private let framesEncoded = Atomic<Int>(0)

    public init(loopCount: Int) {
        slots = (0..<loopCount).map { _ in Slot() }
        loops = Locked(Array(repeating: nil, count: loopCount))
    }

    /// How many frames broadcasts have built (one per broadcast, whatever the audience).
    public var encodeCount: Int { framesEncoded.load(ordering: .relaxed) }

    /// Loop thread of the socket only.
    public func join(_ socket: WebSocket) {
        guard let loop = socket.loop else { return }
        loops.withLock { if $0[loop.index] == nil { $0[loop.index] = loop } }
        slots[loop.index].members[ObjectIdentifier(socket)] = socket
    }

    /// Loop thread of the socket only.
    public func leave(_ socket: WebSocket, loop: EventLoop) {
        slots[loop.index].members[ObjectIdentifier(socket)] = nil
    }

    /// Members on `loop` (loop thread only).
    public func memberCount(on loop: EventLoop) -> Int { slots[loop.index].members.count }

    /// Sends `text` to every member: framed once, queued everywhere. Safe from any thread.
    public func broadcast(text: [UInt8]) {
        framesEncoded.add(1, ordering: .relaxed)
        broadcast(frame: WebSocketFrameEncoder.frame(.text, payload: text))
    }

    public func broadcast(frame: SharedBytes) {
        let targets = loops.withLock { $0.compactMap { $0 } }
        for loop in targets {
            let index = loop.index
            loop.execute { [self] in
                for socket in slots[index].members.values { socket.send(frame: frame) }
            }
        }
    }
}

/// Echoes every text and binary message back (the conformance endpoint `/ws/echo`).
public final class EchoDelegate: WebSocketDelegate {
    public init() {}

    public func webSocket(_ socket: WebSocket, didReceiveText text: [UInt8]) { socket.send(text: text) }
    public func webSocket(_ socket: WebSocket, didReceiveBinary data: [UInt8]) { socket.send(binary: data) }
}

/// Joins a broadcast group; every text message a member sends goes to all members (for benchmarks).
public final class BroadcastDelegate: WebSocketDelegate {
    let group: BroadcastGroup

    public init(group: BroadcastGroup) {
        self.group = group
    }

    public func webSocketDidOpen(_ socket: WebSocket) { group.join(socket) }
    public func webSocket(_ socket: WebSocket, didReceiveText text: [UInt8]) { group.broadcast(text: text) }
    public func webSocketDidClose(_ socket: WebSocket, code: UInt16?) {
        if let loop = socket.loop { group.leave(socket, loop: loop) }
    }
}
