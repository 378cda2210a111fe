import CHubSystem
import Glibc

/// A non-blocking socket that owns its descriptor, closes it exactly once, and checks in `deinit`
/// that nobody forgot to. The raw descriptor is visible only inside `withUnsafeFD`.
public final class Socket {
    private var fd: Int32

    init(adopting fd: Int32) {
        self.fd = fd
    }

    deinit {
        assert(fd < 0, "Socket \(fd) leaked: close() it before dropping it")
        if fd >= 0 { Glibc.close(fd) }
    }

    public var isOpen: Bool { fd >= 0 }

    /// The descriptor for calls this file does not wrap (epoll registration); never stored elsewhere.
    func withUnsafeFD<R, E: Error>(_ body: (Int32) throws(E) -> R) throws(E) -> R {
        precondition(fd >= 0, "use of a closed socket")
        return try body(fd)
    }

    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    // MARK: Listening

    /// A listener on host:port with SO_REUSEPORT so every event loop can own one on the same port.
    public static func listen(host: String, port: Int, backlog: Int32 = 4096) throws(SystemError) -> Socket {
        let address = try SocketAddress.resolve(host: host, port: port)
        let fd = try sysCallValue("socket") {
            Glibc.socket(Int32(address.family), Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        let socket = Socket(adopting: fd)
        do throws(SystemError) {
            try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
            try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1)
            _ = try address.withSockAddr { pointer, length throws(SystemError) in
                try sysCallValue("bind") { bind(fd, pointer, length) }
            }
            _ = try sysCallValue("listen") { Glibc.listen(fd, backlog) }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// The port the kernel gave us (for port 0).
    public func localPort() throws(SystemError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try sysCallValue("getsockname") { getsockname(fd, sa, &length) }
            }
        }
        return SocketAddress(storage: storage).port
    }

    /// Accepts one pending connection, non-blocking, with its peer address.
    public func accept() throws(SystemError) -> IOResult<(Socket, SocketAddress)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try sysCall("accept4") { hub_accept4(fd, sa, &length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)) }
            }
        }
        switch result {
        case .done(let newFD): return .done((Socket(adopting: newFD), SocketAddress(storage: storage)))
        case .wouldBlock: return .wouldBlock
        }
    }

    // MARK: Connecting (clients: tests, loadtest, drivers)

    /// Starts a non-blocking connect; `.wouldBlock` means "in progress, wait for writable".
    public static func connect(to address: SocketAddress, from source: SocketAddress? = nil) throws(SystemError)
        -> (Socket, inProgress: Bool)
    {
        let fd = try sysCallValue("socket") {
            Glibc.socket(Int32(address.family), Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        let socket = Socket(adopting: fd)
        do throws(SystemError) {
            try socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            if let source {
                try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
                // The port is chosen at connect, by the whole 4-tuple: bind's own search for a free
                // port scans every bound socket and dominated the client's time under churn.
                if source.port == 0 { try socket.setOption(Int32(IPPROTO_IP), IP_BIND_ADDRESS_NO_PORT, 1) }
                _ = try source.withSockAddr { pointer, length throws(SystemError) in
                    try sysCallValue("bind") { bind(fd, pointer, length) }
                }
            }
            let started = try address.withSockAddr { pointer, length throws(SystemError) in
                while true {
                    if Glibc.connect(fd, pointer, length) == 0 { return true }
                    let code = errno
                    if code == EINTR { continue }
                    if code == EINPROGRESS { return false }
                    throw SystemError(call: "connect", code: code)
                }
            }
            return (socket, !started)
        } catch {
            socket.close()
            throw error
        }
    }

    /// The result of a non-blocking connect once the socket became writable.
    public func pendingError() -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(4)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }

    // MARK: I/O

    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws(SystemError) {
        var value = value
        _ = try sysCallValue("setsockopt") { setsockopt(fd, level, name, &value, socklen_t(4)) }
    }

    /// Reads into `buffer`; `.done(0)` is end of stream.
    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try sysCall("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try sysCall("write") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    @inline(__always)
    func writev(_ vectors: UnsafePointer<iovec>, count: Int) throws(SystemError) -> IOResult<Int> {
        try sysCall("writev") { Glibc.writev(fd, vectors, Int32(count)) }
    }

    /// Half-close: the peer reads end of stream after our last byte, while we can still read.
    public func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}
