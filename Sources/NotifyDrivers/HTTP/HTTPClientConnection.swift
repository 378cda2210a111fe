import Hub

/// One request waiting for, or travelling on, a client connection.
final class PendingHTTPRequest {
    let bytes: [UInt8]
    let expectsBody: Bool
    let completion: @Sendable (Result<HTTPClientResponse, TransportError>) -> Void
    /// A request that failed on a reused connection before any byte of an answer is sent once more.
    var retried = false

    init(bytes: [UInt8], expectsBody: Bool, completion: @escaping @Sendable (Result<HTTPClientResponse, TransportError>) -> Void) {
        self.bytes = bytes
        self.expectsBody = expectsBody
        self.completion = completion
    }
}

/// One keep-alive connection of the HTTP client on its event loop, TLS or not. It carries one
/// request at a time; its pool hands it the next one or keeps it idle. Timeouts ride on the
/// connection's deadline: connect (and TLS handshake), then the response, then idle.
final class HTTPClientConnection: ConnectionHandler {
    private enum Phase { case connecting, sending, awaitingResponse, idle }

    private let pool: HTTPHostPool
    private let tls: TLSSession?
    private let timeouts: HTTPClient.Timeouts
    private var connection: Connection?
    private var handshakeDone: Bool
    private var phase = Phase.connecting
    private var current: PendingHTTPRequest?
    private var reader = HTTPResponseReader(limits: HTTPClient.responseLimits)
    private(set) var served = 0

    init(pool: HTTPHostPool, tls: TLSSession?, timeouts: HTTPClient.Timeouts) {
        self.pool = pool
        self.tls = tls
        self.timeouts = timeouts
        handshakeDone = tls == nil
    }

    /// Starts `request` on this connection (fresh, or idle in the pool).
    func start(_ request: PendingHTTPRequest) {
        current = request
        reader = HTTPResponseReader(limits: HTTPClient.responseLimits, toHEAD: !request.expectsBody)
        guard let connection else { return }
        if phase == .idle { phase = .sending }
        connection.setTimeout(millis: phase == .connecting ? timeouts.connectMillis : timeouts.responseMillis)
        if handshakeDone { write(request.bytes, on: connection) }
    }

    func close() { connection?.close() }

    // MARK: ConnectionHandler

    func connectionOpened(_ connection: Connection) {
        self.connection = connection
        connection.setTimeout(millis: timeouts.connectMillis)
        if tls != nil {
            advanceHandshake(on: connection)
        } else if let current {
            write(current.bytes, on: connection)
        }
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        do {
            guard let tls else { return try deliver(bytes, on: connection) }
            tls.receive(bytes)
            if !handshakeDone {
                advanceHandshake(on: connection)
                guard handshakeDone else { return }
            }
            guard let plaintext = try tls.read() else { return peerClosed(connection) }
            if !plaintext.isEmpty { try plaintext.withUnsafeBytes { try deliver($0, on: connection) } }
        } catch {
            fail(error as? TransportError ?? TransportError("\(error)"))
            connection.close()
        }
    }

    func outboundDrained(_ connection: Connection) {
        // Everything reached the kernel, so the TCP connect is done; with the request out, its answer is due.
        guard phase == .sending else { return }
        phase = .awaitingResponse
        connection.setTimeout(millis: timeouts.responseMillis)
    }

    func peerClosed(_ connection: Connection) {
        if current != nil {
            do {
                succeed(try reader.finish())
            } catch {
                retryOrFail(TransportError(reader.started ? "connection to \(pool.name) closed in the middle of the response"
                    : "connection to \(pool.name) closed before a response"))
            }
        }
        connection.close()
    }

    func deadlineReached(_ connection: Connection) {
        switch phase {
        case .connecting: fail(TransportError("connect to \(pool.name) timed out"))
        case .sending, .awaitingResponse: fail(TransportError("no answer from \(pool.name) in time"))
        case .idle: break
        }
        connection.close()
    }

    func connectionClosed(_ connection: Connection) {
        self.connection = nil
        retryOrFail(TransportError("connection to \(pool.name) closed before an answer (refused or reset)"))
        pool.closed(self)
    }

    // MARK: Steps

    private func advanceHandshake(on connection: Connection) {
        guard let tls else { return }
        do {
            let progress = try tls.handshake()
            flushTLS(on: connection)
            guard progress == .done else { return }
            handshakeDone = true
            if let current { write(current.bytes, on: connection) }
        } catch {
            fail(error as? TransportError ?? TransportError("\(error)"))
            connection.close()
        }
    }

    private func write(_ bytes: [UInt8], on connection: Connection) {
        phase = .sending
        if let tls {
            do {
                try tls.write(bytes)
            } catch {
                fail(error as? TransportError ?? TransportError("\(error)"))
                return connection.close()
            }
            flushTLS(on: connection)
        } else {
            connection.send(bytes)
        }
    }

    private func flushTLS(on connection: Connection) {
        let output = tls?.takeOutput() ?? []
        if !output.isEmpty { connection.send(output) }
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer, on connection: Connection) throws {
        guard current != nil else {
            // Bytes nobody asked for: the connection cannot be trusted for the next request.
            return connection.close()
        }
        let answer: HTTPClientResponse?
        do {
            answer = try reader.read(bytes)
        } catch {
            throw TransportError("response from \(pool.name) refused: \(error)")
        }
        if let response = answer {
            // Bytes beyond the answer were never asked for: the connection cannot be trusted for the next one.
            let reusable = response.keepAlive && reader.leftover.isEmpty
            succeed(response)
            if reusable {
                phase = .idle
                connection.setTimeout(millis: timeouts.idleMillis)
                pool.idle(self)
            } else {
                connection.close()
            }
        }
    }

    private func succeed(_ response: HTTPClientResponse) {
        guard let request = current else { return }
        current = nil
        served += 1
        request.completion(.success(response))
    }

    private func fail(_ error: TransportError) {
        guard let request = current else { return }
        current = nil
        request.completion(.failure(error))
    }

    /// A kept-alive connection the server closed meanwhile is not the request's fault: once more on a new one.
    private func retryOrFail(_ error: TransportError) {
        guard let request = current else { return }
        current = nil
        if served > 0 && !reader.started && !request.retried {
            request.retried = true
            pool.enqueue(request)
        } else {
            request.completion(.failure(error))
        }
    }
}
