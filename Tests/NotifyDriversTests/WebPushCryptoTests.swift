import Foundation
import Testing
@testable import NotifyDrivers

@Suite struct WebPushCryptoTests {
    /// RFC 8291 Appendix A: the same keys and salt give the same body, byte for byte.
    @Test func rfc8291AppendixAByteForByte() throws {
        let serverKey = try P256Key.privateKey(raw: b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
        #expect(Base64URL.encode(serverKey.publicKey)
            == "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
        let body = try WebPushEncryption.encrypt(
            Array("When I grow up, I want to be a watermelon".utf8),
            subscriberKey: b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            authSecret: b64("BTBZMqHH6r4Tts7J_aSIgg"), serverKey: serverKey, salt: b64("DGv6ra1nlYgDCS1FRnbzlw"))
        #expect(Base64URL.encode(body) == "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
    }

    /// A fresh key and salt per message; the header says rs = 4096 and carries the 65-byte key.
    @Test func freshKeysEachMessageAndRecordHeader() throws {
        let subscriber = try P256Key.generate()
        let auth = WebPushPrimitives.randomBytes(16)
        let one = try WebPushEncryption.encrypt([1, 2, 3], subscriberKey: subscriber.publicKey, authSecret: auth)
        let two = try WebPushEncryption.encrypt([1, 2, 3], subscriberKey: subscriber.publicKey, authSecret: auth)
        #expect(one != two)
        #expect(Array(one[16..<21]) == [0, 0, 0x10, 0, 65])
        #expect(one.count == 86 + 3 + 1 + 16)
        #expect(throws: WebPushCryptoError.self) {
            try WebPushEncryption.encrypt([UInt8](repeating: 0, count: 3994), subscriberKey: subscriber.publicKey, authSecret: auth)
        }
        _ = try WebPushEncryption.encrypt([UInt8](repeating: 0, count: 3993), subscriberKey: subscriber.publicKey, authSecret: auth)
    }

    /// A point off the curve, a wrong length or a compressed point is refused.
    @Test func subscriberKeysAreChecked() throws {
        var point = try P256Key.generate().publicKey
        point[64] ^= 1
        #expect(throws: WebPushCryptoError.self) { try P256Key.publicKey(point) }
        #expect(throws: WebPushCryptoError.self) { try P256Key.publicKey(Array(point.prefix(33))) }
    }

    /// The JWT is ES256 over `header.claims`, its raw r||s signature verifies with OpenSSL, and the
    /// claims name the endpoint's origin, an expiry within 12 h and the subject.
    @Test func vapidJWTVerifiesWithOpenSSL() throws {
        let key = try P256Key.generate()
        let vapid = VAPID(key: key, subject: "mailto:ops@school.ma")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let header = try vapid.authorization(for: URL(string: "https://push.example.net:8443/wpush/v2/abc?x=1")!, now: now)
        #expect(header.hasPrefix("vapid t="))
        #expect(header.hasSuffix(", k=" + Base64URL.encode(key.publicKey)))
        let token = String(header.dropFirst("vapid t=".count).prefix { $0 != "," })
        let parts = token.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(signature.count == 64)
        let der = try #require(ECDSASignature.der(fromRaw: signature))
        let verifier = try P256Key.publicKey(key.publicKey)
        #expect(verifier.verifySHA256(Array("\(parts[0]).\(parts[1])".utf8), derSignature: der))
        #expect(!verifier.verifySHA256(Array("\(parts[0]).x\(parts[1])".utf8), derSignature: der))
        let claims = try #require(try JSONSerialization.jsonObject(with: Data(b64(parts[1]))) as? [String: Any])
        #expect(claims["aud"] as? String == "https://push.example.net:8443")
        #expect(claims["sub"] as? String == "mailto:ops@school.ma")
        let exp = try #require(claims["exp"] as? Int)
        #expect(exp > 1_800_000_000 && exp <= 1_800_000_000 + 12 * 3600)
        let head = try #require(try JSONSerialization.jsonObject(with: Data(b64(parts[0]))) as? [String: Any])
        #expect(head["alg"] as? String == "ES256")
    }

    @Test func originDropsPathAndDefaultPort() {
        #expect(VAPID.origin(of: URL(string: "https://fcm.googleapis.com/fcm/send/x")!) == "https://fcm.googleapis.com")
        #expect(VAPID.origin(of: URL(string: "https://Push.Example:443/a")!) == "https://push.example")
        #expect(VAPID.origin(of: URL(string: "http://127.0.0.1:8089/p/1")!) == "http://127.0.0.1:8089")
    }

    /// DER integers with a sign byte or fewer than 32 bytes become exactly 32 bytes each, and back.
    @Test func derAndRawSignaturesConvert() throws {
        let r = [UInt8](repeating: 0x80, count: 32), s = [UInt8](repeating: 0, count: 31) + [5]
        let der = try #require(ECDSASignature.der(fromRaw: r + s))
        #expect(der == [0x30, 0x26, 0x02, 0x21, 0x00] + r + [0x02, 0x01, 0x05])
        #expect(ECDSASignature.raw(fromDER: der) == r + s)
        #expect(ECDSASignature.raw(fromDER: Array(der.dropLast())) == nil)
    }

    /// HUB_VAPID_PRIVATE_KEY: PEM (SEC 1 or PKCS#8) or base64url of the raw 32 bytes; anything else refused.
    @Test func vapidKeyForms() throws {
        let raw = b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
        let fromRaw = try VAPID.parseKey("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
        #expect(try fromRaw.rawPrivateKey() == raw)
        // The same key as `openssl ec -outform PEM` writes it (SEC 1).
        let pem = """
            -----BEGIN EC PRIVATE KEY-----
            MHcCAQEEIMn1j4mBPp+Ohy5x9CqmThdXySVNzGK3LdwBC7QEPqEcoAoGCCqGSM49
            AwEHoUQDQgAE/jP0qw3qcZFNtVgj9ztUlI9BMG2SBzLbuaWaUyhkgiAOWXp7e8Jg
            uhwieZhYCZLpOXMALzASooro8Gu7eOXsDw==
            -----END EC PRIVATE KEY-----
            """
        #expect(try VAPID.parseKey(pem).publicKey == fromRaw.publicKey)
        let pkcs8 = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyfWPiYE+n46HLnH0
            KqZOF1fJJU3MYrct3AELtAQ+oRyhRANCAAT+M/SrDepxkU21WCP3O1SUj0EwbZIH
            Mtu5pZpTKGSCIA5Zent7wmC6HCJ5mFgJkuk5cwAvMBKiiujwa7t45ewP
            -----END PRIVATE KEY-----
            """
        #expect(try VAPID.parseKey(pkcs8).publicKey == fromRaw.publicKey)
        for bad in ["", "abc", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
                    Base64URL.encode([UInt8](repeating: 0, count: 32)), Base64URL.encode([UInt8](repeating: 0xFF, count: 32))] {
            #expect(throws: WebPushCryptoError.self) { try VAPID.parseKey(bad) }
        }
        #expect(VAPID.isValidSubject("mailto:ops@school.ma") && VAPID.isValidSubject("https://school.ma"))
        #expect(!VAPID.isValidSubject("ops@school.ma") && !VAPID.isValidSubject("http://school.ma"))
    }

    private func b64(_ text: String) -> [UInt8] { Base64URL.decode(text)! }
}
