import Foundation
import Testing
@testable import RESTBridge

@Suite struct PasswordHasherTests {
    @Test func matchesDjangoVectorsMadeByHashlib() {
        let hasher = PasswordHasher()
        // hashlib.pbkdf2_hmac('sha256', b'salam2024', b'seasalt', 600000), base64.
        #expect(hasher.verify("salam2024", against: "pbkdf2_sha256$600000$seasalt$SN/wYuKilRVYJswmokVdvboRV8sIDm6fDIJiEoUiziw="))
        #expect(hasher.verify("كلمة-سر1", against: "pbkdf2_sha256$1000$abc$+VmYBUGBhDfonjYGfN/rE9AiRzICm48lWGkoZsPEl/A="))
        #expect(!hasher.verify("salam2025", against: "pbkdf2_sha256$600000$seasalt$SN/wYuKilRVYJswmokVdvboRV8sIDm6fDIJiEoUiziw="))
    }

    @Test func newHashesUseDjangosFormatAndEnoughIterations() {
        let hasher = PasswordHasher(iterations: 1000)
        let encoded = hasher.hash("secret123")
        let parts = encoded.split(separator: "$")
        #expect(parts.count == 4 && parts[0] == "pbkdf2_sha256")
        #expect(Int(parts[1])! >= 600_000, "never below the minimum, whatever is asked")
        #expect(hasher.verify("secret123", against: encoded))
        #expect(hasher.hash("secret123") != encoded, "a fresh salt each time")
    }

    @Test func malformedHashesNeverMatch() {
        let hasher = PasswordHasher()
        for bad in ["", "md5$1$a$b", "pbkdf2_sha256$x$salt$AAAA", "pbkdf2_sha256$1000$salt", "pbkdf2_sha256$0$s$AAAA"] {
            #expect(!hasher.verify("anything", against: bad), "\(bad)")
        }
        #expect(hasher.needsUpgrade("pbkdf2_sha256$260000$s$AAAA"))
        #expect(!hasher.needsUpgrade("pbkdf2_sha256$600000$s$AAAA"))
    }
}

@Suite struct JWTTests {
    let jwt = JWT(secret: "unit-test-secret-0123456789abcdef0123", accessTTL: 900, refreshTTL: 604_800)

    @Test func issuedTokensVerifyWithSimpleJWTClaims() throws {
        let (token, claims) = jwt.issue(.access, userID: 42, now: 1_000_000)
        let verified = try jwt.verify(token, as: .access, now: 1_000_100)
        #expect(verified == claims)
        #expect(claims.expiresAt == 1_000_900)
        let payload = Crypto.base64URLDecode(token.split(separator: ".")[1])!
        let object = try JSONSerialization.jsonObject(with: Data(payload)) as! [String: Any]
        #expect(Set(object.keys) == ["token_type", "exp", "iat", "jti", "user_id"])
    }

    @Test func refusals() {
        let (access, _) = jwt.issue(.access, userID: 7, now: 1_000_000)
        let (refresh, _) = jwt.issue(.refresh, userID: 7, now: 1_000_000)
        #expect(throws: JWT.Failure.expired) { try jwt.verify(access, as: .access, now: 1_000_900) }
        #expect(throws: JWT.Failure.wrongType) { try jwt.verify(refresh, as: .access, now: 1_000_001) }
        var parts = access.split(separator: ".").map(String.init)
        let none = Crypto.base64URLEncode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        #expect(throws: JWT.Failure.unsupportedAlgorithm) { try jwt.verify("\(none).\(parts[1]).", as: .access, now: 1_000_001) }
        let other = JWT(secret: "another-secret-0123456789abcdef0123456")
        #expect(throws: JWT.Failure.badSignature) { try other.verify(access, as: .access, now: 1_000_001) }
        parts[1] = Crypto.base64URLEncode(Array(#"{"token_type":"access","exp":9999999999,"iat":1,"jti":"x","user_id":1}"#.utf8))
        #expect(throws: JWT.Failure.badSignature) { try jwt.verify(parts.joined(separator: "."), as: .access, now: 1_000_001) }
        #expect(throws: JWT.Failure.malformed) { try jwt.verify("not-a-token", as: .access) }
        #expect(throws: JWT.Failure.malformed) { try jwt.verify(access + ".x", as: .access, now: 1_000_001) }
    }

    /// A header other than the usual bytes is parsed: the same claims under `{"typ":…,"alg":…}`,
    /// signed with the secret, verify; a different algorithm in it is refused before the signature.
    @Test func headersInAnotherOrderAreParsed() throws {
        let secret = "unit-test-secret-0123456789abcdef0123"
        let payload = Crypto.base64URLEncode(Array(#"{"token_type":"access","exp":2000000,"iat":1,"jti":"j","user_id":"9"}"#.utf8))
        func signed(_ header: String) -> String {
            let input = Crypto.base64URLEncode(Array(header.utf8)) + "." + payload
            return input + "." + Crypto.base64URLEncode(HMACSHA256Key(Array(secret.utf8)).sign(Array(input.utf8)))
        }
        #expect(try jwt.verify(signed(#"{"typ":"JWT","alg":"HS256"}"#), as: .access, now: 1_000_000).userID == 9)
        #expect(throws: JWT.Failure.unsupportedAlgorithm) {
            try jwt.verify(signed(#"{"typ":"JWT","alg":"HS512"}"#), as: .access, now: 1_000_000)
        }
    }

    /// RFC 4231 test cases 1 and 2 (a key shorter than a block, and one that is text).
    @Test func hmacMatchesRFC4231() {
        let one = HMACSHA256Key([UInt8](repeating: 0x0B, count: 20)).sign(Array("Hi There".utf8))
        #expect(Crypto.hex(one) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        let two = HMACSHA256Key(Array("Jefe".utf8)).sign(Array("what do ya want for nothing?".utf8))
        #expect(Crypto.hex(two) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}

@Suite struct ValidatorsTests {
    @Test func emails() {
        #expect(Validators.isEmail("amina@madrasti.ma"))
        #expect(Validators.isEmail("first.last+tag@school.example.org"))
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@b..co", "a@.b.co"] { #expect(!Validators.isEmail(bad), "\(bad)") }
    }

    @Test func phonesAreE164() {
        #expect(Validators.normalizedPhone("+212 600-000-000") == "+212600000000")
        #expect(Validators.normalizedPhone("+998 (90) 123.45.67") == "+998901234567")
        for bad in ["0600000000", "+0600000000", "+12", "+1234567890123456", "+21260000000a"] {
            #expect(Validators.normalizedPhone(bad) == nil, "\(bad)")
        }
    }

    /// Django's default validators, with its messages; Madrasti's letters-and-digits rule only when asked.
    @Test func passwords() {
        let none = PasswordRules.Attributes()
        #expect(PasswordRules.problems("secure_password", user: none).isEmpty)
        #expect(PasswordRules.problems("onlyletters", user: none).isEmpty)
        #expect(PasswordRules.problems("onlyletters", user: none, madrasti: true)
            == ["The password must contain both letters and digits."])
        #expect(PasswordRules.problems("k3y!9q", user: none)
            == ["This password is too short. It must contain at least 8 characters."])
        #expect(PasswordRules.problems("password123", user: none) == ["This password is too common."])
        #expect(PasswordRules.problems("58203961", user: none) == ["This password is entirely numeric."])
        let sara = PasswordRules.Attributes(username: "sara", firstName: "Sara", lastName: "Alami", email: "sara.alami@example.com")
        #expect(PasswordRules.problems("saraalami", user: sara) == ["The password is too similar to the last name."])
        #expect(PasswordRules.problems("Kx9!vQ2#mLp", user: sara).isEmpty)
    }
}

@Suite struct RateLimiterTests {
    @Test func bucketEmptiesThenRefillsWithTime() {
        let limiter = RateLimiter()
        let start = 1_000_000.0
        let decisions = (0..<4).map { _ in limiter.take("ip:1", limit: 3, period: 60, now: start) }
        #expect(decisions.map(\.allowed) == [true, true, true, false])
        #expect(decisions.map(\.remaining) == [2, 1, 0, 0])
        #expect(decisions[3].retryAfter == 20)
        #expect(decisions[3].resetEpoch == Int64(start) + 60)
        #expect(limiter.take("ip:1", limit: 3, period: 60, now: start + 20).allowed, "one token back after 20 s")
        #expect(limiter.take("ip:2", limit: 3, period: 60, now: start).allowed, "buckets are per key")
    }
}

@Suite struct Base64URLTests {
    @Test func rfc4648VectorsWithoutPadding() {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Crypto.base64URLEncode(Array(plain.utf8)) == encoded)
            #expect(Crypto.base64URLDecode(Substring(encoded)) == Array(plain.utf8))
        }
    }

    @Test func agreesWithFoundationOnRandomBytes() {
        for length in 0..<80 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let foundation = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Crypto.base64URLEncode(bytes) == foundation)
            #expect(Crypto.base64URLDecode(Substring(foundation)) == bytes)
        }
    }

    @Test func refusesBytesOutsideTheAlphabetAndImpossibleLengths() {
        for bad in ["ab+c", "ab/c", "Zm9v=", "Zm9vY", "é", "Zm 9v", "\u{0}"] {
            #expect(Crypto.base64URLDecode(Substring(bad)) == nil, "\(bad)")
        }
    }
}
