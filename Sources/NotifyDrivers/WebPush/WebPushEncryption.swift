/// RFC 8291 message encryption with the `aes128gcm` content coding (RFC 8188): one record of at
/// most 4096 bytes, keyed by ECDH between a fresh server key and the subscription's `p256dh`,
/// mixed with its `auth` secret through HKDF-SHA-256.
public enum WebPushEncryption {
    public static let recordSize: UInt32 = 4096
    /// The largest plaintext one record carries: 4096 − 86 (header) − 16 (tag) − 1 (delimiter).
    public static let maxPlaintext = 3993

    /// The encrypted body: salt(16) || rs(4) || idlen(1) || server public key(65) || ciphertext.
    /// `serverKey` and `salt` are fresh per message unless given (RFC 8291 Appendix A fixes them).
    public static func encrypt(_ plaintext: [UInt8], subscriberKey: [UInt8], authSecret: [UInt8],
                               serverKey: P256Key? = nil, salt: [UInt8]? = nil) throws(WebPushCryptoError) -> [UInt8]
    {
        guard plaintext.count <= maxPlaintext else { throw WebPushCryptoError("the payload exceeds \(maxPlaintext) bytes") }
        guard authSecret.count == 16 else { throw WebPushCryptoError("the auth secret is 16 bytes") }
        let subscriber = try P256Key.publicKey(subscriberKey)
        let server: P256Key
        if let serverKey { server = serverKey } else { server = try P256Key.generate() }
        let salt = salt ?? WebPushPrimitives.randomBytes(16)
        guard salt.count == 16 else { throw WebPushCryptoError("the salt is 16 bytes") }

        let ecdhSecret = try server.sharedSecret(with: subscriber)
        let keyInfo = Array("WebPush: info".utf8) + [0] + subscriber.publicKey + server.publicKey
        let ikm = WebPushPrimitives.hkdf(salt: authSecret, ikm: ecdhSecret, info: keyInfo, length: 32)
        let cek = WebPushPrimitives.hkdf(salt: salt, ikm: ikm, info: Array("Content-Encoding: aes128gcm".utf8) + [0], length: 16)
        let nonce = WebPushPrimitives.hkdf(salt: salt, ikm: ikm, info: Array("Content-Encoding: nonce".utf8) + [0], length: 12)
        // The only (so last) record: the plaintext, then the 0x02 delimiter, no padding.
        let ciphertext = try WebPushPrimitives.aes128GCMSeal(key: cek, nonce: nonce, plaintext + [2])

        var body = salt
        body.reserveCapacity(86 + ciphertext.count)
        body += [UInt8(truncatingIfNeeded: recordSize >> 24), UInt8(truncatingIfNeeded: recordSize >> 16),
                 UInt8(truncatingIfNeeded: recordSize >> 8), UInt8(truncatingIfNeeded: recordSize)]
        body.append(UInt8(server.publicKey.count))
        body += server.publicKey
        body += ciphertext
        return body
    }
}
