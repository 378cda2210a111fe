import CHubSystem
import Foundation
import Glibc
import Hub
import Synchronization

/// Host names to socket addresses. getaddrinfo blocks, so this runs on the caller's thread (a
/// delivery worker), never on an event loop; answers are kept for a minute so a worker does not
/// ask the resolver before every message.
public final class HostResolver: Sendable {
    private let cache = Mutex<[String: (address: SocketAddress, expires: Int64)]>([:])
    private let ttlMillis: Int64 = 60_000

    public init() {}

    public func address(host: String, port: Int) throws -> SocketAddress {
        if let numeric = try? SocketAddress.resolve(host: host, port: port) { return numeric }
        let key = "\(host):\(port)"
        let now = MonotonicClock.nowMillis()
        if let cached = cache.withLock({ $0[key] }), cached.expires > now { return cached.address }
        let address = try Self.lookup(host: host, port: port)
        cache.withLock { $0[key] = (address, now + ttlMillis) }
        return address
    }

    /// The first address getaddrinfo gives (IPv4 or IPv6), as numeric text the Hub parses.
    private static func lookup(host: String, port: Int) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw TransportError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = first.pointee.ai_family
        first.pointee.ai_addr.withMemoryRebound(to: UInt8.self, capacity: 1) { raw in
            if family == AF_INET {
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { var a = $0.pointee.sin_addr; _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) }
            } else {
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { var a = $0.pointee.sin6_addr; _ = inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) }
            }
        }
        let numeric = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            return try SocketAddress.resolve(host: numeric, port: port)
        } catch {
            throw TransportError("cannot resolve \(host): \(error)")
        }
    }
}
