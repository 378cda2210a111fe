/// An incremental HTTP/1.1 request parser. Feed it bytes as they arrive, in any split; it keeps
/// its place between calls (how far the head was scanned, how much body is left, the chunk state)
/// and answers with a complete request, "need more", or a precise error.
///
/// The head is parsed once its end is in view; until then only the scan offset advances, so a
/// client sending one byte at a time costs linear, not quadratic, work.
public struct HTTPRequestParser {
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

    public enum Step {
        case needMore
        case request(HTTPRequest)
        case error(HTTPParseError)
    }

    private enum State {
        case head(scanned: Int)
        case body(remaining: Int)
        case chunkSize(value: Int, digits: Int)
        case chunkExtension(value: Int, length: Int)
        case chunkSizeLF(value: Int)
        case chunkData(remaining: Int)
        case chunkDataCR
        case chunkDataLF
        case trailer(lineLength: Int)
        case trailerLF(lineLength: Int)
        case failed
    }

    public let limits: Limits
    private var state: State = .head(scanned: 0)
    private var request: HTTPRequest?
    private var trailerBytes = 0
    /// Set when a head asked `Expect: 100-continue` and its body has not started; see `takeContinue`.
    private var continuePending = false

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// True while a request is partly received (for the 408 timeout).
    public var isMidRequest: Bool {
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

    /// True once, after a head with `Expect: 100-continue`: the caller sends `100 Continue`.
    public mutating func takeContinue() -> Bool {
        defer { continuePending = false }
        return continuePending
    }

    /// Parses from the start of `input`, which begins where the previous call's `consumed` ended.
    public mutating func parse(_ input: UnsafeRawBufferPointer) -> (consumed: Int, step: Step) {
        var offset = 0
        while true {
            switch state {
            case .failed:
                return (offset, .error(.invalidRequestLine))
            case .head(let scanned):
                if scanned == 0 {
                    while offset < input.count && (input[offset] == 0x0D || input[offset] == 0x0A) { offset += 1 }
                    if offset > 0 { return (offset, .needMore) }
                }
                guard let end = Self.findHeadEnd(input, from: scanned) else {
                    let seen = input.count
                    if seen > limits.maxHeaderBytes { return fail(.headersTooLarge, offset) }
                    state = .head(scanned: max(0, seen - 3))
                    if seen == 0 { state = .head(scanned: 0) }
                    return (0, .needMore)
                }
                if end > limits.maxHeaderBytes { return fail(.headersTooLarge, offset) }
                let head = UnsafeRawBufferPointer(rebasing: input[0..<end])
                switch parseHead(head) {
                case .failure(let error): return fail(error, 0)
                case .success(let framing):
                    offset = end
                    switch framing {
                    case .none:
                        state = .head(scanned: 0)
                        return (offset, .request(request.take()!))
                    case .length(let length):
                        state = .body(remaining: length)
                        request!.body.reserveCapacity(length)
                    case .chunked:
                        state = .chunkSize(value: 0, digits: 0)
                        trailerBytes = 0
                    }
                }
            case .body(let remaining):
                let available = min(remaining, input.count - offset)
                if available > 0 {
                    continuePending = false
                    request!.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<offset + available]))
                    offset += available
                }
                if remaining - available == 0 {
                    state = .head(scanned: 0)
                    return (offset, .request(request.take()!))
                }
                state = .body(remaining: remaining - available)
                return (offset, .needMore)
            case .chunkData(let remaining):
                let available = min(remaining, input.count - offset)
                if available > 0 {
                    request!.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<offset + available]))
                    offset += available
                }
                if remaining - available > 0 {
                    state = .chunkData(remaining: remaining - available)
                    return (offset, .needMore)
                }
                state = .chunkDataCR
            default:
                guard offset < input.count else { return (offset, .needMore) }
                continuePending = false
                if let error = chunkStep(input[offset]) { return fail(error, offset) }
                offset += 1
                if case .head = state { return (offset, .request(request.take()!)) }
            }
        }
    }

    private mutating func fail(_ error: HTTPParseError, _ offset: Int) -> (consumed: Int, step: Step) {
        state = .failed
        request = nil
        return (offset, .error(error))
    }

    /// One byte of chunk framing; the data itself is copied in bulk by `parse`.
    private mutating func chunkStep(_ byte: UInt8) -> HTTPParseError? {
        switch state {
        case .chunkSize(let value, let digits):
            if let digit = PercentDecoding.hexValue(byte) {
                let next = value &* 16 &+ Int(digit)
                guard digits < 15, next <= limits.maxBodyBytes else {
                    return digits < 15 ? .bodyTooLarge : .invalidChunk
                }
                state = .chunkSize(value: next, digits: digits + 1)
            } else if digits > 0 && byte == UInt8(ascii: ";") {
                state = .chunkExtension(value: value, length: 0)
            } else if digits > 0 && byte == 0x0D {
                state = .chunkSizeLF(value: value)
            } else {
                return .invalidChunk
            }
        case .chunkExtension(let value, let length):
            if byte == 0x0D {
                state = .chunkSizeLF(value: value)
            } else if byte == 0x0A || length >= 1024 {
                return .invalidChunk
            } else {
                state = .chunkExtension(value: value, length: length + 1)
            }
        case .chunkSizeLF(let value):
            guard byte == 0x0A else { return .invalidChunk }
            if value == 0 {
                state = .trailer(lineLength: 0)
            } else {
                guard request!.body.count + value <= limits.maxBodyBytes else { return .bodyTooLarge }
                state = .chunkData(remaining: value)
            }
        case .chunkDataCR:
            guard byte == 0x0D else { return .invalidChunk }
            state = .chunkDataLF
        case .chunkDataLF:
            guard byte == 0x0A else { return .invalidChunk }
            state = .chunkSize(value: 0, digits: 0)
        case .trailer(let lineLength):
            trailerBytes += 1
            if trailerBytes > limits.maxHeaderBytes { return .headersTooLarge }
            if byte == 0x0D {
                state = .trailerLF(lineLength: lineLength)
            } else if byte == 0x0A {
                return .invalidChunk
            } else {
                state = .trailer(lineLength: lineLength + 1)
            }
        case .trailerLF(let lineLength):
            guard byte == 0x0A else { return .invalidChunk }
            state = lineLength == 0 ? .head(scanned: 0) : .trailer(lineLength: 0)
        default:
            preconditionFailure("chunkStep in a non-chunk state")
        }
        return nil
    }

    /// The index just past the blank line ending the head (CRLF CRLF, or bare LF LF), if present.
    static func findHeadEnd(_ input: UnsafeRawBufferPointer, from start: Int) -> Int? {
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

    private enum Framing { case none, length(Int), chunked }

    private mutating func parseHead(_ head: UnsafeRawBufferPointer) -> Result<Framing, HTTPParseError> {
        var lines = HeadLines(head)
        guard let requestLine = lines.next() else { return .failure(.invalidRequestLine) }
        guard let requestLineBytes = requestLine else { return .failure(.invalidRequestLine) }
        let parsedLine: (HTTPMethod, String, HTTPVersion)
        switch Self.parseRequestLine(requestLineBytes) {
        case .failure(let error): return .failure(error)
        case .success(let value): parsedLine = value
        }
        var headers = HTTPHeaders()
        while let next = lines.next() {
            guard let line = next else { return .failure(.invalidHeader) }
            if line.isEmpty { break }
            guard headers.count < limits.maxHeaderCount else { return .failure(.headersTooLarge) }
            guard let field = Self.parseHeaderLine(line) else { return .failure(.invalidHeader) }
            headers.add(field.0, field.1)
        }
        let (method, target, version) = parsedLine
        var request = HTTPRequest(method: method, target: target, version: version, headers: headers)

        let hosts = headers.values("Host")
        if version == .http11 && hosts.count != 1 || hosts.count > 1 { return .failure(.missingHost) }

        let close = headers.hasToken("close", in: "Connection")
        request.keepAlive = version == .http11 ? !close : (!close && headers.hasToken("keep-alive", in: "Connection"))

        let framing: Framing
        let transferEncodings = headers.values("Transfer-Encoding")
        let contentLengths = headers.values("Content-Length")
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty || version == .http10 { return .failure(.conflictingFraming) }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces.lowercased() }
            guard codings.last == "chunked" else { return .failure(.conflictingFraming) }
            if codings.filter({ $0 == "chunked" }).count > 1 { return .failure(.conflictingFraming) }
            if codings.count > 1 { return .failure(.unsupportedTransferEncoding) }
            framing = .chunked
        } else if !contentLengths.isEmpty {
            var length: Int?
            for value in contentLengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
                guard let parsed = Self.parseLength(value.trimmingSpaces), length == nil || length == parsed else {
                    return .failure(.invalidContentLength)
                }
                length = parsed
            }
            guard let length else { return .failure(.invalidContentLength) }
            if length > limits.maxBodyBytes { return .failure(.bodyTooLarge) }
            framing = length == 0 ? .none : .length(length)
        } else {
            framing = .none
        }

        if let expect = headers["Expect"] {
            guard HTTPHeaders.equalsIgnoringCase(expect.trimmingSpaces, "100-continue") else {
                return .failure(.unsupportedExpectation)
            }
            if case .none = framing {} else { continuePending = version == .http11 }
        }
        self.request = request
        return .success(framing)
    }

    private static func parseLength(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    private static func parseRequestLine(_ line: UnsafeRawBufferPointer) -> Result<(HTTPMethod, String, HTTPVersion), HTTPParseError> {
        guard let firstSpace = line.firstIndex(of: 0x20), firstSpace > 0 else { return .failure(.invalidRequestLine) }
        let methodBytes = UnsafeRawBufferPointer(rebasing: line[0..<firstSpace])
        guard methodBytes.allSatisfy(isTokenByte) else { return .failure(.invalidRequestLine) }
        let rest = UnsafeRawBufferPointer(rebasing: line[(firstSpace + 1)...])
        guard let secondSpace = rest.firstIndex(of: 0x20), secondSpace > 0 else { return .failure(.invalidRequestLine) }
        let targetBytes = UnsafeRawBufferPointer(rebasing: rest[0..<secondSpace])
        let versionBytes = UnsafeRawBufferPointer(rebasing: rest[(secondSpace + 1)...])
        guard versionBytes.count == 8, versionBytes.starts(with: "HTTP/".utf8), versionBytes[6] == UInt8(ascii: "."),
              let major = digit(versionBytes[5]), let minor = digit(versionBytes[7])
        else { return .failure(.invalidRequestLine) }
        guard major == 1 else { return .failure(.unsupportedVersion) }
        guard targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .failure(.invalidTarget) }
        let method = HTTPMethod(bytes: methodBytes)
        var target = String(decoding: targetBytes, as: UTF8.self)
        if targetBytes[0] != UInt8(ascii: "/") {
            if target == "*" && method == .OPTIONS {
            } else if let path = absoluteFormPath(target) {
                target = path
            } else {
                return .failure(.invalidTarget)
            }
        }
        return .success((method, target, minor == 0 ? .http10 : .http11))
    }

    /// `http://host:port/path?q` → `/path?q` (absolute form, which servers must accept).
    private static func absoluteFormPath(_ target: String) -> String? {
        let lower = target.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return nil }
        let afterScheme = target[target.range(of: "://")!.upperBound...]
        guard let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let rest = String(afterScheme[slash...])
        return rest.hasPrefix("/") ? rest : "/" + rest
    }

    private static func parseHeaderLine(_ line: UnsafeRawBufferPointer) -> (String, String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        guard name.allSatisfy(isTokenByte) else { return nil }
        var start = colon + 1, end = line.count
        while start < end && (line[start] == 0x20 || line[start] == 0x09) { start += 1 }
        while end > start && (line[end - 1] == 0x20 || line[end - 1] == 0x09) { end -= 1 }
        let value = UnsafeRawBufferPointer(rebasing: line[start..<end])
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else { return nil }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    @inline(__always)
    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    /// RFC 9110 `tchar`.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }
}

/// Lines of a head: split at LF, a CR before the LF dropped; a bare CR elsewhere makes a line
/// invalid (`.some(nil)`), which the parser refuses.
private struct HeadLines {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UnsafeRawBufferPointer?? {
        guard position < bytes.count else { return nil }
        var end = position
        while end < bytes.count && bytes[end] != 0x0A { end += 1 }
        var lineEnd = end
        if lineEnd > position && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[position..<lineEnd])
        position = end + 1
        if line.contains(0x0D) { return .some(nil) }
        return .some(line)
    }
}

extension Optional {
    fileprivate mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
