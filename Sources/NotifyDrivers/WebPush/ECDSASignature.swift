/// ECDSA P-256 signatures between OpenSSL's DER `SEQUENCE { INTEGER r, INTEGER s }` and JOSE's
/// raw `r || s` (32 bytes each, RFC 7518 §3.4), which ES256 JWTs carry.
public enum ECDSASignature {
    /// `r || s` from DER; nil if the bytes are not one well-formed signature.
    public static func raw(fromDER der: [UInt8]) -> [UInt8]? {
        var index = 0
        guard der.count >= 8, der[0] == 0x30 else { return nil }
        index = 1
        guard let sequenceLength = length(der, &index), index + sequenceLength == der.count else { return nil }
        guard let r = integer(der, &index), let s = integer(der, &index), index == der.count else { return nil }
        return r + s
    }

    /// DER from `r || s` (to check a JWT's signature with OpenSSL).
    public static func der(fromRaw raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64 else { return nil }
        func encode(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var value = Array(bytes.drop(while: { $0 == 0 }))
            if value.isEmpty { value = [0] }
            if value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return [0x02, UInt8(value.count)] + value
        }
        let body = encode(raw[0..<32]) + encode(raw[32..<64])
        return [0x30, UInt8(body.count)] + body
    }

    private static func length(_ der: [UInt8], _ index: inout Int) -> Int? {
        guard index < der.count else { return nil }
        let first = der[index]
        index += 1
        if first < 0x80 { return Int(first) }
        guard first == 0x81, index < der.count else { return nil }
        defer { index += 1 }
        return Int(der[index])
    }

    /// One INTEGER, left-padded or stripped of its sign byte to exactly 32 bytes.
    private static func integer(_ der: [UInt8], _ index: inout Int) -> [UInt8]? {
        guard index < der.count, der[index] == 0x02 else { return nil }
        index += 1
        guard let count = length(der, &index), count > 0, index + count <= der.count else { return nil }
        var value = Array(der[index..<index + count])
        index += count
        while value.count > 32, value.first == 0 { value.removeFirst() }
        guard value.count <= 32 else { return nil }
        return [UInt8](repeating: 0, count: 32 - value.count) + value
    }
}
