import Hub
import Synchronization

/// Host names to socket addresses. The lookup (getaddrinfo, behind Hub's `SocketAddress.lookup`)
/// blocks, so this runs on the caller's thread (a delivery worker), never on an event loop; answers
/// are kept for a minute so a worker does not ask the resolver before every message.
public final class HostResolver: Sendable {
    private let cache = Locked<[String: (address: SocketAddress, expires: Int64)]>([:])
    private let ttlMillis: Int64 = 60_000

    public init() {}

    public func address(host: String, port: Int) throws -> SocketAddress {
        if let numeric = try? SocketAddress.resolve(host: host, port: port) { return numeric }
        let key = "\(host):\(port)"
        let now = MonotonicClock.nowMillis()
        if let cached = cache.withLock({ $0[key] }), cached.expires > now { return cached.address }
        let address: SocketAddress
        do {
            address = try SocketAddress.lookup(host: host, port: port)
        } catch {
            throw TransportError(error.description)
        }
        cache.withLock { $0[key] = (address, now + ttlMillis) }
        return address
    }
}
