import FuzzSupport
@testable import NotifyDrivers

// The drivers' HTTPResponseParser: nothing may crash, and the response (or the failure) read from
// a stream must not depend on how the stream was cut. The first byte picks a HEAD request (no body
// expected) or not; the rest is the server's answer, ended by the peer closing.
Fuzzer.run { input in
    guard let first = input.first else { return }
    let bytes = Array(input.dropFirst())
    let expectsBody = first & 1 == 0
    let whole = readResponse([bytes], expectsBody: expectsBody)
    Fuzzer.requireSame(whole, readResponse(Splits.seeded(bytes), expectsBody: expectsBody), "response read at seeded splits")
    if bytes.count <= 2048 {
        Fuzzer.requireSame(whole, readResponse(Splits.oneByte(bytes), expectsBody: expectsBody),
                           "response read one byte at a time")
    }
}

/// Status, headers and body of the response, or "failed" (the message may name the byte where
/// the split noticed, so only the fact of failing is compared).
func readResponse(_ pieces: [[UInt8]], expectsBody: Bool) -> String {
    var parser = HTTPResponseParser(maxBody: 4096, expectsBody: expectsBody)
    do {
        for piece in pieces {
            if let response = try piece.withUnsafeBytes({ try parser.feed($0) }) { return describe(response) }
        }
        return describe(try parser.finish())
    } catch {
        return "failed"
    }
}

func describe(_ response: HTTPClientResponse) -> String {
    Fuzzer.require((100...999).contains(response.status), "status \(response.status)")
    Fuzzer.require(response.body.count <= 4096, "body of \(response.body.count) bytes over the limit")
    return "\(response.status) \(response.headers.sorted { $0.key < $1.key }) body=\(response.body)"
}
