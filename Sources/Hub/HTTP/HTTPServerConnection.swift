/// The HTTP/1.1 side of one connection: parses requests as bytes arrive, dispatches them one at a
/// time through the router, writes responses in request order (pipelining), and enforces the
/// limits and timeouts of the server's configuration.
final class HTTPServerConnection: ConnectionHandler {
    private enum Waiting { case idle, head, body, handler }

    private let server: HTTPServer
    private var parser: HTTPParser
    private var pending: [UInt8] = []
    private var serial: UInt64 = 0
    private var inFlight: InFlight?
    private var processing = false
    private var waiting = Waiting.idle
    private var shuttingDown = false

    private struct InFlight {
        let method: HTTPMethod
        let path: String
        let keepAlive: Bool
        let origin: String?
        let startedNanos: UInt64
        let forwardedClient: String?
    }

    private static let continueResponse = SharedBytes("HTTP/1.1 100 Continue\r\n\r\n")

    init(server: HTTPServer) {
        self.server = server
        parser = HTTPParser(role: .request, limits: server.configuration.limits)
    }

    func connectionOpened(_ connection: Connection) {
        waiting = .head
        connection.setTimeout(millis: server.configuration.headerTimeoutMillis)
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        if waiting == .idle {
            waiting = .head
            connection.setTimeout(millis: server.configuration.headerTimeoutMillis)
        }
        if pending.isEmpty && inFlight == nil {
            let used = process(bytes, on: connection)
            if used < bytes.count && connection.isOpen && connection.handler === self {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[used...]))
            }
        } else {
            pending.append(contentsOf: bytes)
            drainPending(on: connection)
        }
        if pending.count > server.configuration.limits.maxHeaderBytes + 64 * 1024 { connection.pauseReading() }
    }

    func outboundDrained(_ connection: Connection) {
        if inFlight == nil && !pending.isEmpty { drainPending(on: connection) }
    }

    func deadlineReached(_ connection: Connection) {
        switch waiting {
        case .idle, .handler:
            connection.close()
        case .head where pending.isEmpty && !parser.isMidMessage:
            connection.close()
        case .head, .body:
            fail(.requestTimeout, code: "REQUEST_TIMEOUT", message: "Request not received in time", on: connection)
        }
    }

    func shutdownRequested(_ connection: Connection) {
        shuttingDown = true
        if inFlight == nil { connection.close() }
    }

    func peerClosed(_ connection: Connection) {
        // A client may half-close after sending its request; answer it, then close.
        if inFlight == nil { connection.close() } else { shuttingDown = true }
    }

    // MARK: Parsing and dispatch

    private func drainPending(on connection: Connection) {
        guard !processing, !pending.isEmpty else { return }
        let buffer = pending
        pending = []
        let used = buffer.withUnsafeBytes { process($0, on: connection) }
        if used < buffer.count && connection.isOpen && connection.handler === self {
            pending = Array(buffer[used...])
        }
        if pending.count <= server.configuration.limits.maxHeaderBytes { connection.resumeReading() }
    }

    /// Parses and dispatches requests until one is in flight, the input runs out, or the queued
    /// responses are over their limit. Returns how many bytes were consumed.
    private func process(_ input: UnsafeRawBufferPointer, on connection: Connection) -> Int {
        processing = true
        defer { processing = false }
        var offset = 0
        while inFlight == nil && connection.isOpen && connection.handler === self
            && connection.outboundBytes < server.configuration.maxQueuedResponseBytes
        {
            let (used, step) = parser.parse(UnsafeRawBufferPointer(rebasing: input[offset...]))
            offset += used
            switch step {
            case .needMore:
                if parser.takeContinue() { connection.send(Self.continueResponse) }
                if parser.isInBody {
                    waiting = .body
                    connection.setTimeout(millis: server.configuration.bodyTimeoutMillis)
                }
                if used == 0 { return offset }
            case .request(let request):
                dispatch(request, on: connection)
            case .response:
                preconditionFailure("a request parser never yields a response")
            case .error(let error):
                fail(error.status, code: error.errorCode, message: error.message, on: connection)
                return input.count
            }
        }
        return offset
    }

    private func dispatch(_ request: HTTPRequest, on connection: Connection) {
        serial &+= 1
        var request = request
        request.remoteAddress = connection.remoteAddress
        request.forwardedClient = server.configuration.trustedProxies.client(
            peer: connection.remoteAddress, forwardedFor: request.headers["X-Forwarded-For"])
        let origin = request.headers["Origin"]
        inFlight = InFlight(method: request.method, path: request.path, keepAlive: request.keepAlive && !shuttingDown,
                            origin: origin, startedNanos: MonotonicClock.nowNanos(), forwardedClient: request.forwardedClient)
        waiting = .handler
        connection.deadline = .max
        let responder = HTTPResponder(handle: connection.handle, serial: serial)

        if request.method == .OPTIONS, let origin, request.headers.contains("Access-Control-Request-Method") {
            let allowed = server.router.allowedMethods(path: request.path)
            if allowed.isEmpty {
                complete(serial: serial, response: notFound(), on: connection)
            } else {
                complete(serial: serial, response: server.configuration.cors.preflight(origin: origin, request: request,
                                                                                      allowed: allowed), on: connection)
            }
            return
        }
        switch server.router.match(request.method, path: request.path) {
        case .found(let handler, let parameters):
            request.pathParameters = parameters
            handler(request, responder)
        case .methodNotAllowed(let allowed):
            let allow = allowed.map(\.description).joined(separator: ", ")
            if request.method == .OPTIONS {
                complete(serial: serial, response: HTTPResponse(status: .noContent, headers: HTTPHeaders([("Allow", allow)])),
                         on: connection)
            } else {
                complete(serial: serial, response: .error(.methodNotAllowed, code: "METHOD_NOT_ALLOWED",
                                                          message: "Method \(request.method) not allowed",
                                                          headers: HTTPHeaders([("Allow", allow)])), on: connection)
            }
        case .notFound:
            complete(serial: serial, response: notFound(), on: connection)
        }
    }

    private func notFound() -> HTTPResponse {
        .error(.notFound, code: "NOT_FOUND", message: "Not found")
    }

    // MARK: Answers

    /// Writes the answer to request `serial` (ignored if it is not the one in flight).
    func complete(serial: UInt64, response: HTTPResponse, on connection: Connection) {
        guard serial == self.serial, let current = inFlight, connection.isOpen else { return }
        inFlight = nil
        var response = response
        if let origin = current.origin, server.configuration.cors.allows(origin),
           response.headers["Access-Control-Allow-Origin"] == nil
        {
            server.configuration.cors.decorate(&response.headers, origin: origin)
        }
        let keepAlive = current.keepAlive && !shuttingDown
        connection.send(response.serialize(date: connection.loop.dateCache.current(), keepAlive: keepAlive,
                                           headOnly: current.method == .HEAD))
        log(current, status: response.status.code, connection: connection)
        if !keepAlive {
            connection.closeAfterFlush(linger: true)
            return
        }
        if pending.isEmpty {
            waiting = .idle
            connection.setTimeout(millis: server.configuration.idleTimeoutMillis)
        } else {
            waiting = .head
            connection.setTimeout(millis: server.configuration.headerTimeoutMillis)
            if !processing { drainPending(on: connection) }
        }
    }

    func upgrade(serial: UInt64, response: HTTPResponse, handler: UpgradedHandler, on connection: Connection) {
        guard serial == self.serial, let current = inFlight, connection.isOpen else { return }
        inFlight = nil
        connection.send(response.serialize(date: connection.loop.dateCache.current(), keepAlive: true, headOnly: false))
        log(current, status: response.status.code, connection: connection)
        let leftover = pending
        pending = []
        connection.deadline = .max
        connection.resumeReading()
        connection.handler = handler
        handler.upgraded(connection, leftover: leftover)
    }

    /// Answers a bad request and closes: the connection's framing can no longer be trusted.
    private func fail(_ status: HTTPStatus, code: String, message: String, on connection: Connection) {
        pending = []
        var response = HTTPResponse.error(status, code: code, message: message)
        response.headers.set("Connection", "close")
        connection.send(response.serialize(date: connection.loop.dateCache.current(), keepAlive: false, headOnly: false))
        if let accessLog = server.accessLog {
            accessLog(.init(method: .other("-"), path: "-", status: status.code, durationMicros: 0,
                            remote: connection.remoteAddress))
        }
        connection.closeAfterFlush(linger: true)
    }

    private func log(_ request: InFlight, status: Int, connection: Connection) {
        guard let accessLog = server.accessLog else { return }
        let micros = Int64((MonotonicClock.nowNanos() &- request.startedNanos) / 1000)
        accessLog(.init(method: request.method, path: request.path, status: status, durationMicros: micros,
                        remote: connection.remoteAddress, forwardedClient: request.forwardedClient))
    }
}
