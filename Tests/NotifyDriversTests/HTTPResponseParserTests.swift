import Testing
@testable import NotifyDrivers

@Suite struct HTTPResponseParserTests {
    /// Feeds `text` split at `split` (and one byte at a time when split is nil); the first response.
    private func parse(_ text: String, split: Int? = nil, expectsBody: Bool = true, maxBody: Int = 1 << 20,
                       closeAtEnd: Bool = false) throws -> HTTPClientResponse?
    {
        var parser = HTTPResponseParser(maxBody: maxBody, expectsBody: expectsBody)
        let bytes = Array(text.utf8)
        let pieces: [ArraySlice<UInt8>] = split.map { [bytes[..<$0], bytes[$0...]] } ?? bytes.indices.map { bytes[$0...$0] }
        for piece in pieces {
            if let response = try Array(piece).withUnsafeBytes({ try parser.feed($0) }) { return response }
        }
        return closeAtEnd ? try parser.finish() : nil
    }

    static let samples: [(String, Int, String, Bool)] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello", true),
        ("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n",
         201, "hello world", true),
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", true),
        ("HTTP/1.1 204 No Content\r\n\r\n", 204, "", true),
        ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye", 200, "bye", false),
        ("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", 200, "old", false),
    ]

    @Test func everySampleAtEverySplitAndOneByteAtATime() throws {
        for (text, status, body, keepAlive) in Self.samples {
            for split in [nil] + Array(1..<text.utf8.count) {
                let response = try #require(try parse(text, split: split), "\(text) split at \(String(describing: split))")
                #expect(response.status == status)
                #expect(String(decoding: response.body, as: UTF8.self) == body)
                #expect(response.keepAlive == keepAlive)
            }
        }
    }

    @Test func bodyUntilCloseEndsWithTheConnection() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed to the end"
        #expect(try parse(text) == nil)
        let response = try #require(try parse(text, closeAtEnd: true))
        #expect(String(decoding: response.body, as: UTF8.self) == "streamed to the end")
        #expect(!response.keepAlive)
    }

    @Test func headAnswersHaveNoBodyDespiteContentLength() throws {
        let response = try #require(try parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", split: 5, expectsBody: false))
        #expect(response.body.isEmpty && response.headers["content-length"] == "99")
    }

    @Test func extraBytesAfterTheResponseEndKeepAlive() throws {
        let response = try #require(try parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naGARBAGE", split: 10))
        #expect(!response.keepAlive)
    }

    @Test func refusesWhatIsMalformedOrTooLarge() {
        let bad = [
            "HTTP/2 200 OK\r\n\r\n",
            "SMTP 200 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 abc OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n",
        ]
        for text in bad {
            #expect(throws: TransportError.self, "\(text)") { try parse(text, split: 3, maxBody: 10) }
        }
        let endless = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: HTTPResponseParser.maxHead + 10)
        #expect(throws: TransportError.self) { try parse(endless, split: 100) }
    }

    @Test func aCutShortResponseIsAnErrorAtClose() throws {
        var parser = HTTPResponseParser(maxBody: 100)
        _ = try Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8).withUnsafeBytes { try parser.feed($0) }
        #expect(parser.started)
        #expect(throws: TransportError.self) { try parser.finish() }
    }
}
