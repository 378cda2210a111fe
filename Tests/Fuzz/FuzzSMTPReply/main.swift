import FuzzSupport
@testable import NotifyDrivers

// SMTPReplyParser, which reads every answer of an SMTP server on the delivery loop: nothing may
// crash, the replies (and the error) read from a stream must not depend on how it was cut, and each
// reply has a code from 200 to 559 and no more characters of text than the bytes that carried it.
Fuzzer.run { input in
    let bytes = Array(input)
    let whole = readReplies([bytes])
    Fuzzer.requireSame(whole, readReplies(Splits.seeded(bytes)), "replies read at seeded splits")
    Fuzzer.requireSame(whole, readReplies(Splits.oneByte(bytes)), "replies read one byte at a time")
}

func readReplies(_ pieces: [[UInt8]]) -> [String] {
    var parser = SMTPReplyParser()
    var seen: [String] = []
    var carried = 0
    do {
        for piece in pieces {
            carried += piece.count
            for reply in try piece.withUnsafeBytes({ try parser.parse($0) }) {
                Fuzzer.require((200...559).contains(reply.code), "reply code \(reply.code)")
                // Invalid UTF-8 becomes U+FFFD (three bytes for one), so count characters, not bytes.
                Fuzzer.require(reply.text.unicodeScalars.count <= carried, "reply text longer than the bytes that carried it")
                seen.append("\(reply)")
            }
        }
    } catch {
        // A call that throws drops the replies it completed before the fault (the connection is
        // failed anyway), so how many of those were seen depends on the split: only the error counts.
        return ["error \(error)"]
    }
    return seen
}
