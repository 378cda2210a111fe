import CHubSystem
import Glibc

/// A listening socket owned by one loop. Accepts until the kernel has nothing more, refuses
/// connections past the server's limit with a prebuilt 503, and pauses for a moment when the
/// process is out of descriptors instead of spinning.
final class Listener {
    let socket: Socket
    let fd: Int32
    private let limiter: ConnectionLimiter
    private let outboundLimit: Int
    private let makeHandler: () -> ConnectionHandler
    private let onAcceptError: (SystemError) -> Void
    private var paused = false

    private static let overCapacity: SharedBytes = {
        let body = #"{"error":"Too many connections","error_code":"SERVICE_UNAVAILABLE","details":{}}"#
        return SharedBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body)
    }()

    init(socket: Socket, limiter: ConnectionLimiter, outboundLimit: Int,
         makeHandler: @escaping () -> ConnectionHandler, onAcceptError: @escaping (SystemError) -> Void)
    {
        self.socket = socket
        self.fd = socket.withUnsafeFD { $0 }
        self.limiter = limiter
        self.outboundLimit = outboundLimit
        self.makeHandler = makeHandler
        self.onAcceptError = onAcceptError
    }

    func acceptAll(on loop: EventLoop) {
        while socket.isOpen {
            let accepted: (Socket, SocketAddress)
            do {
                guard case .done(let pair) = try socket.accept() else { return }
                accepted = pair
            } catch {
                switch error.code {
                case ECONNABORTED, EPROTO, EPERM:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    onAcceptError(error)
                    pause(on: loop)
                    return
                default:
                    onAcceptError(error)
                    return
                }
            }
            let (client, remote) = accepted
            guard limiter.tryAcquire() else {
                Self.overCapacity.withUnsafeBytes { _ = try? client.write($0) }
                client.close()
                continue
            }
            do {
                try? client.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
                try loop.adopt(client, remote: remote, outboundLimit: outboundLimit, limiter: limiter,
                               handler: makeHandler())
            } catch {
                limiter.release()
                client.close()
            }
        }
    }

    /// Stops listening until the next sweep (about a second), when descriptors may be free again.
    private func pause(on loop: EventLoop) {
        guard !paused else { return }
        paused = true
        try? loop.selector.modify(fd: fd, id: RegistrationID(fd: fd, generation: 0), interest: [])
    }

    func resumeIfPaused(on loop: EventLoop) {
        guard paused, socket.isOpen else { return }
        paused = false
        try? loop.selector.modify(fd: fd, id: RegistrationID(fd: fd, generation: 0), interest: .read)
    }

    func close(selector: SelectorEpoll) {
        guard socket.isOpen else { return }
        selector.deregister(fd: fd)
        socket.close()
    }
}
