import CHubSystem
import Glibc

/// An IPv4 or IPv6 socket address, resolved from numeric hosts without DNS.
public struct SocketAddress: Sendable, CustomStringConvertible {
    /// Either family's address, in the larger of the two (`sockaddr_in` is a prefix of its size):
    /// every connection keeps its peer's, and `sockaddr_storage` is 128 bytes where this is 28.
    private var storage: sockaddr_in6

    /// From what `accept`, `getsockname` or `getaddrinfo` wrote: an IPv4 or IPv6 address.
    init(storage full: sockaddr_storage) {
        storage = withUnsafeBytes(of: full) { $0.load(as: sockaddr_in6.self) }
    }

    public var family: Int32 { Int32(storage.sin6_family) }

    /// Parses a numeric IPv4/IPv6 address (or "localhost"); no DNS lookups, so it never blocks.
    public static func resolve(host: String, port: Int) throws(SystemError) -> SocketAddress {
        guard (0...65535).contains(port) else { throw SystemError(call: "port \(port)", code: EINVAL) }
        let name = host == "localhost" ? "127.0.0.1" : host
        var storage = sockaddr_storage()
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    sin.pointee.sin_family = sa_family_t(AF_INET)
                    sin.pointee.sin_port = in_port_t(UInt16(port).bigEndian)
                    sin.pointee.sin_addr = v4
                }
            }
        } else if inet_pton(AF_INET6, name, &v6) == 1 {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    sin.pointee.sin6_family = sa_family_t(AF_INET6)
                    sin.pointee.sin6_port = in_port_t(UInt16(port).bigEndian)
                    sin.pointee.sin6_addr = v6
                }
            }
        } else {
            throw SystemError(call: "address \"\(host)\" is not a numeric IPv4 or IPv6 address", code: EINVAL)
        }
        return SocketAddress(storage: storage)
    }

    public var port: Int {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            if family == AF_INET {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
        }
    }

    public var host: String {
        var copy = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafePointer(to: &copy) { pointer in
            if family == AF_INET {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
                }
            } else {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
                }
            }
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address's 4 (IPv4) or 16 (IPv6) bytes, in network order.
    public var addressBytes: [UInt8] {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            if family == AF_INET {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) }
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                withUnsafeBytes(of: sin.pointee.sin6_addr) { Array($0) }
            }
        }
    }

    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> R) throws(SystemError) -> R {
        var copy = storage
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        return try withUnsafePointer(to: &copy) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try body(sa, length)
            }
        }
    }
}
