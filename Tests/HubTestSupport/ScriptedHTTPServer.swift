import Foundation
import Glibc
import Synchronization

/// A plain blocking HTTP/1.1 server for client tests: one thread per connection runs `script`,
/// which reads requests and writes whatever bytes the test wants (chunked, never, half, close).
/// It counts connections and the most that were open at once.
public final class ScriptedHTTPServer: @unchecked Sendable {
    // Safe: `listener` and `port` are set in init and only read after; counters sit behind a Mutex.
    public let port: Int
    private let listener: Int32
    private final class Counts: Sendable {
        let state = Mutex<(accepted: Int, open: Int, maxOpen: Int)>((0, 0, 0))
    }

    private let counts = Counts()

    public final class Peer {
        let fd: Int32
        private var buffer: [UInt8] = []
        init(fd: Int32) { self.fd = fd }

        /// The next request's head and body (by Content-Length); nil once the client closed.
        public func readRequest() -> (head: String, body: [UInt8])? {
            while true {
                if let end = buffer.firstRange(of: [13, 10, 13, 10]) {
                    let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                    let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                        let parts = line.split(separator: ":", maxSplits: 1)
                        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                        return Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }.first ?? 0
                    while buffer.count < end.upperBound + length { guard fill() else { return nil } }
                    let body = Array(buffer[end.upperBound..<end.upperBound + length])
                    buffer.removeFirst(end.upperBound + length)
                    return (head, body)
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
                if fd < 0 { return }
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

    /// Stops accepting (connections in progress finish their script).
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }
}
