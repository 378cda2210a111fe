import Hub

/// What an `SMTPTransport` reports to the conversation that owns it; every call is on the loop.
protocol SMTPTransportDelegate: AnyObject {
    func transport(_ transport: SMTPTransport, received reply: SMTPReply)
    /// The TLS handshake (smtps:// or after STARTTLS) is done and verified.
    func transportSecured(_ transport: SMTPTransport)
    /// The deadline set with `setTimeout` passed.
    func transportTimedOut(_ transport: SMTPTransport)
    /// The connection failed or closed; reported once, and nothing follows.
    func transport(_ transport: SMTPTransport, failed error: TransportError)
}

/// One SMTP connection's bytes on the delivery loop: a non-blocking socket adopted by the loop,
/// plain or through a `TLSSession` over memory BIOs (from the first byte, or after STARTTLS),
/// replies parsed as they arrive. It knows nothing of the conversation; `SMTPSession` does.
final class SMTPTransport: ConnectionHandler {
    weak var delegate: SMTPTransportDelegate?
    let host: String
    private let tlsContext: Result<TLSContext, TransportError>
    private var connection: Connection?
    private var tls: TLSSession?
    private var handshaking = false
    private var parser = SMTPReplyParser()
    /// Replies parsed but not yet handed over (more than one can arrive in one read).
    private var undelivered = 0
    private var finished = false

    init(host: String, tls: Result<TLSContext, TransportError>) {
        self.host = host
        tlsContext = tls
    }

    var isSecure: Bool { tls != nil && !handshaking }

    /// Starts a non-blocking connect on `loop`; with `implicitTLS` the handshake starts at once.
    func open(to address: SocketAddress, on loop: EventLoop, implicitTLS: Bool) throws(TransportError) {
        do {
            let (socket, _) = try Socket.connect(to: address)
            do {
                try loop.adopt(socket, remote: address, outboundLimit: 8 << 20, handler: self)
            } catch {
                socket.close()
                throw error
            }
        } catch {
            throw TransportError("cannot connect to \(host): \(error)")
        }
        if implicitTLS { try startTLS() }
    }

    func setTimeout(millis: Int64) { connection?.setTimeout(millis: millis) }

    func write(_ text: String) { write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) {
        guard let connection, !finished else { return }
        guard let tls else {
            _ = connection.send(bytes)
            return
        }
        do {
            try tls.write(bytes)
            flushTLS()
        } catch {
            fail(error as? TransportError ?? TransportError("\(error)"))
        }
    }

    /// Starts TLS on the connection. Refused when the server already sent more than the reply that
    /// allowed it: those bytes would be read as if they had come through TLS (STARTTLS injection).
    func startTLS() throws(TransportError) {
        guard undelivered == 0 && !parser.hasPartialInput else {
            throw TransportError("\(host) sent bytes after its STARTTLS reply, before TLS")
        }
        do {
            tls = try TLSSession(host: host, context: tlsContext.get())
        } catch {
            throw error as? TransportError ?? TransportError("\(error)")
        }
        handshaking = true
        try advanceHandshake()
    }

    /// Says goodbye (`QUIT`, not waiting for the answer) and closes once the bytes are out.
    func quit() {
        guard !finished, let connection else { return }
        finished = true
        if !handshaking { write("QUIT\r\n") }
        connection.closeAfterFlush()
    }

    /// Closes without a word; the delegate hears nothing more.
    func abort() {
        finished = true
        connection?.close()
    }

    // MARK: ConnectionHandler

    func connectionOpened(_ connection: Connection) {
        self.connection = connection
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        guard !finished else { return }
        do throws(TransportError) {
            guard let tls else { return try deliver(bytes) }
            tls.receive(bytes)
            if handshaking {
                try advanceHandshake()
                if handshaking { return }
            }
            let plaintext: [UInt8]?
            do { plaintext = try tls.read() } catch { throw error as? TransportError ?? TransportError("\(error)") }
            flushTLS()
            guard let plaintext else { throw TransportError("\(host) closed the TLS session") }
            if !plaintext.isEmpty {
                let parsed = plaintext.withUnsafeBytes { bytes in
                    Result { () throws(TransportError) in try deliver(bytes) }
                }
                try parsed.get()
            }
        } catch {
            fail(error)
        }
    }

    func peerClosed(_ connection: Connection) {
        fail(TransportError("\(host) closed the connection"))
    }

    func deadlineReached(_ connection: Connection) {
        guard !finished else { return connection.close() }
        delegate?.transportTimedOut(self)
    }

    func connectionClosed(_ connection: Connection) {
        self.connection = nil
        fail(TransportError("connection to \(host) closed (refused or reset)"))
    }

    // MARK: Steps

    private func deliver(_ bytes: UnsafeRawBufferPointer) throws(TransportError) {
        let replies = try parser.parse(bytes)
        undelivered = replies.count
        for reply in replies {
            undelivered -= 1
            guard !finished else { return }
            delegate?.transport(self, received: reply)
        }
    }

    private func advanceHandshake() throws(TransportError) {
        guard let tls else { return }
        let progress: TLSSession.Progress
        do { progress = try tls.handshake() } catch { throw error as? TransportError ?? TransportError("\(error)") }
        flushTLS()
        guard progress == .done else { return }
        handshaking = false
        delegate?.transportSecured(self)
    }

    private func flushTLS() {
        guard let output = tls?.takeOutput(), !output.isEmpty else { return }
        _ = connection?.send(output)
    }

    private func fail(_ error: TransportError) {
        guard !finished else { return }
        finished = true
        connection?.close()
        delegate?.transport(self, failed: error)
    }
}
