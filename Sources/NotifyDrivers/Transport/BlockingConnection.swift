import CHubSystem
import COpenSSL
import Foundation
import Glibc

/// A blocking TCP connection (optionally TLS through OpenSSL) for the SMTP sessions, which run on
/// the email workers' own threads, never on an event loop — and never without a limit: the connect
/// has a timeout and every read and write has one (SO_RCVTIMEO/SO_SNDTIMEO). The HTTP drivers use
/// the non-blocking `HTTPClient` instead.
public final class BlockingConnection {
    private var fd: Int32 = -1
    private var ssl: OpaquePointer?
    private var context: OpaquePointer?
    private var buffer: [UInt8] = []
    public let host: String

    /// Resolves `host` (on this worker thread) and connects within `timeout` seconds.
    public init(host: String, port: Int, timeout: Double) throws {
        self.host = host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw TransportError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let socketFD = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard socketFD >= 0 else { continue }
            if Self.connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen, timeout: timeout, error: &lastError) {
                fd = socketFD
                break
            }
            Glibc.close(socketFD)
        }
        guard fd >= 0 else { throw TransportError("cannot connect to \(host):\(port): \(lastError)") }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - floor(timeout)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
    }

    deinit { close() }

    private static func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t, timeout: Double,
                                error: inout String) -> Bool
    {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else {
            error = String(cString: strerror(errno))
            return false
        }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&poller, 1, Int32(timeout * 1000))
        guard ready == 1 else {
            error = ready == 0 ? "connect timed out" : String(cString: strerror(errno))
            return false
        }
        var code: Int32 = 0
        var size = socklen_t(4)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size)
        if code != 0 { error = String(cString: strerror(code)) }
        return code == 0
    }

    public func close() {
        if let ssl {
            SSL_shutdown(ssl)
            SSL_free(ssl)
            self.ssl = nil
        }
        if let context {
            SSL_CTX_free(context)
            self.context = nil
        }
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    public var isTLS: Bool { ssl != nil }

    /// Starts TLS on the connection (implicit TLS, or after STARTTLS), verifying the certificate
    /// chain and the host name unless `allowSelfSigned`.
    public func startTLS(_ options: TLSOptions) throws {
        let context = try options.makeContext()
        self.context = context
        let ssl = try options.makeSSL(context, host: host)
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        guard SSL_connect(ssl) == 1 else {
            throw TransportError("TLS handshake with \(host) failed: \(TLSOptions.lastError())")
        }
        buffer = []
    }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { raw -> Int in
                if let ssl { return Int(SSL_write(ssl, raw.baseAddress, Int32(raw.count))) }
                return Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 {
                if ssl == nil && errno == EINTR { continue }
                throw TransportError("write to \(host) failed or timed out")
            }
            offset += count
        }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { raw -> Int in
            if let ssl { return Int(SSL_read(ssl, raw.baseAddress, Int32(raw.count))) }
            return recv(fd, raw.baseAddress, raw.count, 0)
        }
        guard count > 0 else { throw TransportError(count == 0 ? "\(host) closed the connection" : "read from \(host) timed out or failed") }
        buffer.append(contentsOf: chunk[0..<count])
    }

    /// One line without its CRLF (at most 64 KiB).
    public func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[0..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < 65536 else { throw TransportError("line too long from \(host)") }
            try fill()
        }
    }

    public func read(count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let out = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return out
    }

    /// Everything until the peer closes (bounded).
    public func readToEnd(limit: Int) throws -> [UInt8] {
        do {
            while buffer.count <= limit { try fill() }
        } catch {}
        let out = Array(buffer.prefix(limit))
        buffer = []
        return out
    }
}
