/// The hub's one HTTP/1.1 codec, for both directions: requests on the server, responses in the
/// drivers' client and in loadtest. Feed it bytes as they arrive, in any split; it keeps its place
/// between calls (how far the head was scanned, how much body is left, the chunk state) and answers
/// with a complete message, "need more", or one precise error per fault.
///
/// The head is parsed once its end is in view; until then only the scan offset advances, so a peer
/// sending one byte at a time costs linear, not quadratic, work. Framing rules are the same for
/// requests and responses: `Transfer-Encoding` with `Content-Length`, two different lengths, and
/// obs-fold are refused (request and response smuggling).
public struct HTTPParser {
    public struct Limits: Sendable {
        public var maxHeaderBytes: Int
        public var maxHeaderCount: Int
        public var maxBodyBytes: Int

        public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 1024 * 1024) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// Which side of the conversation the parser reads.
    public enum Role: Sendable, Equatable {
        case request
        /// Responses; the answer to a HEAD request has no body whatever its headers say.
        case response(toHEAD: Bool)
    }

    public enum Step {
        case needMore
        case request(HTTPRequest)
        case response(HTTPClientResponse)
        case error(HTTPParseError)
    }

    enum State {
        case head(scanned: Int)
        case body(remaining: Int)
        case untilClose
        case chunkSize(value: Int, digits: Int)
        case chunkExtension(value: Int, length: Int)
        case chunkSizeLF(value: Int)
        case chunkData(remaining: Int)
        case chunkDataCR
        case chunkDataLF
        case trailer(lineLength: Int)
        case trailerLF(lineLength: Int)
        case failed(HTTPParseError)
    }

    public let limits: Limits
    public let role: Role
    var state: State = .head(scanned: 0)
    /// The head of the message being read (one of the two, by role); the body is gathered apart.
    var request: HTTPRequest?
    var response: HTTPClientResponse?
    var body: [UInt8] = []
    var trailerBytes = 0
    /// Set when a head asked `Expect: 100-continue` and its body has not started; see `takeContinue`.
    var continuePending = false

    public init(role: Role = .request, limits: Limits = Limits()) {
        self.role = role
        self.limits = limits
    }

    /// True while a message is partly received (for the server's 408 timeout).
    public var isMidMessage: Bool {
        if case .head(let scanned) = state { return scanned > 0 }
        return true
    }

    /// True while a body is being received.
    public var isInBody: Bool {
        switch state {
        case .head, .failed: return false
        default: return true
        }
    }

    /// True once, after a request head with `Expect: 100-continue`: the caller sends `100 Continue`.
    public mutating func takeContinue() -> Bool {
        defer { continuePending = false }
        return continuePending
    }

    /// Parses from the start of `input`, which begins where the previous call's `consumed` ended.
    /// Stops after each complete message; bytes past it are left for the next call.
    public mutating func parse(_ input: UnsafeRawBufferPointer) -> (consumed: Int, step: Step) {
        var offset = 0
        while true {
            switch state {
            case .failed(let error):
                return (offset, .error(error))
            case .head(let scanned):
                if scanned == 0 {
                    while offset < input.count && (input[offset] == 0x0D || input[offset] == 0x0A) { offset += 1 }
                }
                let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
                guard let end = Self.findHeadEnd(rest, from: scanned) else {
                    if rest.count > limits.maxHeaderBytes { return fail(.headersTooLarge, offset) }
                    state = .head(scanned: max(0, rest.count - 3))
                    return (offset, .needMore)
                }
                if end > limits.maxHeaderBytes { return fail(.headersTooLarge, offset) }
                let framing: Framing
                switch parseHead(UnsafeRawBufferPointer(rebasing: rest[0..<end])) {
                case .failure(let error): return fail(error, offset)
                case .success(let value): framing = value
                }
                offset += end
                switch framing {
                case .none:
                    return (offset, complete())
                case .interim:
                    state = .head(scanned: 0)
                case .length(let length):
                    state = .body(remaining: length)
                    body.reserveCapacity(length)
                case .chunked:
                    state = .chunkSize(value: 0, digits: 0)
                    trailerBytes = 0
                case .untilClose:
                    state = .untilClose
                }
            case .body(let remaining):
                let available = min(remaining, input.count - offset)
                if available > 0 {
                    continuePending = false
                    body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<offset + available]))
                    offset += available
                }
                if remaining == available { return (offset, complete()) }
                state = .body(remaining: remaining - available)
                return (offset, .needMore)
            case .untilClose:
                let available = input.count - offset
                guard body.count + available <= limits.maxBodyBytes else { return fail(.bodyTooLarge, offset) }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset...]))
                return (input.count, .needMore)
            case .chunkData(let remaining):
                let available = min(remaining, input.count - offset)
                if available > 0 {
                    body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<offset + available]))
                    offset += available
                }
                if remaining > available {
                    state = .chunkData(remaining: remaining - available)
                    return (offset, .needMore)
                }
                state = .chunkDataCR
            default:
                guard offset < input.count else { return (offset, .needMore) }
                continuePending = false
                if let error = chunkStep(input[offset]) { return fail(error, offset) }
                offset += 1
                if case .head = state { return (offset, complete()) }
            }
        }
    }

    /// The peer closed its side. A response read until close is complete now; a message cut short
    /// is `.truncated`; between messages there is nothing to report (`.needMore`). The caller also
    /// knows whether it holds unconsumed bytes, which are a cut-short head.
    public mutating func finish() -> Step {
        switch state {
        case .untilClose:
            return complete()
        case .head(let scanned) where scanned == 0:
            return .needMore
        case .failed(let error):
            return .error(error)
        default:
            return fail(.truncated, 0).step
        }
    }

    private mutating func complete() -> Step {
        state = .head(scanned: 0)
        if var request = request.take() {
            if !body.isEmpty { swap(&request.body, &body) }
            return .request(request)
        }
        var response = response.take()!
        swap(&response.body, &body)
        return .response(response)
    }

    private mutating func fail(_ error: HTTPParseError, _ offset: Int) -> (consumed: Int, step: Step) {
        state = .failed(error)
        request = nil
        response = nil
        body = []
        return (offset, .error(error))
    }

    /// The index just past the blank line ending the head (CRLF CRLF, or bare LF LF), if present.
    public static func findHeadEnd(_ input: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        let count = input.count
        while index < count {
            if input[index] == 0x0A {
                if index + 1 < count && input[index + 1] == 0x0A { return index + 2 }
                if index + 2 < count && input[index + 1] == 0x0D && input[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }
}

extension Optional {
    fileprivate mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
