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
        guard let first = try lookupAll(host: host, port: port).first else {
            throw LookupError(host: host, reason: "no IPv4 or IPv6 address")
        }
        return first
    }

    /// Every address getaddrinfo gives for `host`, in its order (getaddrinfo also reads the old
    /// numeric forms `2130706433` and `0177.0.0.1`). BLOCKS on DNS, like `lookup`.
    public static func lookupAll(host: String, port: Int) throws(LookupError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, result != nil else {
            throw LookupError(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var next = result
        while let entry = next {
            next = entry.pointee.ai_next
            let family = entry.pointee.ai_family
            guard family == AF_INET || family == AF_INET6, let source = entry.pointee.ai_addr,
                  Int(entry.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size
            else { continue }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: source, count: Int(entry.pointee.ai_addrlen)))
            }
            addresses.append(SocketAddress(storage: storage))
        }
        guard !addresses.isEmpty else { throw LookupError(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }
}
