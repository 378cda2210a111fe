import Foundation
import Glibc
import Hub
import Synchronization

/// A plain blocking HTTP/1.1 server for client tests: one thread per connection runs `script`,
/// which reads requests and writes whatever bytes the test wants (chunked, never, half, close).
/// It counts connections and the most that were open at once.
public final class ScriptedHTTPServer: @unchecked Sendable {
    // Safe: `listener` and `port` are set in init and only read after; counters sit behind a Mutex.
    public let port: Int
    private let listener: Int32
    private final class Counts: Sendable {
        let state = Locked<(accepted: Int, open: Int, maxOpen: Int)>((0, 0, 0))
    }

    private let counts = Counts()

    /// One accepted connection, read and written with blocking calls on the script's own thread.
    public final class Peer {
        let fd: Int32
        private var buffer: [UInt8] = []
        private var parser = HTTPParser(role: .request)
        init(fd: Int32) { self.fd = fd }

        /// The next request through the hub's own codec: its head as text (request line, then
        /// each field) and its body; nil once the client closed or sent something malformed.
        public func readRequest() -> (head: String, body: [UInt8])? {
            while true {
                let (used, step) = buffer.withUnsafeBytes { parser.parse($0) }
                buffer.removeFirst(used)
                switch step {
                case .request(let request):
                    let lines = ["\(request.method) \(request.target) \(request.version)"]
                        + request.headers.map { "\($0.name): \($0.value)" }
                    return (lines.joined(separator: "\r\n"), request.body)
                case .response, .error:
                    return nil
                case .needMore:
                    if used == 0 { guard fill() else { return nil } }
                }
            }
        }

        /// One line without its CRLF (for line protocols such as SMTP); nil once the client closed.
        public func readLine() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: 10) {
                    let line = buffer[..<newline].last == 13 ? buffer[..<(newline - 1)] : buffer[..<newline]
                    defer { buffer.removeFirst(newline + 1) }
                    return String(decoding: line, as: UTF8.self)
                }
                guard fill() else { return nil }
            }
        }

        /// Bytes up to and including `terminator` (an SMTP DATA section ends with CRLF . CRLF).
        public func read(through terminator: [UInt8]) -> [UInt8]? {
            while true {
                if let range = buffer.firstRange(of: terminator) {
                    defer { buffer.removeFirst(range.upperBound) }
                    return Array(buffer[..<range.upperBound])
                }
                guard fill() else { return nil }
            }
        }

        private func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }

        public func write(_ text: String) { write(Array(text.utf8)) }

        public func write(_ bytes: [UInt8]) {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return }
                offset += sent
            }
        }
    }

    public init(script: @escaping @Sendable (Peer) -> Void) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(listener, sa, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, sa, &length) == 0
            }
        }
        guard bound else { throw BlockingClient.ClientError.connectFailed(errno) }
        port = Int(UInt16(bigEndian: address.sin_port))
        let counts = self.counts
        Thread.detachNewThread {
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    // Closed here, not in stop(): until this thread leaves accept, the descriptor
                    // number must not go to another test's socket, whose connections it would take.
                    Glibc.close(listener)
                    return
                }
                counts.state.withLock { state in
                    state.accepted += 1
                    state.open += 1
                    state.maxOpen = max(state.maxOpen, state.open)
                }
                Thread.detachNewThread {
                    script(Peer(fd: fd))
                    counts.state.withLock { $0.open -= 1 }
                    Glibc.close(fd)
                }
            }
        }
    }

    /// Connections accepted so far, and the most open at the same time.
    public var accepted: Int { counts.state.withLock { $0.accepted } }
    public var maxOpen: Int { counts.state.withLock { $0.maxOpen } }
    /// Connections whose script has not finished (the echo script finishes when its peer closes).
    public var openConnections: Int { counts.state.withLock { $0.open } }

    /// Stops accepting (connections in progress finish their script).
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }
}
