/// The application side of a WebSocket: messages in, lifecycle events. Runs on the socket's loop.
public protocol WebSocketDelegate: AnyObject {
    func webSocketDidOpen(_ socket: WebSocket)
    func webSocket(_ socket: WebSocket, didReceiveText text: [UInt8])
    func webSocket(_ socket: WebSocket, didReceiveBinary data: [UInt8])
    /// The connection is gone; `code` is the close code sent or received, if any.
    func webSocketDidClose(_ socket: WebSocket, code: UInt16?)
    /// The server is shutting down; the default closes with 1001.
    func webSocketShutdownRequested(_ socket: WebSocket)
}

extension WebSocketDelegate {
    public func webSocketDidOpen(_ socket: WebSocket) {}
    public func webSocket(_ socket: WebSocket, didReceiveBinary data: [UInt8]) {}
    public func webSocketDidClose(_ socket: WebSocket, code: UInt16?) {}
    public func webSocketShutdownRequested(_ socket: WebSocket) { socket.close(code: 1001, reason: "server going away") }
}

/// One WebSocket connection after the upgrade: decodes frames, answers pings, runs the close
/// handshake, pings quiet clients and closes silent ones, and closes slow consumers.
public final class WebSocket: UpgradedHandler {
    public enum State { case open, closing, closed }

    /// The endpoint's options, one copy for all of its connections (64 bytes each otherwise).
    private let shared: WebSocketOptions.Shared
    public var options: WebSocketOptions { shared.options }
    public private(set) var state = State.open
    /// The negotiated subprotocol, if any.
    public let subprotocol: String?
    public var delegate: WebSocketDelegate?
    private var decoder: WebSocketFrameDecoder
    private var connection: Connection?
    /// Loop time of the last bytes from the peer (any frame, pongs included): its sign of life.
    public private(set) var lastSeen: Int64 = 0
    private var pingOutstanding = false
    private var closeCode: UInt16?

    init(options shared: WebSocketOptions.Shared, subprotocol: String?, delegate: WebSocketDelegate) {
        self.shared = shared
        self.subprotocol = subprotocol
        self.delegate = delegate
        decoder = WebSocketFrameDecoder(configuration: .init(maxMessageBytes: shared.options.maxMessageBytes))
    }

    /// A Sendable reference for other threads: sends run on the socket's loop.
    public var handle: ConnectionHandle? { connection?.handle }
    /// The socket's loop (kept after close, so delegates can clean up per-loop state).
    public private(set) var loop: EventLoop?
    public var remoteAddress: SocketAddress? { connection?.remoteAddress }
    public var outboundBytes: Int { connection?.outboundBytes ?? 0 }

    // MARK: Sending

    /// Queues a complete frame (shared, framed once for every recipient). A client over its
    /// outbound limit is closed as a slow consumer and its queued bytes are freed.
    @discardableResult
    public func send(frame: SharedBytes) -> Connection.SendResult {
        guard state == .open, let connection else { return .closed }
        let result = connection.send(frame)
        if result == .overLimit {
            closeCode = shared.options.slowConsumerCloseCode
            state = .closed
            connection.close()
        }
        return result
    }

    @discardableResult
    public func send(text: String) -> Connection.SendResult { send(frame: WebSocketFrameEncoder.text(text)) }

    @discardableResult
    public func send(text bytes: [UInt8]) -> Connection.SendResult {
        send(frame: WebSocketFrameEncoder.frame(.text, payload: bytes))
    }

    @discardableResult
    public func send(binary bytes: [UInt8]) -> Connection.SendResult {
        send(frame: WebSocketFrameEncoder.frame(.binary, payload: bytes))
    }

    /// Starts the closing handshake: sends a close frame, then closes TCP once it is written and
    /// the client has answered (or after a short linger).
    public func close(code: UInt16, reason: String = "") {
        guard state == .open, let connection else { return }
        state = .closing
        closeCode = code
        connection.send(WebSocketFrameEncoder.close(code: code, reason: reason))
        connection.closeAfterFlush(linger: true)
    }

    // MARK: Connection events

    public func upgraded(_ connection: Connection, leftover: [UInt8]) {
        self.connection = connection
        loop = connection.loop
        connection.outboundLimit = shared.options.effectiveOutboundLimit
        lastSeen = connection.loop.now
        armDeadline()
        delegate?.webSocketDidOpen(self)
        if !leftover.isEmpty, state == .open {
            leftover.withUnsafeBytes { received($0, on: connection) }
        }
    }

    public func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        guard state == .open else { return }
        lastSeen = connection.loop.now
        pingOutstanding = false
        do {
            try decoder.decode(bytes) { event in handle(event, on: connection) }
        } catch {
            fail(error)
        }
    }

    private func handle(_ event: WebSocketEvent, on connection: Connection) {
        guard state == .open else { return }
        switch event {
        case .text(let bytes):
            delegate?.webSocket(self, didReceiveText: bytes)
        case .binary(let bytes):
            delegate?.webSocket(self, didReceiveBinary: bytes)
        case .ping(let payload):
            connection.send(WebSocketFrameEncoder.frame(.pong, payload: payload))
        case .pong:
            break
        case .close(let code, let reason):
            _ = reason
            state = .closing
            closeCode = code ?? 1005
            connection.send(code.map { WebSocketFrameEncoder.close(code: $0) } ?? WebSocketFrameEncoder.frame(.close, payload: []))
            connection.closeAfterFlush(linger: true)
        }
    }

    private func fail(_ error: WebSocketError) {
        close(code: error.closeCode, reason: error.reason)
    }

    public func deadlineReached(_ connection: Connection) {
        guard state == .open else { return connection.close() }
        let now = connection.loop.now
        let silence = now - lastSeen
        if silence >= shared.options.timeoutMillis {
            close(code: shared.options.timeoutCloseCode, reason: "timeout")
            return
        }
        if shared.options.pingIntervalMillis > 0 && silence >= shared.options.pingIntervalMillis && !pingOutstanding {
            pingOutstanding = true
            connection.send(WebSocket.pingFrame)
        }
        armDeadline()
    }

    private static let pingFrame = WebSocketFrameEncoder.frame(.ping, payload: Array("hub".utf8))

    /// The next moment something may be due: a ping or the timeout. Frames only update
    /// `lastSeen`; the deadline is recomputed lazily when it fires, so it costs nothing per frame.
    private func armDeadline() {
        guard let connection else { return }
        var next = lastSeen + shared.options.timeoutMillis
        if shared.options.pingIntervalMillis > 0 && !pingOutstanding { next = min(next, lastSeen + shared.options.pingIntervalMillis) }
        connection.deadline = max(next, connection.loop.now + 1)
    }

    public func shutdownRequested(_ connection: Connection) {
        if state == .open {
            if let delegate { delegate.webSocketShutdownRequested(self) } else { close(code: 1001, reason: "server going away") }
        } else {
            connection.close()
        }
    }

    public func peerClosed(_ connection: Connection) {
        connection.close()
    }

    public func connectionClosed(_ connection: Connection) {
        state = .closed
        self.connection = nil
        let delegate = self.delegate
        self.delegate = nil
        delegate?.webSocketDidClose(self, code: closeCode)
    }
}

extension Router {
    /// A WebSocket endpoint: the handshake is checked (and refused with the right status) before
    /// `accept` runs; `accept` may refuse with an HTTP response, or return the delegate, possibly
    /// later (after an asynchronous token check) through the acceptor.
    public mutating func webSocket(_ pattern: String, options: WebSocketOptions = WebSocketOptions(),
                                   accept: @escaping @Sendable (HTTPRequest, WebSocketAcceptor) -> Void)
    {
        let shared = WebSocketOptions.Shared(options)
        get(pattern) { request, responder in
            switch WebSocketHandshake.response(to: request, subprotocols: options.subprotocols,
                                               originAllowed: options.originAllowed)
            {
            case .refuse(let refusal):
                responder.respond(refusal)
            case .accept(let switching):
                accept(request, WebSocketAcceptor(responder: responder, response: switching, options: shared))
            }
        }
    }
}

/// Completes or refuses a checked upgrade request, from any thread.
public struct WebSocketAcceptor: Sendable {
    let responder: HTTPResponder
    let response: HTTPResponse
    let options: WebSocketOptions.Shared

    /// Switches protocols; `makeDelegate` runs on the connection's loop.
    public func accept(_ makeDelegate: @escaping @Sendable () -> WebSocketDelegate) {
        let options = self.options
        let subprotocol = response.headers["Sec-WebSocket-Protocol"]
        responder.upgrade(response) { _ in
            WebSocket(options: options, subprotocol: subprotocol, delegate: makeDelegate())
        }
    }

    /// Refuses with an HTTP response (401, 403…) instead of upgrading.
    public func reject(_ response: HTTPResponse) {
        responder.respond(response)
    }
}
