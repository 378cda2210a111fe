import Testing
@testable import NotifyDrivers

/// Replies from literal bytes, fed whole, one byte at a time and at every split, with one result.
@Suite struct SMTPReplyParserTests {
    private func parse(_ bytes: [UInt8], splits: [Int]) -> Result<[SMTPReply], TransportError> {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        var cursor = 0
        for end in splits + [bytes.count] where end >= cursor {
            let piece = Array(bytes[cursor..<end])
            cursor = end
            switch piece.withUnsafeBytes({ raw in Result { () throws(TransportError) in try parser.parse(raw) } }) {
            case .success(let more): replies += more
            case .failure(let error): return .failure(error)
            }
        }
        return .success(replies)
    }

    private func parseAtEverySplit(_ text: String) -> [SMTPReply]? {
        let bytes = Array(text.utf8)
        guard case .success(let whole) = parse(bytes, splits: []) else {
            for split in 0...bytes.count {
                if case .success = parse(bytes, splits: [split]) { Issue.record("split at \(split) accepted") }
            }
            return nil
        }
        for split in 0...bytes.count {
            guard case .success(let replies) = parse(bytes, splits: [split]) else { Issue.record("split \(split)"); continue }
            #expect(replies == whole, "split at \(split)")
        }
        guard case .success(let oneByOne) = parse(bytes, splits: Array(0...bytes.count)) else {
            Issue.record("one byte at a time")
            return nil
        }
        #expect(oneByOne == whole, "one byte at a time")
        return whole
    }

    @Test func repliesSingleAndMultiLine() {
        #expect(parseAtEverySplit("220 mail.test ESMTP ready\r\n") == [SMTPReply(code: 220, text: "mail.test ESMTP ready")])
        #expect(parseAtEverySplit("250-mail.test\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n")
            == [SMTPReply(code: 250, text: "mail.test\n8BITMIME\nAUTH PLAIN LOGIN")])
        #expect(parseAtEverySplit("354\r\n250 ok\n") == [SMTPReply(code: 354, text: ""), SMTPReply(code: 250, text: "ok")])
        #expect(parseAtEverySplit("451 4.7.1 try later\r\n221 bye\r\n")
            == [SMTPReply(code: 451, text: "4.7.1 try later"), SMTPReply(code: 221, text: "bye")])
        #expect(parseAtEverySplit("250 partial") == [], "no reply before its line ends")
    }

    @Test func malformedRepliesAreRefused() {
        for text in ["2x0 no\r\n", "25\r\n", "600 out of range\r\n", "250_odd separator\r\n", "250-a\r\n251 b\r\n",
                     "HTTP/1.1 200 OK\r\n", String(repeating: "2", count: SMTPReplyParser.maxLineBytes + 1)] {
            #expect(parseAtEverySplit(text) == nil, "\(text.prefix(40).debugDescription)")
        }
    }
}
