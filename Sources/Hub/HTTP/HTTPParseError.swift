/// Why a message (a request, or a response the client reads) could not be parsed: one case per
/// fault. For requests each maps to one status and one stable error code.
public enum HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidRequestLine
    case invalidStatusLine
    case invalidTarget
    case invalidHeader
    case unsupportedVersion
    case headersTooLarge
    case bodyTooLarge
    case invalidContentLength
    /// Two different `Content-Length` values: request or response smuggling.
    case conflictingContentLength
    /// A header line continued on the next with leading whitespace (obs-fold, RFC 9112 §5.2).
    case obsoleteLineFolding
    /// `Transfer-Encoding` together with `Content-Length`, or a repeated `chunked`: request smuggling.
    case conflictingFraming
    case unsupportedTransferEncoding
    case invalidChunk
    case missingHost
    case unsupportedExpectation
    /// The peer closed in the middle of a message.
    case truncated

    public var status: HTTPStatus {
        switch self {
        case .headersTooLarge: .headersTooLarge
        case .bodyTooLarge: .contentTooLarge
        case .unsupportedVersion: .versionNotSupported
        case .unsupportedTransferEncoding: .notImplemented
        case .unsupportedExpectation: .expectationFailed
        default: .badRequest
        }
    }

    public var errorCode: String {
        switch self {
        case .headersTooLarge: "HEADERS_TOO_LARGE"
        case .bodyTooLarge: "PAYLOAD_TOO_LARGE"
        case .unsupportedVersion: "HTTP_VERSION_NOT_SUPPORTED"
        case .unsupportedTransferEncoding: "UNSUPPORTED_TRANSFER_ENCODING"
        case .unsupportedExpectation: "EXPECTATION_FAILED"
        default: "BAD_REQUEST"
        }
    }

    public var description: String { message }

    /// In words, for either direction (the server's error bodies, the client's failures).
    public var message: String {
        switch self {
        case .invalidRequestLine: "Malformed request line"
        case .invalidStatusLine: "Malformed status line"
        case .invalidTarget: "Malformed request target"
        case .invalidHeader: "Malformed header field"
        case .unsupportedVersion: "Only HTTP/1.0 and HTTP/1.1 are supported"
        case .headersTooLarge: "Header fields too large"
        case .bodyTooLarge: "Message body too large"
        case .invalidContentLength: "Invalid Content-Length"
        case .conflictingContentLength: "Conflicting Content-Length values"
        case .obsoleteLineFolding: "Header line folding (obs-fold) is not accepted"
        case .conflictingFraming: "Conflicting message framing (Transfer-Encoding with Content-Length)"
        case .unsupportedTransferEncoding: "Only the chunked transfer coding is supported"
        case .invalidChunk: "Malformed chunked body"
        case .missingHost: "HTTP/1.1 requests need exactly one Host header"
        case .unsupportedExpectation: "Only Expect: 100-continue is supported"
        case .truncated: "Connection closed in the middle of a message"
        }
    }
}
