import COpenSSL

/// HMAC-SHA-256, HKDF (RFC 5869) and AES-128-GCM through OpenSSL, behind byte-array signatures:
/// what RFC 8291 needs besides the keys (`P256Key`).
enum WebPushPrimitives {
    static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = SHA256(data, data.count, &out)
        return out
    }

    static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        _ = HMAC(EVP_sha256(), key, Int32(key.count), data, data.count, &out, &length)
        return out
    }

    /// HKDF-SHA-256 with one expansion block (`length` ≤ 32), as RFC 8291 uses it.
    static func hkdf(salt: [UInt8], ikm: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        precondition(length <= 32)
        let prk = hmacSHA256(key: salt, ikm)
        return Array(hmacSHA256(key: prk, info + [1]).prefix(length))
    }

    /// AES-128-GCM: the ciphertext followed by the 16-byte tag.
    static func aes128GCMSeal(key: [UInt8], nonce: [UInt8], _ plaintext: [UInt8]) throws(WebPushCryptoError) -> [UInt8] {
        precondition(key.count == 16 && nonce.count == 12)
        guard let context = EVP_CIPHER_CTX_new() else { throw WebPushCryptoError("out of memory") }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var written: Int32 = 0, final: Int32 = 0
        let ok = out.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress,
                  EVP_EncryptInit_ex(context, EVP_aes_128_gcm(), nil, key, nonce) == 1,
                  EVP_EncryptUpdate(context, base, &written, plaintext, Int32(plaintext.count)) == 1,
                  EVP_EncryptFinal_ex(context, base + Int(written), &final) == 1
            else { return false }
            return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, base + Int(written + final)) == 1
        }
        guard ok, Int(written + final) == plaintext.count else { throw WebPushCryptoError("AES-128-GCM failed") }
        return out
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "OpenSSL RAND_bytes failed")
        return out
    }
}
