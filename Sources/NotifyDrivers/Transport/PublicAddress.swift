import Hub

/// Which addresses the hub may be made to connect to for a URL an API caller gave (webhooks):
/// public unicast only. Loopback, private, shared (CGNAT), link-local, multicast, unspecified,
/// reserved and documentation ranges are refused, in IPv4 and IPv6, and an IPv6 address that
/// embeds an IPv4 one (`::ffff:127.0.0.1`, NAT64, IPv4-compatible) is judged by the IPv4 inside.
public enum PublicAddress {
    /// Why `address` is not public, or nil when it is.
    public static func refusal(_ address: SocketAddress) -> String? {
        refusal(bytes: address.addressBytes)
    }

    /// The same for raw bytes (4 or 16, network order).
    public static func refusal(bytes: [UInt8]) -> String? {
        if bytes.count == 4 { return refusalV4(bytes) }
        guard bytes.count == 16 else { return "not an IPv4 or IPv6 address" }
        let prefix96 = Array(bytes[0..<12])
        if prefix96 == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] || prefix96 == [0, 0x64, 0xff, 0x9b] + [UInt8](repeating: 0, count: 8) {
            return refusalV4(Array(bytes[12...]))
        }
        if bytes.allSatisfy({ $0 == 0 }) { return "unspecified" }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return "loopback" }
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return "IPv4-compatible (deprecated)" }
        if bytes[0] == 0xff { return "multicast" }
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return "link-local" }
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0xc0 { return "site-local" }
        if bytes[0] & 0xfe == 0xfc { return "private (unique local)" }
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8 { return "documentation" }
        if bytes[0] == 0x01 && bytes[1...7].allSatisfy({ $0 == 0 }) { return "discard-only" }
        return nil
    }

    private static func refusalV4(_ b: [UInt8]) -> String? {
        switch (b[0], b[1], b[2]) {
        case (0, _, _): return b.allSatisfy { $0 == 0 } ? "unspecified" : "reserved (0.0.0.0/8)"
        case (10, _, _), (192, 168, _): return "private"
        case (172, 16...31, _): return "private"
        case (127, _, _): return "loopback"
        case (169, 254, _): return "link-local"
        case (100, 64...127, _): return "shared (carrier-grade NAT)"
        case (192, 0, 0), (198, 18...19, _): return "reserved"
        case (192, 0, 2), (198, 51, 100), (203, 0, 113): return "documentation"
        case (224...239, _, _): return "multicast"
        case (240...255, _, _): return "reserved"
        default: return nil
        }
    }

    /// Resolves `host` (BLOCKS on DNS: worker threads only) and answers why it must not be used:
    /// when any of its addresses is not public (an attacker's name may list a public address
    /// beside a private one), or when it does not resolve. Nil when every address is public.
    public static func checkHost(_ host: String, port: Int) -> String? {
        let addresses: [SocketAddress]
        if let numeric = try? SocketAddress.resolve(host: host, port: port), host != "localhost" {
            addresses = [numeric]
        } else {
            do {
                addresses = try SocketAddress.lookupAll(host: host, port: port)
            } catch {
                return "cannot resolve \(host)"
            }
        }
        for address in addresses {
            if let why = refusal(address) { return "\(host) resolves to \(address.host), a \(why) address" }
        }
        return nil
    }
}
