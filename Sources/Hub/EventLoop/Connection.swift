import Glibc

/// One accepted (or connected) socket on one event loop: its outbound queue with back-pressure,
/// its read interest, its deadline, and its protocol handler. Touched only on its loop.
public final class Connection {
    public enum State {
        case open
        /// Write what is queued, then close (optionally lingering to read the peer's leftovers).
        case closingAfterFlush(linger: Bool)
        /// Our side is shut; reading and discarding until the peer closes or the deadline passes.
        case lingering
        case closed
    }

    public unowned let loop: EventLoop
    public let remoteAddress: SocketAddress
    public var handler: ConnectionHandler
    /// Monotonic milliseconds at which `deadlineReached` fires; `.max` for none.
    public var deadline: Int64 = .max
    /// Queued bytes above which `send` reports `.overLimit` and the handler must act.
    public var outboundLimit: Int
    public private(set) var state: State = .open

    let socket: Socket
    let id: RegistrationID
    let limiter: ConnectionLimiter?
    var activeIndex = -1
    var awaitingFlush = false
    private var outbound = OutboundQueue()
    private var interest: Interest = .read
    private var readingPaused = false

    init(socket: Socket, id: RegistrationID, remote: SocketAddress, loop: EventLoop, handler: ConnectionHandler,
         outboundLimit: Int, limiter: ConnectionLimiter?)
    {
        self.limiter = limiter
        self.socket = socket
        self.id = id
        self.remoteAddress = remote
        self.loop = loop
        self.handler = handler
        self.outboundLimit = outboundLimit
    }

    public var handle: ConnectionHandle { ConnectionHandle(loop: loop, id: id) }
    public var isOpen: Bool { if case .open = state { return true } else { return false } }
    public var outboundBytes: Int { outbound.byteCount }

    /// The outcome of queueing bytes.
    public enum SendResult { case queued, overLimit, closed }

    /// Queues bytes; they are written before the loop next sleeps, together with anything else queued.
    @discardableResult
    public func send(_ bytes: SharedBytes) -> SendResult {
        guard isOpen else { return .closed }
        outbound.append(bytes)
        if !awaitingFlush {
            awaitingFlush = true
            loop.needsFlush(self)
        }
        return outbound.byteCount > outboundLimit ? .overLimit : .queued
    }

    @discardableResult
    public func send(_ bytes: [UInt8]) -> SendResult { send(SharedBytes(bytes)) }

    /// Sets the deadline `millis` from the loop's current time.
    public func setTimeout(millis: Int64) { deadline = loop.now + millis }

    public func pauseReading() {
        guard !readingPaused else { return }
        readingPaused = true
        updateInterest()
    }

    public func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        updateInterest()
    }

    /// Closes after the queued bytes are written. With `linger`, the write side is shut first and
    /// input is drained for a moment, so the peer reads our answer instead of a reset.
    public func closeAfterFlush(linger: Bool = false) {
        guard isOpen else { return }
        state = .closingAfterFlush(linger: linger)
        if !awaitingFlush {
            awaitingFlush = true
            loop.needsFlush(self)
        }
    }

    /// Closes now, dropping whatever is queued (a slow consumer's memory is freed at once).
    public func close() {
        if case .closed = state { return }
        state = .closed
        outbound.removeAll()
        loop.remove(self)
        socket.withUnsafeFD { loop.selector.deregister(fd: $0) }
        socket.close()
        handler.connectionClosed(self)
    }

    // MARK: Loop callbacks

    func readable(into buffer: UnsafeMutableRawBufferPointer) {
        let result: IOResult<Int>
        do {
            result = try socket.read(into: buffer)
        } catch {
            close()
            return
        }
        guard case .done(let count) = result else { return }
        if count == 0 {
            if case .open = state { handler.peerClosed(self) } else { close() }
            return
        }
        switch state {
        case .open:
            handler.received(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), on: self)
        case .closingAfterFlush, .lingering:
            break
        case .closed:
            break
        }
    }

    func writable() {
        flush()
    }

    /// Writes what is queued; registers for EPOLLOUT only while bytes remain.
    func flush() {
        awaitingFlush = false
        if case .closed = state { return }
        if !outbound.isEmpty {
            do {
                _ = try outbound.flush(to: socket, budget: 256 * 1024)
            } catch {
                close()
                return
            }
        }
        updateInterest()
        guard outbound.isEmpty else { return }
        switch state {
        case .open:
            handler.outboundDrained(self)
        case .closingAfterFlush(let linger):
            if linger {
                state = .lingering
                socket.shutdownWrite()
                deadline = loop.now + 2000
                updateInterest()
            } else {
                close()
            }
        case .lingering, .closed:
            break
        }
    }

    func sweep(now: Int64) {
        guard now >= deadline else { return }
        switch state {
        case .open: handler.deadlineReached(self)
        default: close()
        }
    }

    private func updateInterest() {
        if case .closed = state { return }
        var wanted: Interest = []
        // Only an open connection may pause reading; closing ones keep draining the peer.
        if case .open = state, readingPaused {} else { wanted.insert(.read) }
        if !outbound.isEmpty { wanted.insert(.write) }
        guard wanted != interest else { return }
        interest = wanted
        do {
            try socket.withUnsafeFD { fd throws(SystemError) in
                try loop.selector.modify(fd: fd, id: id, interest: wanted)
            }
        } catch {
            close()
        }
    }
}
