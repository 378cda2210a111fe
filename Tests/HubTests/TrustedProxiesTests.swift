import Testing
@testable import Hub

/// `X-Forwarded-For` is believed only from trusted proxies, read from the right.
@Suite struct TrustedProxiesTests {
    private func peer(_ host: String) -> SocketAddress { try! SocketAddress.resolve(host: host, port: 40000) }

    @Test func parsesAddressesAndNetworksAndRefusesTheRest() {
        #expect(TrustedProxies(parsing: "127.0.0.1, 10.0.0.0/8,::1, fd00::/8")?.isEmpty == false)
        #expect(TrustedProxies(parsing: "")?.isEmpty == true)
        #expect(TrustedProxies(parsing: "proxy.local") == nil)
        #expect(TrustedProxies(parsing: "10.0.0.0/33") == nil)
        #expect(TrustedProxies(parsing: "10.0.0.0/x") == nil)
    }

    @Test func anUntrustedPeerIsTheClientWhateverItSays() {
        let proxies = TrustedProxies(parsing: "10.0.0.0/8")!
        #expect(proxies.client(peer: peer("192.0.2.7"), forwardedFor: "203.0.113.9") == nil)
        #expect(TrustedProxies.none.client(peer: peer("10.0.0.1"), forwardedFor: "203.0.113.9") == nil)
    }

    @Test func aTrustedProxyNamesTheFirstUntrustedHopFromTheRight() {
        let proxies = TrustedProxies(parsing: "10.0.0.0/8, 2001:db8::/32")!
        #expect(proxies.client(peer: peer("10.1.2.3"), forwardedFor: "203.0.113.9") == "203.0.113.9")
        // A client's own forged entry stays on the left of the one the proxy appended.
        #expect(proxies.client(peer: peer("10.1.2.3"), forwardedFor: "1.1.1.1, 203.0.113.9, 10.9.9.9") == "203.0.113.9")
        #expect(proxies.client(peer: peer("2001:db8::5"), forwardedFor: "2001:db8::7, 198.51.100.4") == "198.51.100.4")
        #expect(proxies.client(peer: peer("10.1.2.3"), forwardedFor: "10.2.2.2, 10.3.3.3") == "10.2.2.2",
                "every hop trusted: the leftmost")
        #expect(proxies.client(peer: peer("10.1.2.3"), forwardedFor: "garbage, 203.0.113.9") == "203.0.113.9")
        #expect(proxies.client(peer: peer("10.1.2.3"), forwardedFor: "garbage") == nil, "not an address: use the peer")
        #expect(proxies.client(peer: peer("10.1.2.3"), forwardedFor: nil) == nil)
    }

    @Test func anIPv4MappedPeerMatchesIPv4Networks() {
        let proxies = TrustedProxies(parsing: "127.0.0.1")!
        #expect(proxies.client(peer: peer("::ffff:127.0.0.1"), forwardedFor: "203.0.113.9") == "203.0.113.9")
    }
}
