/// Why a request could not be read; each maps to one status and one stable error code.
public enum HTTPParseError: Error, Equatable, Sendable {
    case invalidRequestLine
    case invalidTarget
    case invalidHeader
    case unsupportedVersion
    case headersTooLarge
    case bodyTooLarge
    case invalidContentLength
    /// `Transfer-Encoding` together with `Content-Length`, or a repeated `chunked`: request smuggling.
    case conflictingFraming
    case unsupportedTransferEncoding
    case invalidChunk
    case missingHost
    case unsupportedExpectation

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

    public var message: String {
        switch self {
        case .invalidRequestLine: "Malformed request line"
        case .invalidTarget: "Malformed request target"
        case .invalidHeader: "Malformed header field"
        case .unsupportedVersion: "Only HTTP/1.0 and HTTP/1.1 are supported"
        case .headersTooLarge: "Request header fields too large"
        case .bodyTooLarge: "Request body too large"
        case .invalidContentLength: "Invalid Content-Length"
        case .conflictingFraming: "Conflicting message framing (Transfer-Encoding with Content-Length)"
        case .unsupportedTransferEncoding: "Only the chunked transfer coding is supported"
        case .invalidChunk: "Malformed chunked body"
        case .missingHost: "HTTP/1.1 requests need exactly one Host header"
        case .unsupportedExpectation: "Only Expect: 100-continue is supported"
        }
    }
}
