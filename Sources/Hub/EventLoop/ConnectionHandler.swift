/// What a connection's protocol (HTTP, WebSocket…) does with the events of its socket.
/// Every method runs on the connection's event loop.
public protocol ConnectionHandler: AnyObject {
    /// The connection is registered with its loop.
    func connectionOpened(_ connection: Connection)
    /// Bytes arrived; they are valid only during the call (copy what must outlive it).
    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection)
    /// The peer closed its side. The default closes the connection.
    func peerClosed(_ connection: Connection)
    /// Everything queued has reached the kernel (after back-pressure, or right away).
    func outboundDrained(_ connection: Connection)
    /// The connection's deadline passed (checked by the loop's coarse sweep, about once a second).
    func deadlineReached(_ connection: Connection)
    /// The server is stopping: finish what is in flight, say goodbye, close.
    func shutdownRequested(_ connection: Connection)
    /// The descriptor is closed; release what the handler holds. Called exactly once.
    func connectionClosed(_ connection: Connection)
}

extension ConnectionHandler {
    public func connectionOpened(_ connection: Connection) {}
    public func peerClosed(_ connection: Connection) { connection.close() }
    public func outboundDrained(_ connection: Connection) {}
    public func deadlineReached(_ connection: Connection) { connection.close() }
    public func shutdownRequested(_ connection: Connection) { connection.close() }
    public func connectionClosed(_ connection: Connection) {}
}

/// A Sendable reference to a connection: its loop and registration. Work sent through it runs on
/// the loop and finds the connection only if it is still the same one (a reused descriptor is not).
public struct ConnectionHandle: Sendable, Hashable {
    public let loop: EventLoop
    let id: RegistrationID

    public static func == (lhs: ConnectionHandle, rhs: ConnectionHandle) -> Bool {
        lhs.loop === rhs.loop && lhs.id == rhs.id
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(loop))
        hasher.combine(id)
    }

    /// Runs `body` on the connection's loop if the connection is still open.
    public func withConnection(_ body: @escaping @Sendable (Connection) -> Void) {
        let loop = self.loop, id = self.id
        loop.execute {
            if let connection = loop.connection(for: id) { body(connection) }
        }
    }
}
