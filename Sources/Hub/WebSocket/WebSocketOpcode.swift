/// RFC 6455 opcodes.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// What the decoder hands up: complete messages (fragments joined) and control frames.
public enum WebSocketEvent: Equatable, Sendable {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// A close frame: its code (nil when the frame had no payload) and its reason.
    case close(code: UInt16?, reason: String)
}

/// Why a connection must be failed, and the close code that says so.
public enum WebSocketError: Error, Equatable, Sendable {
    case protocolError(String)
    case invalidUTF8
    case messageTooBig

    public var closeCode: UInt16 {
        switch self {
        case .protocolError: 1002
        case .invalidUTF8: 1007
        case .messageTooBig: 1009
        }
    }

    public var reason: String {
        switch self {
        case .protocolError(let what): what
        case .invalidUTF8: "invalid UTF-8 in text"
        case .messageTooBig: "message too big"
        }
    }
}

/// Close codes a peer may send (RFC 6455 §7.4 and the IANA registry); 1005/1006/1015 never travel.
public enum WebSocketCloseCodes {
    public static func isValidOnTheWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
