/// How a handler answers: from the loop or from any thread, now or later (after a database call).
/// The answer is written in order with the connection's other responses; if the connection closed
/// meanwhile, it is dropped.
public struct HTTPResponder: Sendable {
    let handle: ConnectionHandle
    let serial: UInt64

    public var loop: EventLoop { handle.loop }

    public func respond(_ response: HTTPResponse) {
        let serial = self.serial
        if handle.loop.inEventLoop, let connection = handle.loop.connection(for: handle.id) {
            (connection.handler as? HTTPServerConnection)?.complete(serial: serial, response: response, on: connection)
            return
        }
        handle.withConnection { connection in
            (connection.handler as? HTTPServerConnection)?.complete(serial: serial, response: response, on: connection)
        }
    }

    /// Answers with `response` (a 101) and hands the connection to the handler `makeHandler`
    /// builds on the loop; bytes that followed the request are passed to it.
    public func upgrade(_ response: HTTPResponse, to makeHandler: @escaping @Sendable (Connection) -> UpgradedHandler) {
        let serial = self.serial
        handle.withConnection { connection in
            (connection.handler as? HTTPServerConnection)?.upgrade(serial: serial, response: response,
                                                                     handler: makeHandler(connection), on: connection)
        }
    }
}

/// A handler that takes over a connection after an HTTP upgrade.
public protocol UpgradedHandler: ConnectionHandler {
    /// Called once on the loop, after the 101 is queued, with bytes that arrived behind the request.
    func upgraded(_ connection: Connection, leftover: [UInt8])
}
