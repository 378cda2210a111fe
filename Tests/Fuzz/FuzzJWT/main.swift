import FuzzSupport
import RESTBridge

// JWT.verify, which runs on every authenticated request and handshake. The first byte picks the
// mode: a raw token as a client might send it, or a header and a payload (split at the first NUL)
// that the target encodes and signs with the server's key, so that claim parsing is reached.
// Nothing may crash, and what verifies must satisfy what the rest of the hub relies on.
let secret = "fuzz-secret-0123456789abcdef0123456789"
let jwt = JWT(secret: secret)
let key = HMACSHA256Key(Array(secret.utf8))
let now: Int64 = 1_800_000_000

Fuzzer.run { input in
    guard let mode = input.first else { return }
    let rest = Array(input.dropFirst())
    let token: String
    if mode & 1 == 0 {
        token = String(decoding: rest, as: UTF8.self)
    } else {
        let cut = rest.firstIndex(of: 0) ?? rest.count
        let signingInput = Crypto.base64URLEncode(Array(rest[..<cut])) + "." + Crypto.base64URLEncode(Array(rest[min(cut + 1, rest.count)...]))
        token = signingInput + "." + Crypto.base64URLEncode(key.sign(Array(signingInput.utf8)))
    }
    for type in [JWT.TokenType.access, .refresh] {
        guard let claims = try? jwt.verify(token, as: type, now: now) else { continue }
        Fuzzer.require(isSignedWithTheKey(token), "a token not signed with the key verified: \(token)")
        Fuzzer.require(claims.tokenType == type, "claims of type \(claims.tokenType) verified as \(type)")
        Fuzzer.require(claims.expiresAt > now, "expired claims verified: \(claims)")
        Fuzzer.require(!claims.jti.isEmpty && claims.jti.utf8.count <= 255, "jti \(claims.jti)")
    }
}

/// Three parts, the third the HMAC of the first two under the server's key (how else could it verify?).
func isSignedWithTheKey(_ token: String) -> Bool {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, let signature = Crypto.base64URLDecode(parts[2]) else { return false }
    return signature == key.sign(Array("\(parts[0]).\(parts[1])".utf8))
}
