import Foundation

/// One HTTP/1.1 response as the client sees it.
public struct HTTPClientResponse: Sendable {
    public let status: Int
    /// Header names in lower case; a repeated header keeps its last value.
    public let headers: [String: String]
    public let body: [UInt8]
    /// The server keeps the connection open for the next request.
    public let keepAlive: Bool
}

/// An incremental HTTP/1.1 response parser: bytes go in as they arrive, in any split, and a
/// response comes out once complete. Bodies by Content-Length, chunked, or until the peer closes;
/// heads and bodies are bounded.
struct HTTPResponseParser {
    static let maxHead = 64 * 1024

    private enum Body {
        case none
        case length(Int)
        case chunkSize
        case chunkData(Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private let maxBody: Int
    private let expectsBody: Bool
    private var buffer: [UInt8] = []
    private var offset = 0
    private var status = 0
    private var headers: [String: String] = [:]
    private var keepAlive = true
    private var body: [UInt8] = []
    private var state: Body?

    /// `expectsBody` is false for HEAD requests.
    init(maxBody: Int, expectsBody: Bool = true) {
        self.maxBody = maxBody
        self.expectsBody = expectsBody
    }

    /// True once any byte of the response arrived (a kept-alive request may be retried only before).
    var started: Bool { !buffer.isEmpty || state != nil }

    /// Adds bytes; returns the response when it is complete.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws -> HTTPClientResponse? {
        buffer.append(contentsOf: bytes)
        return try advance()
    }

    /// The peer closed: a body read until close is complete now; anything else is cut short.
    mutating func finish() throws -> HTTPClientResponse {
        if case .untilClose = state { return complete() }
        throw TransportError(started ? "connection closed in the middle of the response" : "connection closed before a response")
    }

    private mutating func advance() throws -> HTTPClientResponse? {
        if state == nil {
            guard try parseHead() else { return nil }
        }
        while true {
            switch state! {
            case .none:
                return complete()
            case .length(let remaining):
                let count = min(remaining, buffer.count - offset)
                body.append(contentsOf: buffer[offset..<offset + count])
                offset += count
                if count == remaining { return complete() }
                state = .length(remaining - count)
                return nil
            case .untilClose:
                guard body.count + buffer.count - offset <= maxBody else { throw TransportError("response body too large") }
                body.append(contentsOf: buffer[offset...])
                offset = buffer.count
                return nil
            case .chunkSize:
                guard let line = try takeLine() else { return nil }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") }
                guard !digits.isEmpty, digits.count <= 8, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
                else { throw TransportError("malformed chunk size") }
                guard body.count + size <= maxBody else { throw TransportError("response body too large") }
                state = size == 0 ? .trailers : .chunkData(size)
            case .chunkData(let remaining):
                let count = min(remaining, buffer.count - offset)
                body.append(contentsOf: buffer[offset..<offset + count])
                offset += count
                if count < remaining {
                    state = .chunkData(remaining - count)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard let line = try takeLine() else { return nil }
                guard line.isEmpty else { throw TransportError("malformed chunk end") }
                state = .chunkSize
            case .trailers:
                guard let line = try takeLine() else { return nil }
                if line.isEmpty { return complete() }
            }
        }
    }

    /// Status line and headers, once the blank line is here; chooses how the body is framed.
    private mutating func parseHead() throws -> Bool {
        guard let end = buffer.firstRange(of: [13, 10, 13, 10]) else {
            guard buffer.count <= Self.maxHead else { throw TransportError("response head too large") }
            return false
        }
        let lines = buffer[..<end.lowerBound].split(separator: 10, omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == 13 ? $0.dropLast() : $0, as: UTF8.self) }
        offset = end.upperBound
        let parts = lines[0].split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]), (100...999).contains(code) else {
            throw TransportError("malformed status line: \(lines[0].prefix(80))")
        }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw TransportError("malformed response header") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if (100..<200).contains(code) {
            // An interim answer (100 Continue): the real one follows.
            buffer.removeFirst(offset)
            offset = 0
            headers = [:]
            return try parseHead()
        }
        status = code
        keepAlive = parts[0] == "HTTP/1.1" ? headers["connection"]?.lowercased() != "close"
            : headers["connection"]?.lowercased() == "keep-alive"
        if !expectsBody || code == 204 || code == 304 {
            state = Body.none
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            state = .chunkSize
        } else if let text = headers["content-length"] {
            guard let length = Int(text), length >= 0 else { throw TransportError("malformed Content-Length") }
            guard length <= maxBody else { throw TransportError("response body too large") }
            state = .length(length)
        } else {
            state = .untilClose
            keepAlive = false
        }
        return true
    }

    private mutating func takeLine() throws -> ArraySlice<UInt8>? {
        guard let newline = buffer[offset...].firstIndex(of: 10) else {
            guard buffer.count - offset <= 4096 else { throw TransportError("chunk line too long") }
            return nil
        }
        var line = buffer[offset..<newline]
        if line.last == 13 { line = line.dropLast() }
        offset = newline + 1
        return line
    }

    private mutating func complete() -> HTTPClientResponse {
        let extra = buffer.count > offset
        let response = HTTPClientResponse(status: status, headers: headers, body: body, keepAlive: keepAlive && !extra)
        self = HTTPResponseParser(maxBody: maxBody, expectsBody: expectsBody)
        return response
    }
}

extension HTTPClientResponse {
    /// The body as a JSON object, when it is one.
    public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
}
