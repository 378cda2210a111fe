/// A request method; unknown tokens are kept so the router can answer 405 or 501 precisely.
public enum HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    case GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS
    case other(String)

    init(bytes: UnsafeRawBufferPointer) {
        switch bytes.count {
        case 3 where bytes[0] == 0x47 && bytes[1] == 0x45 && bytes[2] == 0x54: self = .GET
        case 3 where bytes[0] == 0x50 && bytes[1] == 0x55 && bytes[2] == 0x54: self = .PUT
        default:
            let text = String(decoding: bytes, as: UTF8.self)
            switch text {
            case "HEAD": self = .HEAD
            case "POST": self = .POST
            case "PATCH": self = .PATCH
            case "DELETE": self = .DELETE
            case "OPTIONS": self = .OPTIONS
            default: self = .other(text)
            }
        }
    }

    public var description: String {
        switch self {
        case .GET: "GET"
        case .HEAD: "HEAD"
        case .POST: "POST"
        case .PUT: "PUT"
        case .PATCH: "PATCH"
        case .DELETE: "DELETE"
        case .OPTIONS: "OPTIONS"
        case .other(let name): name
        }
    }
}
