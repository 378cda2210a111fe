import COpenSSL

/// Why a Web Push key or cryptographic step failed.
public struct WebPushCryptoError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A P-256 key held by OpenSSL: a pair (VAPID signing, the ephemeral ECDH key of one message) or
/// a public key alone (a subscription's `p256dh`). This file and `WebPushPrimitives.swift` are the
/// only places where Web Push calls into C.
/// @unchecked Sendable: the EVP_PKEY is never changed after init; every use makes its own context.
public final class P256Key: @unchecked Sendable {
    private let pkey: OpaquePointer
    /// The public key as an uncompressed point (0x04 || X || Y, 65 bytes).
    public let publicKey: [UInt8]
    public let hasPrivateKey: Bool

    private init(owning pkey: OpaquePointer, hasPrivateKey: Bool) throws(WebPushCryptoError) {
        var point = [UInt8](repeating: 0, count: 65)
        var length = 0
        guard EVP_PKEY_get_octet_string_param(pkey, "pub", &point, 65, &length) == 1, length == 65, point[0] == 4 else {
            EVP_PKEY_free(pkey)
            throw WebPushCryptoError("not an uncompressed P-256 public key")
        }
        self.pkey = pkey
        self.publicKey = point
        self.hasPrivateKey = hasPrivateKey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A new random key pair.
    public static func generate() throws(WebPushCryptoError) -> P256Key {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw WebPushCryptoError("no EC support") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "prime256v1") == 1,
              EVP_PKEY_generate(context, &key) == 1, let key
        else { throw WebPushCryptoError("P-256 key generation failed") }
        return try P256Key(owning: key, hasPrivateKey: true)
    }

    /// A public key from its uncompressed point; OpenSSL refuses a point that is not on the curve.
    public static func publicKey(_ point: [UInt8]) throws(WebPushCryptoError) -> P256Key {
        guard point.count == 65, point[0] == 4 else { throw WebPushCryptoError("a P-256 public key is 65 bytes starting 0x04") }
        return try fromData(privateScalar: nil, publicPoint: point)
    }

    /// A key pair from the raw 32-byte private scalar (the public point is computed).
    public static func privateKey(raw: [UInt8]) throws(WebPushCryptoError) -> P256Key {
        guard raw.count == 32 else { throw WebPushCryptoError("a raw P-256 private key is 32 bytes") }
        guard let group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1) else { throw WebPushCryptoError("no P-256") }
        defer { EC_GROUP_free(group) }
        guard let scalar = BN_bin2bn(raw, 32, nil) else { throw WebPushCryptoError("out of memory") }
        defer { BN_clear_free(scalar) }
        guard BN_is_zero(scalar) == 0, BN_cmp(scalar, EC_GROUP_get0_order(group)) < 0 else {
            throw WebPushCryptoError("the private key is not a valid P-256 scalar")
        }
        guard let point = EC_POINT_new(group) else { throw WebPushCryptoError("out of memory") }
        defer { EC_POINT_free(point) }
        var encoded = [UInt8](repeating: 0, count: 65)
        guard EC_POINT_mul(group, point, scalar, nil, nil, nil) == 1,
              EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, &encoded, 65, nil) == 65
        else { throw WebPushCryptoError("cannot compute the public key") }
        return try fromData(privateScalar: scalar, publicPoint: encoded)
    }

    /// A P-256 private key in PEM (`EC PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    public static func privateKey(pem: String) throws(WebPushCryptoError) -> P256Key {
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        ERR_clear_error()
        guard let key else { throw WebPushCryptoError("not a PEM private key") }
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_is_a(key, "EC") == 1,
              EVP_PKEY_get_utf8_string_param(key, "group", &name, name.count, &length) == 1,
              String(cString: name) == "prime256v1"
        else {
            EVP_PKEY_free(key)
            throw WebPushCryptoError("the PEM key is not a P-256 (prime256v1) key")
        }
        return try P256Key(owning: key, hasPrivateKey: true)
    }

    /// The builder keeps pointers to every key name and value until `to_param`, and the params
    /// keep the key names: all are static strings or buffers alive for the whole call.
    private static func fromData(privateScalar: OpaquePointer?, publicPoint: [UInt8]) throws(WebPushCryptoError) -> P256Key {
        let key: OpaquePointer? = publicPoint.withUnsafeBytes { point in
            guard let builder = OSSL_PARAM_BLD_new() else { return nil }
            defer { OSSL_PARAM_BLD_free(builder) }
            guard OSSL_PARAM_BLD_push_utf8_string(builder, cString("group"), cString("prime256v1"), 0) == 1,
                  OSSL_PARAM_BLD_push_octet_string(builder, cString("pub"), point.baseAddress, point.count) == 1,
                  privateScalar.map({ OSSL_PARAM_BLD_push_BN(builder, cString("priv"), $0) == 1 }) ?? true,
                  let parameters = OSSL_PARAM_BLD_to_param(builder)
            else { return nil }
            defer { OSSL_PARAM_free(parameters) }
            guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return nil }
            defer { EVP_PKEY_CTX_free(context) }
            var key: OpaquePointer?
            // EVP_PKEY_PUBLIC_KEY (0x86) and EVP_PKEY_KEYPAIR (0x87): macros Swift does not import.
            let selection: Int32 = privateScalar == nil ? 0x86 : 0x87
            guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &key, selection, parameters) == 1 else {
                return nil
            }
            return key
        }
        guard let key else {
            ERR_clear_error()
            throw WebPushCryptoError("not a point on P-256")
        }
        return try P256Key(owning: key, hasPrivateKey: privateScalar != nil)
    }

    private static func cString(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    /// The raw 32-byte private scalar (for tests and tools that print a generated key).
    public func rawPrivateKey() throws(WebPushCryptoError) -> [UInt8] {
        var scalar: OpaquePointer?
        guard hasPrivateKey, EVP_PKEY_get_bn_param(pkey, "priv", &scalar) == 1, let scalar else {
            throw WebPushCryptoError("no private key")
        }
        defer { BN_clear_free(scalar) }
        var out = [UInt8](repeating: 0, count: 32)
        guard BN_bn2binpad(scalar, &out, 32) == 32 else { throw WebPushCryptoError("private key too long") }
        return out
    }

    /// ECDH: the 32-byte x coordinate shared with `peer`.
    public func sharedSecret(with peer: P256Key) throws(WebPushCryptoError) -> [UInt8] {
        guard hasPrivateKey, let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
            throw WebPushCryptoError("ECDH needs a private key")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var secret = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_derive_init(context) == 1, EVP_PKEY_derive_set_peer(context, peer.pkey) == 1,
              EVP_PKEY_derive(context, &secret, &length) == 1, length == 32
        else {
            ERR_clear_error()
            throw WebPushCryptoError("ECDH failed")
        }
        return secret
    }

    /// ECDSA over SHA-256; OpenSSL answers a DER `ECDSA-Sig-Value` (see `ECDSASignature` for r||s).
    public func signSHA256(_ message: [UInt8]) throws(WebPushCryptoError) -> [UInt8] {
        guard hasPrivateKey, let context = EVP_MD_CTX_new() else { throw WebPushCryptoError("signing needs a private key") }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pkey) == 1,
              EVP_DigestSign(context, nil, &length, message, message.count) == 1
        else { throw WebPushCryptoError("ECDSA signing failed") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw WebPushCryptoError("ECDSA signing failed")
        }
        return Array(signature.prefix(length))
    }

    /// Checks a DER ECDSA/SHA-256 signature (tests check the hub's JWTs with it).
    public func verifySHA256(_ message: [UInt8], derSignature: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let ok = EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, pkey) == 1
            && EVP_DigestVerify(context, derSignature, derSignature.count, message, message.count) == 1
        ERR_clear_error()
        return ok
    }
}
