import Glibc

/// The proxies whose `X-Forwarded-For` the hub believes (`HUB_TRUSTED_PROXIES`: addresses and
/// CIDR networks). From anyone else the header is ignored: a client could write any address into
/// it and get a rate-limit bucket of its own.
public struct TrustedProxies: Sendable {
    struct Network: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for (mine, theirs) in zip(bytes, address) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if mine & mask != theirs & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    let networks: [Network]

    public static let none = TrustedProxies(networks: [])

    init(networks: [Network]) { self.networks = networks }

    /// `10.0.0.1, 10.1.0.0/16, ::1`; nil when an entry is not an address or network.
    public init?(parsing text: String) {
        var networks: [Network] = []
        for entry in text.split(separator: ",").map({ $0.trimmingSpaces }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = Self.addressBytes(parts[0]) else { return nil }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let bits = Int(parts[1]), (0...bytes.count * 8).contains(bits) else { return nil }
                prefix = bits
            }
            networks.append(Network(bytes: bytes, prefix: prefix))
        }
        self.networks = networks
    }

    public var isEmpty: Bool { networks.isEmpty }

    func trusts(_ address: [UInt8]) -> Bool { networks.contains { $0.contains(address) } }

    /// The client's address when `peer` is a trusted proxy that sent `X-Forwarded-For`: the list
    /// read from the right (each proxy appends the address it received from), skipping trusted
    /// hops; nil (use the peer) otherwise, or when an entry is not an address.
    public func client(peer: SocketAddress, forwardedFor: String?) -> String? {
        guard !networks.isEmpty, let forwardedFor, trusts(Self.unmapped(peer.addressBytes)) else { return nil }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingSpaces }
        var client: String?
        for hop in hops.reversed() {
            guard let bytes = Self.addressBytes(hop) else { return client }
            client = hop
            if !trusts(bytes) { return hop }
        }
        return client
    }

    /// The 4 or 16 bytes of a numeric IPv4 or IPv6 address (an IPv4-mapped IPv6 one as IPv4).
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return unmapped(withUnsafeBytes(of: &v6) { Array($0) })
        }
        return nil
    }

    /// `::ffff:a.b.c.d` as `a.b.c.d` (a dual-stack listener sees IPv4 peers that way).
    static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else {
            return bytes
        }
        return Array(bytes[12...])
    }
}
