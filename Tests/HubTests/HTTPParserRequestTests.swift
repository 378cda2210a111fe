import Testing
@testable import Hub

/// The codec in its request role (the server's side): literal byte vectors, each fed whole, one
/// byte at a time, at every split and at seeded random splits, giving one result.
private let validCorpus: [(String, Int)] = [
    ("GET /api/health/ HTTP/1.1\r\nHost: hub\r\n\r\n", 1),
    ("GET /a?x=1&y=%20 HTTP/1.1\r\nHost: hub\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n", 1),
    ("POST /api/v1/events/ HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"type\":\"x\"}\n", 1),
    ("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n", 1),
    ("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n", 1),
    ("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nPOST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nokGET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 4),
    ("GET /old HTTP/1.0\r\n\r\n", 1),
    ("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1),
    ("GET /lf HTTP/1.1\nHost: h\n\n", 1),
    ("\r\n\r\nGET /after-crlf HTTP/1.1\r\nHost: h\r\n\r\n", 1),
    ("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 1),
    ("GET http://hub.example:8000/abs?q=1 HTTP/1.1\r\nHost: hub.example\r\n\r\n", 1),
    ("PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", 1),
    ("GET /ar HTTP/1.1\r\nHost: h\r\nX-Name: \u{645}\u{62f}\u{631}\u{633}\u{629}\r\n\r\n", 1),
    ("POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody", 1),
]

@Suite struct HTTPParserRequestTests {
    @Test(arguments: validCorpus.indices)
    func sameResultAtEveryByteBoundary(_ index: Int) {
        let (text, expectedCount) = validCorpus[index]
        let whole = parseAtEverySplit(Array(text.utf8), seed: UInt64(index))
        #expect(whole.count == expectedCount)
        #expect(!whole.contains { if case .error = $0 { true } else { false } })
    }

    @Test func fieldsAreParsed() throws {
        let outcomes = parseAll(Array(validCorpus[5].0.utf8), splits: [])
        #expect(outcomes.map { if case .request(_, let target, _, _, _, _) = $0 { target } else { "" } } == ["/1", "/2", "/3", "/4"])
        guard case .request(let method, _, _, _, let body, _) = outcomes[2] else { Issue.record("no request"); return }
        #expect(method == "POST")
        #expect(body == Array("ok".utf8))
        guard case .request(_, _, _, _, _, let keepAlive) = outcomes[3] else { return }
        #expect(keepAlive == false)
    }

    @Test func chunkedBodyIsJoinedAndTrailersDropped() {
        guard case .request(_, _, _, _, let body, _) = parseAll(Array(validCorpus[3].0.utf8), splits: [])[0] else {
            Issue.record("no request"); return
        }
        #expect(String(decoding: body, as: UTF8.self) == "hello world")
    }

    @Test func keepAliveFollowsVersionAndConnectionHeader() {
        func keepAlive(_ text: String) -> Bool? {
            guard case .request(_, _, _, _, _, let value) = parseAll(Array(text.utf8), splits: []).first else { return nil }
            return value
        }
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == true)
    }

    @Test func absoluteFormBecomesPath() {
        guard case .request(_, let target, _, _, _, _) = parseAll(Array(validCorpus[11].0.utf8), splits: [])[0] else {
            Issue.record("no request"); return
        }
        #expect(target == "/abs?q=1")
    }

    static let errorCorpus: [(String, HTTPParseError)] = [
        ("GET /x\r\n\r\n", .invalidRequestLine),
        ("GET  /x HTTP/1.1\r\nHost: h\r\n\r\n", .invalidRequestLine),
        ("G@T /x HTTP/1.1\r\nHost: h\r\n\r\n", .invalidRequestLine),
        ("GET /x HTTP/2.0\r\nHost: h\r\n\r\n", .unsupportedVersion),
        ("GET /x HTTP/1.1x\r\nHost: h\r\n\r\n", .invalidRequestLine),
        ("GET x HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget),
        ("GET /x HTTP/1.1\r\nHost h\r\n\r\n", .invalidHeader),
        ("GET /x HTTP/1.1\r\nHost : h\r\n\r\n", .invalidHeader),
        ("GET /x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", .obsoleteLineFolding),
        ("GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tfolded\r\n\r\n", .obsoleteLineFolding),
        ("GET /x HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", .invalidHeader),
        ("GET /x HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n", .invalidHeader),
        ("GET /x HTTP/1.1\r\n\r\n", .missingHost),
        ("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .missingHost),
        ("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", .invalidContentLength),
        ("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
        ("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", .conflictingContentLength),
        ("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd", .conflictingContentLength),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", .conflictingFraming),
        ("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .conflictingFraming),
        ("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", .conflictingFraming),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .conflictingFraming),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", .conflictingFraming),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n", .invalidChunk),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX", .invalidChunk),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", .invalidChunk),
        ("POST /x HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n", .unsupportedExpectation),
        ("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", .bodyTooLarge),
        ("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFF\r\n", .bodyTooLarge),
    ]

    @Test(arguments: errorCorpus.indices)
    func malformedRequestsGetTheirError(_ index: Int) {
        let (text, error) = Self.errorCorpus[index]
        #expect(parseAtEverySplit(Array(text.utf8), seed: UInt64(index)) == [.error(error)], "\(text.debugDescription)")
    }

    @Test func headersOverTheLimitAre431EvenWithoutTheirEnd() {
        let big = "GET /x HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "a", count: 17 * 1024)
        #expect(parseAll(Array(big.utf8), splits: []) == [.error(.headersTooLarge)])
        let complete = big + "\r\n\r\n"
        #expect(parseAll(Array(complete.utf8), splits: [100, 5000]) == [.error(.headersTooLarge)])
        var manyHeaders = "GET /x HTTP/1.1\r\nHost: h\r\n"
        for index in 0..<101 { manyHeaders += "X-\(index): v\r\n" }
        #expect(parseAll(Array((manyHeaders + "\r\n").utf8), splits: []) == [.error(.headersTooLarge)])
    }

    @Test func chunkedBodyOverTheLimitIs413() {
        let limits = HTTPParser.Limits(maxBodyBytes: 10)
        let text = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"
        #expect(parseAtEverySplit(Array(text.utf8), limits: limits) == [.error(.bodyTooLarge)])
    }

    @Test func expectContinueIsReportedOnceBeforeTheBody() {
        var parser = HTTPParser(role: .request)
        let head = Array("POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n".utf8)
        let (used, step) = head.withUnsafeBytes { parser.parse($0) }
        #expect(used == head.count)
        guard case .needMore = step else { Issue.record("expected needMore"); return }
        let first = parser.takeContinue()
        let second = parser.takeContinue()
        #expect(first)
        #expect(!second)
    }
}
