/// Reads one response off a client connection with `HTTPParser`: keeps the bytes the codec has not
/// consumed yet (a partial head) and hands back the response once complete. Bytes past it stay in
/// `leftover` (a WebSocket's first frames after `101`, or a server's unasked-for extra bytes).
public struct HTTPResponseReader {
    private var parser: HTTPParser
    private var pending: [UInt8] = []
    /// True once any byte of the response arrived (a kept-alive request may be retried only before).
    public private(set) var started = false

    /// `toHEAD`: the request was HEAD, so the response has no body.
    public init(limits: HTTPParser.Limits, toHEAD: Bool = false) {
        parser = HTTPParser(role: .response(toHEAD: toHEAD), limits: limits)
    }

    /// Bytes received after the response ended.
    public var leftover: [UInt8] { pending }

    /// Adds bytes as they arrive; returns the response once it is complete.
    public mutating func read(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPClientResponse? {
        guard !bytes.isEmpty else { return nil }
        started = true
        if pending.isEmpty { return try step(bytes).get() }
        pending.append(contentsOf: bytes)
        let buffer = pending
        return try buffer.withUnsafeBytes { step($0) }.get()
    }

    /// The peer closed: a body read until close is complete now; anything else is cut short.
    public mutating func finish() throws(HTTPParseError) -> HTTPClientResponse {
        switch parser.finish() {
        case .response(let response) where pending.isEmpty: return response
        case .error(let error): throw error
        default: throw .truncated
        }
    }

    /// Parses `input` (which starts at the first unconsumed byte) and keeps what it did not consume.
    private mutating func step(_ input: UnsafeRawBufferPointer) -> Result<HTTPClientResponse?, HTTPParseError> {
        let (used, step) = parser.parse(input)
        pending = Array(UnsafeRawBufferPointer(rebasing: input[used...]))
        switch step {
        case .response(let response): return .success(response)
        case .error(let error): return .failure(error)
        case .needMore, .request: return .success(nil)
        }
    }
}
