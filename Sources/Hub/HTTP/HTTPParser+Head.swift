/// The head of a message: the start line (request line or status line), the header fields, and
/// the framing and keep-alive rules, which are the same for both directions.
extension HTTPParser {
    enum Framing { case none, interim, length(Int), chunked, untilClose }

    mutating func parseHead(_ head: UnsafeRawBufferPointer) -> Result<Framing, HTTPParseError> {
        let startLineError: HTTPParseError = role == .request ? .invalidRequestLine : .invalidStatusLine
        var lines = HeadLines(head)
        guard let first = lines.next(), let startLine = first else { return .failure(startLineError) }
        var requestLine: (method: HTTPMethod, target: String)?
        var statusLine: (status: Int, reason: String)?
        let version: HTTPVersion
        switch role {
        case .request:
            switch Self.parseRequestLine(startLine) {
            case .failure(let error): return .failure(error)
            case .success(let value):
                requestLine = (value.0, value.1)
                version = value.2
            }
        case .response:
            switch Self.parseStatusLine(startLine) {
            case .failure(let error): return .failure(error)
            case .success(let value):
                version = value.0
                statusLine = (value.1, value.2)
            }
        }

        var headers = HTTPHeaders()
        while let next = lines.next() {
            guard let line = next else { return .failure(.invalidHeader) }
            if line.isEmpty { break }
            if line[0] == 0x20 || line[0] == 0x09 { return .failure(.obsoleteLineFolding) }
            guard headers.count < limits.maxHeaderCount else { return .failure(.headersTooLarge) }
            guard let field = Self.parseHeaderLine(line) else { return .failure(.invalidHeader) }
            headers.add(field.0, field.1)
        }

        let close = headers.hasToken("close", in: "Connection")
        let keepAlive = version == .http11 ? !close : (!close && headers.hasToken("keep-alive", in: "Connection"))
        let declared: Framing?
        switch Self.declaredFraming(headers, version: version, maxBody: limits.maxBodyBytes) {
        case .failure(let error): return .failure(error)
        case .success(let value): declared = value
        }

        if let (method, target) = requestLine {
            let hosts = headers.values("Host")
            if version == .http11 && hosts.count != 1 || hosts.count > 1 { return .failure(.missingHost) }
            let framing = declared ?? .none
            if let expect = headers["Expect"] {
                guard HTTPHeaders.equalsIgnoringCase(expect.trimmingSpaces, "100-continue") else {
                    return .failure(.unsupportedExpectation)
                }
                if case .none = framing {} else { continuePending = version == .http11 }
            }
            request = HTTPRequest(method: method, target: target, version: version, headers: headers, keepAlive: keepAlive)
            return .success(framing)
        }

        let (status, reason) = statusLine!
        if (100..<200).contains(status) && status != 101 { return .success(.interim) }
        var framing = declared ?? .untilClose
        if case .response(toHEAD: true) = role { framing = .none }
        if status == 101 || status == 204 || status == 304 { framing = .none }
        var message = HTTPClientResponse(status: status, reason: reason, version: version, headers: headers,
                                         keepAlive: keepAlive)
        if case .untilClose = framing { message.keepAlive = false }
        response = message
        return .success(framing)
    }

    /// What `Transfer-Encoding` and `Content-Length` say, or nil when neither is present. Refuses
    /// both together, two different lengths, a repeated or non-final `chunked`, and chunked in 1.0.
    static func declaredFraming(_ headers: HTTPHeaders, version: HTTPVersion, maxBody: Int)
        -> Result<Framing?, HTTPParseError>
    {
        let transferEncodings = headers.values("Transfer-Encoding")
        let contentLengths = headers.values("Content-Length")
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty || version == .http10 { return .failure(.conflictingFraming) }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces.lowercased() }
            guard codings.last == "chunked" else { return .failure(.conflictingFraming) }
            if codings.filter({ $0 == "chunked" }).count > 1 { return .failure(.conflictingFraming) }
            if codings.count > 1 { return .failure(.unsupportedTransferEncoding) }
            return .success(.chunked)
        }
        guard !contentLengths.isEmpty else { return .success(nil) }
        var length: Int?
        for value in contentLengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            guard let parsed = parseLength(value.trimmingSpaces) else { return .failure(.invalidContentLength) }
            guard length == nil || length == parsed else { return .failure(.conflictingContentLength) }
            length = parsed
        }
        guard let length else { return .failure(.invalidContentLength) }
        if length > maxBody { return .failure(.bodyTooLarge) }
        return .success(length == 0 ? Framing.none : .length(length))
    }

    private static func parseLength(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    static func parseRequestLine(_ line: UnsafeRawBufferPointer)
        -> Result<(HTTPMethod, String, HTTPVersion), HTTPParseError>
    {
        guard let firstSpace = line.firstIndex(of: 0x20), firstSpace > 0 else { return .failure(.invalidRequestLine) }
        let methodBytes = UnsafeRawBufferPointer(rebasing: line[0..<firstSpace])
        guard methodBytes.allSatisfy(isTokenByte) else { return .failure(.invalidRequestLine) }
        let rest = UnsafeRawBufferPointer(rebasing: line[(firstSpace + 1)...])
        guard let secondSpace = rest.firstIndex(of: 0x20), secondSpace > 0 else { return .failure(.invalidRequestLine) }
        let targetBytes = UnsafeRawBufferPointer(rebasing: rest[0..<secondSpace])
        let versionBytes = UnsafeRawBufferPointer(rebasing: rest[(secondSpace + 1)...])
        guard let version = parseVersion(versionBytes) else { return .failure(.invalidRequestLine) }
        guard version.major == 1 else { return .failure(.unsupportedVersion) }
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
        return .success((method, target, version.minor == 0 ? .http10 : .http11))
    }

    /// `HTTP/1.1 200 OK`: a version, three digits, and an optional reason after one space.
    static func parseStatusLine(_ line: UnsafeRawBufferPointer) -> Result<(HTTPVersion, Int, String), HTTPParseError> {
        guard line.count >= 12, line[8] == 0x20, let version = parseVersion(UnsafeRawBufferPointer(rebasing: line[0..<8]))
        else { return .failure(.invalidStatusLine) }
        guard version.major == 1 else { return .failure(.unsupportedVersion) }
        guard let hundreds = digit(line[9]), hundreds >= 1, let tens = digit(line[10]), let units = digit(line[11])
        else { return .failure(.invalidStatusLine) }
        var reason = ""
        if line.count > 12 {
            let reasonBytes = UnsafeRawBufferPointer(rebasing: line[13...])
            guard line[12] == 0x20, reasonBytes.allSatisfy(isFieldValueByte) else { return .failure(.invalidStatusLine) }
            reason = String(decoding: reasonBytes, as: UTF8.self)
        }
        return .success((version.minor == 0 ? .http10 : .http11, hundreds * 100 + tens * 10 + units, reason))
    }

    /// `HTTP/d.d` (eight bytes), or nil.
    private static func parseVersion(_ bytes: UnsafeRawBufferPointer) -> HTTPVersion? {
        guard bytes.count == 8, bytes.starts(with: "HTTP/".utf8), bytes[6] == UInt8(ascii: "."),
              let major = digit(bytes[5]), let minor = digit(bytes[7])
        else { return nil }
        return HTTPVersion(major: major, minor: minor)
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
        guard value.allSatisfy(isFieldValueByte) else { return nil }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// Visible characters, spaces, tabs and obs-text; no controls.
    @inline(__always)
    private static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != 0x7F || byte == 0x09
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
struct HeadLines {
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
