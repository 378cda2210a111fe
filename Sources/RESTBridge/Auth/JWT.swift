import Foundation
import Hub

/// HS256 JSON Web Tokens with djangorestframework-simplejwt's claims (`token_type`, `exp`, `iat`,
/// `jti`, `user_id`), so a Django backend sharing the secret mints tokens the hub accepts.
public struct JWT: Sendable {
    public enum TokenType: String, Sendable { case access, refresh }

    public struct Claims: Sendable, Equatable {
        public let tokenType: TokenType
        public let userID: Int64
        public let jti: String
        public let issuedAt: Int64
        public let expiresAt: Int64
    }

    public enum Failure: Error, Equatable, Sendable {
        case malformed, unsupportedAlgorithm, badSignature, expired, wrongType, missingClaim(String)

        public var message: String {
            switch self {
            case .malformed: "Token is malformed"
            case .unsupportedAlgorithm: "Token algorithm is not HS256"
            case .badSignature: "Token signature is invalid"
            case .expired: "Token has expired"
            case .wrongType: "Token has the wrong type"
            case .missingClaim(let name): "Token has no valid \(name) claim"
            }
        }
    }

    private let key: HMACSHA256Key
    public let accessTTL: Int64
    public let refreshTTL: Int64

    public init(secret: String, accessTTL: Int64 = 900, refreshTTL: Int64 = 604_800) {
        key = HMACSHA256Key(Array(secret.utf8))
        self.accessTTL = accessTTL
        self.refreshTTL = refreshTTL
    }

    public func issue(_ type: TokenType, userID: Int64, now: Int64 = Int64(Date().timeIntervalSince1970)) -> (String, Claims) {
        let claims = Claims(tokenType: type, userID: userID, jti: Crypto.hex(Crypto.randomBytes(16)), issuedAt: now,
                            expiresAt: now + (type == .access ? accessTTL : refreshTTL))
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let payload = #"{"token_type":"\#(type.rawValue)","exp":\#(claims.expiresAt),"iat":\#(now),"jti":"\#(claims.jti)","user_id":\#(userID)}"#
        let signingInput = Crypto.base64URLEncode(Array(header.utf8)) + "." + Crypto.base64URLEncode(Array(payload.utf8))
        let signature = key.sign(Array(signingInput.utf8))
        return (signingInput + "." + Crypto.base64URLEncode(signature), claims)
    }

    /// Checks the algorithm (HS256 only: `none` and everything else refused), the signature in
    /// constant time, the expiry and the type; returns the claims. Runs on every handshake, so it
    /// works on the token's bytes and parses the header only when it is not the usual one.
    /// The `exp` of a token `verify` refused as expired (its signature was checked first), for the
    /// 401's `token_expired_at`; nil if the token does not verify as expired.
    public func expiry(of token: String) -> Int64? {
        for type in [TokenType.access, .refresh] {
            do {
                _ = try verify(token, as: type)
            } catch .expired {
                let parts = token.split(separator: ".")
                guard parts.count == 3, let payload = Crypto.base64URLDecode(bytes: Array(parts[1].utf8)),
                      let object = (try? JSONReader.parse(payload)) as? [String: Any]
                else { return nil }
                return JSONNumber.integer(object["exp"])
            } catch {}
        }
        return nil
    }

    public func verify(_ token: String, as type: TokenType, now: Int64 = Int64(Date().timeIntervalSince1970))
        throws(Failure) -> Claims
    {
        let bytes = Array(token.utf8)
        guard bytes.count < 8192, let firstDot = bytes.firstIndex(of: 0x2E),
              let secondDot = bytes[(firstDot + 1)...].firstIndex(of: 0x2E),
              !bytes[(secondDot + 1)...].contains(0x2E)
        else { throw .malformed }
        let headerText = bytes[..<firstDot]
        if !headerText.elementsEqual(Self.usualHeader) {
            guard let headerBytes = Crypto.base64URLDecode(bytes: headerText),
                  let header = (try? JSONReader.parse(headerBytes)) as? [String: Any]
            else { throw .malformed }
            guard header["alg"] as? String == "HS256" else { throw .unsupportedAlgorithm }
        }
        // The signature before the payload: a forged token's claims are never parsed.
        guard let signature = Crypto.base64URLDecode(bytes: bytes[(secondDot + 1)...]) else { throw .malformed }
        let expected = bytes.withUnsafeBytes { key.sign(UnsafeRawBufferPointer(rebasing: $0[..<secondDot])) }
        guard Crypto.constantTimeEquals(expected, signature) else { throw .badSignature }
        // JSONReader, not JSONSerialization: parsing the claims was 6 % of hubd's CPU in a
        // handshake storm (perf, `loadtest churn`), most of it Foundation objects bridged back.
        guard let payloadBytes = Crypto.base64URLDecode(bytes: bytes[(firstDot + 1)..<secondDot]),
              let payload = (try? JSONReader.parse(payloadBytes)) as? [String: Any]
        else { throw .malformed }
        guard let exp = JSONNumber.integer(payload["exp"]) else { throw .missingClaim("exp") }
        guard exp > now else { throw .expired }
        guard let typeName = payload["token_type"] as? String, let tokenType = TokenType(rawValue: typeName) else {
            throw .missingClaim("token_type")
        }
        guard tokenType == type else { throw .wrongType }
        guard let userID = JSONNumber.integer(payload["user_id"], acceptingStrings: true) else { throw .missingClaim("user_id") }
        guard let jti = payload["jti"] as? String, !jti.isEmpty, jti.utf8.count <= 255 else { throw .missingClaim("jti") }
        return Claims(tokenType: tokenType, userID: userID, jti: jti, issuedAt: JSONNumber.integer(payload["iat"]) ?? 0,
                      expiresAt: exp)
    }

    /// `{"alg":"HS256","typ":"JWT"}` in base64url: what the hub, PyJWT and simplejwt write.
    private static let usualHeader = Array(Crypto.base64URLEncode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)).utf8)

}
