import Foundation
import Hub
import Testing
@testable import NotifyDrivers

@Suite struct WebhookSignatureTests {
    /// The vector of the Standard Webhooks reference libraries (standard-webhooks/libraries,
    /// python `test_sign_function`; checked here with the standardwebhooks 1.1.0 package).
    @Test func knownVectorFromTheSpecLibraries() {
        let signature = WebhookSignature.sign(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                              timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(WebhookSignature.sign(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                      timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8)) == signature,
                "the whsec_ prefix is optional")
    }

    @Test func rotationSignsWithEachSecretInTurn() {
        let body = Array(#"{"type":"x"}"#.utf8)
        let header = WebhookSignature.header(secrets: ["whsec_AAAA", "whsec_BBBB"], id: "msg_1", timestamp: 10, body: body)
        let parts = header.split(separator: " ").map(String.init)
        #expect(parts == [WebhookSignature.sign(secret: "whsec_AAAA", id: "msg_1", timestamp: 10, body: body),
                          WebhookSignature.sign(secret: "whsec_BBBB", id: "msg_1", timestamp: 10, body: body)])
        #expect(parts[0] != parts[1])
        let message = WebhookMessage(url: "https://x.example/h", id: "msg_1", body: body, secrets: ["whsec_AAAA"])
        let headers = Dictionary(uniqueKeysWithValues: message.headers(timestamp: 10, userAgent: "hubd/0.2.0"))
        #expect(headers["webhook-id"] == "msg_1" && headers["webhook-timestamp"] == "10")
        #expect(headers["webhook-signature"] == parts[0] && headers["Content-Type"] == "application/json")
    }

    @Test func secretsAreWhsecAnd32RandomBytes() {
        let one = WebhookSignature.newSecret(), two = WebhookSignature.newSecret()
        #expect(one.hasPrefix("whsec_") && WebhookSignature.key(of: one)?.count == 32 && one != two)
        #expect(WebhookSignature.key(of: "whsec_not base64!") == nil)
        #expect(WebhookSignature.sign(secret: "whsec_", id: "m", timestamp: 1, body: []) == nil)
    }

    @Test func answersBecomeOutcomes() {
        #expect(WebhookDriver.outcome(status: 200) == .delivered(providerID: nil))
        #expect(WebhookDriver.outcome(status: 204) == .delivered(providerID: nil))
        #expect(WebhookDriver.outcome(status: 410) == .failed(reason: WebhookDriver.goneReason))
        for status in [301, 400, 404, 429, 500, 503] {
            #expect(WebhookDriver.outcome(status: status) == .retry(afterSeconds: 0, reason: "the endpoint answered \(status)"),
                    "no redirect followed, \(status) retried")
        }
    }
}

/// SSRF: which addresses a webhook may reach.
@Suite struct PublicAddressTests {
    private func refusal(_ host: String) throws -> String? {
        PublicAddress.refusal(try SocketAddress.resolve(host: host, port: 80))
    }

    @Test func privateLoopbackLinkLocalMulticastAndUnspecifiedAreRefused() throws {
        for host in ["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.5", "169.254.169.254",
                     "100.64.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "198.18.0.1",
                     "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "::127.0.0.1", "fe80::1",
                     "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1", "2001:db8::1"]
        {
            #expect(try refusal(host) != nil, "\(host) must be refused")
        }
    }

    @Test func publicAddressesPass() throws {
        for host in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "169.255.0.1", "93.184.216.34",
                     "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"]
        {
            #expect(try refusal(host) == nil, "\(host) is public")
        }
    }

    /// Old numeric forms are read by getaddrinfo (no DNS asked), and judged by what they mean.
    @Test func decimalOctalAndHexFormsAndLocalhostAreRefusedByTheirAddress() {
        for host in ["2130706433", "0177.0.0.1", "0x7f.1", "127.1", "localhost", "167772161"] {
            let why = PublicAddress.checkHost(host, port: 80)
            #expect(why != nil && (why!.contains("loopback") || why!.contains("private")), "\(host): \(why ?? "allowed")")
        }
        #expect(PublicAddress.checkHost("8.8.8.8", port: 443) == nil)
    }
}
