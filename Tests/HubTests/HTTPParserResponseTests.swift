import Testing
@testable import Hub

/// The codec in its response role (the drivers' client, loadtest), and the framing rules that
/// requests and responses share. Every vector is fed whole, one byte at a time, at every split and
/// at seeded random splits, and must give one result.
@Suite struct HTTPParserResponseTests {
    private static let client = HTTPParser.Role.response(toHEAD: false)

    static let samples: [(String, ParsedMessage)] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
         .response(status: 200, reason: "OK", version: "HTTP/1.1", headers: ["Content-Length: 5"], body: Array("hello".utf8),
                   keepAlive: true)),
        ("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n",
         .response(status: 201, reason: "Created", version: "HTTP/1.1", headers: ["Transfer-Encoding: chunked"],
                   body: Array("hello world".utf8), keepAlive: true)),
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         .response(status: 200, reason: "OK", version: "HTTP/1.1", headers: ["Content-Length: 2"], body: Array("ok".utf8),
                   keepAlive: true)),
        ("HTTP/1.1 204 No Content\r\n\r\n",
         .response(status: 204, reason: "No Content", version: "HTTP/1.1", headers: [], body: [], keepAlive: true)),
        ("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
         .response(status: 304, reason: "Not Modified", version: "HTTP/1.1", headers: ["Content-Length: 10"], body: [],
                   keepAlive: true)),
        ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
         .response(status: 200, reason: "OK", version: "HTTP/1.1", headers: ["Connection: close", "Content-Length: 3"],
                   body: Array("bye".utf8), keepAlive: false)),
        ("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold",
         .response(status: 200, reason: "OK", version: "HTTP/1.0", headers: ["Content-Length: 3"], body: Array("old".utf8),
                   keepAlive: false)),
        ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
         .response(status: 200, reason: "OK", version: "HTTP/1.0", headers: ["Connection: keep-alive", "Content-Length: 0"],
                   body: [], keepAlive: true)),
        ("HTTP/1.1 429 \r\nRetry-After: 30\r\nRetry-After: 60\r\nContent-Length: 0\r\n\r\n",
         .response(status: 429, reason: "", version: "HTTP/1.1",
                   headers: ["Retry-After: 30", "Retry-After: 60", "Content-Length: 0"], body: [], keepAlive: true)),
        ("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
         .response(status: 200, reason: "", version: "HTTP/1.1", headers: ["Content-Length: 0"], body: [], keepAlive: true)),
    ]

    @Test(arguments: samples.indices)
    func everySampleGivesOneResponseAtEverySplit(_ index: Int) {
        let (text, expected) = Self.samples[index]
        #expect(parseAtEverySplit(Array(text.utf8), role: Self.client, seed: UInt64(index)) == [expected])
    }

    @Test func repeatedHeadersKeepEveryValue() throws {
        var reader = HTTPResponseReader(limits: .init())
        let bytes = Array("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n".utf8)
        let response = try #require(try bytes.withUnsafeBytes { try reader.read($0) })
        #expect(response.headers.values("Set-Cookie") == ["a=1", "b=2"])
        #expect(response.headers["SET-COOKIE"] == "a=1")
    }

    @Test func bodyUntilCloseEndsWithTheConnection() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed to the end"
        #expect(parseAtEverySplit(Array(text.utf8), role: Self.client).isEmpty)
        #expect(parseAtEverySplit(Array(text.utf8), role: Self.client, closeAtEnd: true) == [
            .response(status: 200, reason: "OK", version: "HTTP/1.1", headers: ["Content-Type: text/plain"],
                      body: Array("streamed to the end".utf8), keepAlive: false),
        ])
    }

    @Test func headAnswersHaveNoBodyDespiteContentLength() {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
        #expect(parseAtEverySplit(Array(text.utf8), role: .response(toHEAD: true)) == [
            .response(status: 200, reason: "OK", version: "HTTP/1.1", headers: ["Content-Length: 99"], body: [],
                      keepAlive: true),
        ])
    }

    @Test func switchingProtocolsEndsTheHeadAndLeavesTheFramesAlone() throws {
        let bytes = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
            + [0x81, 0x02, 0x68, 0x69]
        for split in 1..<bytes.count {
            var reader = HTTPResponseReader(limits: .init())
            let first = try bytes[..<split].withUnsafeBytes { try reader.read($0) }
            let response = try #require(try first ?? bytes[split...].withUnsafeBytes { try reader.read($0) })
            #expect(response.status == 101)
            let expected: [UInt8] = [0x81, 0x02, 0x68, 0x69]
            let leftover = first == nil ? reader.leftover : reader.leftover + bytes[split...]
            #expect(leftover == expected, "split at \(split)")
        }
    }

    @Test func aResponseCutShortIsTruncatedAtClose() {
        for text in ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "HTTP/1.1 200 OK\r\nContent-Len",
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"] {
            #expect(parseAtEverySplit(Array(text.utf8), role: Self.client, closeAtEnd: true) == [.error(.truncated)])
        }
        var reader = HTTPResponseReader(limits: .init())
        #expect(!reader.started)
        #expect(throws: HTTPParseError.truncated) { try reader.finish() }
    }

    static let errorCorpus: [(String, HTTPParseError)] = [
        ("HTTP/2 200 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion),
        ("SMTP 200 OK\r\nContent-Length: 0\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 abc OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 099 Low\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 200OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", .invalidHeader),
        ("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n", .bodyTooLarge),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .conflictingFraming),
    ]

    @Test(arguments: errorCorpus.indices)
    func malformedResponsesGetTheirError(_ index: Int) {
        let (text, error) = Self.errorCorpus[index]
        let limits = HTTPParser.Limits(maxBodyBytes: 10)
        #expect(parseAtEverySplit(Array(text.utf8), role: Self.client, limits: limits, seed: UInt64(index))
            == [.error(error)], "\(text.debugDescription)")
    }

    /// Header blocks that smuggle a second message, refused the same way in both directions.
    static let smuggling: [(String, HTTPParseError)] = [
        ("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", .conflictingFraming),
        ("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", .conflictingFraming),
        ("Transfer-Encoding: chunked, chunked\r\n", .conflictingFraming),
        ("Content-Length: 3\r\nContent-Length: 4\r\n", .conflictingContentLength),
        ("Content-Length: 3,4\r\n", .conflictingContentLength),
        ("Content-Length: 3\r\n  4\r\n", .obsoleteLineFolding),
        ("X-Note: a\r\n\tfolded\r\n", .obsoleteLineFolding),
        ("Content-Length : 3\r\n", .invalidHeader),
        ("Content-Length: 3\rX: y\r\n", .invalidHeader),
    ]

    @Test(arguments: smuggling.indices)
    func smugglingRulesApplyToRequestsAndResponsesAlike(_ index: Int) {
        let (fields, error) = Self.smuggling[index]
        let request = "POST /x HTTP/1.1\r\nHost: h\r\n" + fields + "\r\nabcd"
        let response = "HTTP/1.1 200 OK\r\n" + fields + "\r\nabcd"
        #expect(parseAtEverySplit(Array(request.utf8), seed: UInt64(index)) == [.error(error)], "request")
        #expect(parseAtEverySplit(Array(response.utf8), role: Self.client, seed: UInt64(index)) == [.error(error)],
                "response")
    }

    @Test func responseHeadsOverTheLimitAreRefusedBeforeTheirEnd() {
        let limits = HTTPParser.Limits(maxHeaderBytes: 64 * 1024)
        let endless = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 64 * 1024 + 10)
        #expect(parseAll(Array(endless.utf8), role: Self.client, limits: limits, splits: [100, 30_000])
            == [.error(.headersTooLarge)])
    }

    @Test func keptAliveResponsesFollowOneAnother() {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 204 No Content\r\n\r\n"
        let results = parseAtEverySplit(Array(text.utf8), role: Self.client)
        #expect(results.map { if case .response(let status, _, _, _, _, _) = $0 { status } else { 0 } } == [200, 204])
    }
}
