import FuzzSupport
import Hub

// HTTPParser reading requests, as the server drives it: nothing may crash, and the requests and the error
// read from a stream must not depend on how the stream was cut (whole, one byte at a time, at
// seeded random splits).
Fuzzer.run { input in
    let bytes = Array(input)
    let whole = readRequests([bytes])
    Fuzzer.requireSame(whole, readRequests(Splits.seeded(bytes)), "requests read at seeded splits")
    if bytes.count <= 2048 {
        Fuzzer.requireSame(whole, readRequests(Splits.oneByte(bytes)), "requests read one byte at a time")
    }
}

/// Each request the parser produced, then its error if any; small limits so that the 431 and
/// 413 paths are reachable with small inputs.
func readRequests(_ pieces: [[UInt8]]) -> [String] {
    var parser = HTTPParser(role: .request, limits: .init(maxHeaderBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 2048))
    var pending: [UInt8] = []
    var seen: [String] = []
    for piece in pieces {
        pending += piece
        while true {
            let (used, step) = pending.withUnsafeBytes { parser.parse($0) }
            Fuzzer.require(used >= 0 && used <= pending.count, "consumed \(used) of \(pending.count) bytes")
            pending.removeFirst(used)
            switch step {
            case .needMore:
                // Whether a 100 Continue is due depends on the split by design (not if the body came along).
                _ = parser.takeContinue()
                if used == 0 { break }
                continue
            case .request(let request):
                seen.append(describe(request))
                continue
            case .response(let response):
                Fuzzer.require(false, "a request parser produced a response: \(response)")
            case .error(let error):
                seen.append("error \(error)")
                return seen
            }
            break
        }
    }
    return seen
}

func describe(_ request: HTTPRequest) -> String {
    let headers = request.headers.fields.map { "\($0.name): \($0.value)" }.joined(separator: "|")
    return "\(request.method) \(request.target) \(request.version) [\(headers)] body=\(request.body) keepAlive=\(request.keepAlive)"
}
