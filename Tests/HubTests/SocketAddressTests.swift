import Glibc
import Testing
@testable import Hub

/// A socket address keeps either family in 28 bytes (every connection holds its peer's): what
/// goes in comes out, for IPv4 and IPv6, and a real accepted peer reads back as connected.
@Suite struct SocketAddressTests {
    @Test func bothFamiliesRoundTrip() throws {
        let v4 = try SocketAddress.resolve(host: "203.0.113.7", port: 65535)
        #expect(v4.family == AF_INET && v4.host == "203.0.113.7" && v4.port == 65535)
        #expect(v4.addressBytes == [203, 0, 113, 7] && v4.description == "203.0.113.7:65535")
        let v6 = try SocketAddress.resolve(host: "2001:db8::ff:1", port: 443)
        #expect(v6.family == AF_INET6 && v6.host == "2001:db8::ff:1" && v6.port == 443)
        #expect(v6.addressBytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 8) + [0, 0xff, 0, 1])
        #expect(v6.description == "[2001:db8::ff:1]:443")
        #expect(MemoryLayout<SocketAddress>.size == 28)
    }

    @Test func anAcceptedPeerIsWhereItConnectedFrom() throws {
        let listener = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let port = try listener.localPort()
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        try SocketAddress.resolve(host: "127.0.0.1", port: port).withSockAddr { address, length in
            #expect(connect(client, address, length) == 0)
        }
        var accepted: (Socket, SocketAddress)?
        for _ in 0..<100 where accepted == nil {
            if case .done(let pair) = try listener.accept() { accepted = pair } else { usleep(1000) }
        }
        let (server, peer) = try #require(accepted)
        server.close()
        #expect(peer.host == "127.0.0.1" && peer.family == AF_INET && peer.port > 0)
    }
}
