import CHubSystem
import Glibc

/// A resolver failure: the host and getaddrinfo's own words.
public struct LookupError: Error, CustomStringConvertible, Sendable {
    public let host: String
    public let reason: String

    public var description: String { "cannot resolve \(host): \(reason)" }
}

extension SocketAddress {
    /// The first address getaddrinfo gives for `host` (IPv4 or IPv6). It BLOCKS on DNS, so it is
    /// for worker threads only, never an event loop; numeric hosts should go through `resolve`.
    public static func lookup(host: String, port: Int) throws(LookupError) -> SocketAddress {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw LookupError(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        let family = first.pointee.ai_family
        guard family == AF_INET || family == AF_INET6, let source = first.pointee.ai_addr,
              Int(first.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size
        else { throw LookupError(host: host, reason: "no IPv4 or IPv6 address") }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: source, count: Int(first.pointee.ai_addrlen)))
        }
        return SocketAddress(storage: storage)
    }
}
