import FuzzSupport
import Hub

// HTTPResponseReader (HTTPParser reading responses), as the drivers' client drives it: nothing may
// crash, and the response or the error read from a stream must not depend on how the stream was
// cut. The first byte says whether the request was HEAD (no body); the rest is the server's answer,
// ended by the server closing.
Fuzzer.run { input in
    guard let first = input.first else { return }
    let bytes = Array(input.dropFirst())
    let toHEAD = first & 1 == 1
    let whole = readResponse([bytes], toHEAD: toHEAD)
    Fuzzer.requireSame(whole, readResponse(Splits.seeded(bytes), toHEAD: toHEAD), "response read at seeded splits")
    if bytes.count <= 2048 {
        Fuzzer.requireSame(whole, readResponse(Splits.oneByte(bytes), toHEAD: toHEAD), "response read one byte at a time")
    }
}

/// The response (status, headers, body), or the error; small limits so that every limit is reachable.
func readResponse(_ pieces: [[UInt8]], toHEAD: Bool) -> String {
    var reader = HTTPResponseReader(limits: .init(maxHeaderBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 2048),
                                    toHEAD: toHEAD)
    do {
        for piece in pieces {
            if let response = try piece.withUnsafeBytes({ try reader.read($0) }) { return describe(response) }
        }
        return describe(try reader.finish())
    } catch {
        return "error \(error)"
    }
}

func describe(_ response: HTTPClientResponse) -> String {
    Fuzzer.require((100...999).contains(response.status), "status \(response.status)")
    Fuzzer.require(response.body.count <= 2048, "body of \(response.body.count) bytes over the limit")
    let headers = response.headers.fields.map { "\($0.name): \($0.value)" }.joined(separator: "|")
    return "\(response.version) \(response.status) [\(headers)] body=\(response.body) keepAlive=\(response.keepAlive)"
}
