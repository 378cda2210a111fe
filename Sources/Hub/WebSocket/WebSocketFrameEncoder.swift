/// Builds complete frames as shared buffers: a message for many connections is framed once and
/// the same bytes are queued on each of them.
public enum WebSocketFrameEncoder {
    /// A server frame (unmasked), or a client frame when `maskKey` is given.
    public static func frame(_ opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, fin: Bool = true,
                             maskKey: (UInt8, UInt8, UInt8, UInt8)? = nil) -> SharedBytes
    {
        let length = payload.count
        let lengthBytes = length < 126 ? 0 : (length <= 0xFFFF ? 2 : 8)
        let headerSize = 2 + lengthBytes + (maskKey == nil ? 0 : 4)
        return SharedBytes(count: headerSize + length) { out in
            out[0] = (fin ? 0x80 : 0) | opcode.rawValue
            let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
            switch lengthBytes {
            case 0:
                out[1] = maskBit | UInt8(length)
            case 2:
                out[1] = maskBit | 126
                out[2] = UInt8(length >> 8)
                out[3] = UInt8(length & 0xFF)
            default:
                out[1] = maskBit | 127
                for index in 0..<8 { out[2 + index] = UInt8((UInt64(length) >> (56 - 8 * UInt64(index))) & 0xFF) }
            }
            let body = UnsafeMutableRawBufferPointer(rebasing: out[headerSize...])
            if length > 0 { body.copyMemory(from: payload) }
            if let key = maskKey {
                let keyBytes = [key.0, key.1, key.2, key.3]
                for index in 0..<4 { out[2 + lengthBytes + index] = keyBytes[index] }
                for index in 0..<length { body[index] ^= keyBytes[index & 3] }
            }
        }
    }

    public static func frame(_ opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true,
                             maskKey: (UInt8, UInt8, UInt8, UInt8)? = nil) -> SharedBytes
    {
        payload.withUnsafeBytes { frame(opcode, payload: $0, fin: fin, maskKey: maskKey) }
    }

    public static func text(_ text: String) -> SharedBytes { frame(.text, payload: Array(text.utf8)) }

    /// A close frame; the reason is cut to 123 bytes on a character boundary.
    public static func close(code: UInt16, reason: String = "") -> SharedBytes {
        var reasonBytes = Array(reason.utf8)
        while reasonBytes.count > 123 || !UTF8Validator.isValid(reasonBytes) { reasonBytes.removeLast() }
        return frame(.close, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + reasonBytes)
    }
}
