import Testing
@testable import Hub

/// What a parse produced, in a comparable form (requests, responses and errors alike).
enum ParsedMessage: Equatable {
    case request(method: String, target: String, version: String, headers: [String], body: [UInt8], keepAlive: Bool)
    case response(status: Int, reason: String, version: String, headers: [String], body: [UInt8], keepAlive: Bool)
    case error(HTTPParseError)
}

/// SplitMix64: a seeded generator, so a failing random split can be replayed.
private struct HTTPSplitGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Feeds `input` in the given pieces, as a connection would (unconsumed bytes are kept and
/// re-offered with the next piece), and collects every message or error; `closeAtEnd` then
/// reports the peer's close (a response read until close ends there).
func parseAll(_ input: [UInt8], role: HTTPParser.Role = .request, limits: HTTPParser.Limits = .init(),
              splits: [Int], closeAtEnd: Bool = false) -> [ParsedMessage]
{
    var parser = HTTPParser(role: role, limits: limits)
    var outcomes: [ParsedMessage] = []
    var pending: [UInt8] = []
    var cursor = 0
    func record(_ step: HTTPParser.Step) -> Bool {
        switch step {
        case .needMore:
            return false
        case .request(let request):
            outcomes.append(.request(method: request.method.description, target: request.target,
                                     version: request.version.description,
                                     headers: request.headers.map { "\($0.name): \($0.value)" },
                                     body: request.body, keepAlive: request.keepAlive))
        case .response(let response):
            outcomes.append(.response(status: response.status, reason: response.reason,
                                      version: response.version.description,
                                      headers: response.headers.map { "\($0.name): \($0.value)" },
                                      body: response.body, keepAlive: response.keepAlive))
        case .error(let error):
            outcomes.append(.error(error))
        }
        return true
    }
    for end in splits + [input.count] where end >= cursor {
        pending.append(contentsOf: input[cursor..<end])
        cursor = end
        var progress = true
        while progress {
            let (used, step) = pending.withUnsafeBytes { parser.parse($0) }
            pending.removeFirst(used)
            if case .error = step { _ = record(step); return outcomes }
            progress = record(step) || used > 0
        }
    }
    if closeAtEnd {
        if !pending.isEmpty {
            outcomes.append(.error(.truncated))
        } else {
            _ = record(parser.finish())
        }
    }
    return outcomes
}

/// Parses `bytes` whole, then one byte at a time, at every single split, and at seeded random
/// splits, and expects one result from all of them; returns it.
@discardableResult
func parseAtEverySplit(_ bytes: [UInt8], role: HTTPParser.Role = .request, limits: HTTPParser.Limits = .init(),
                       closeAtEnd: Bool = false, seed: UInt64 = 15,
                       sourceLocation: SourceLocation = #_sourceLocation) -> [ParsedMessage]
{
    let whole = parseAll(bytes, role: role, limits: limits, splits: [], closeAtEnd: closeAtEnd)
    let oneByOne = parseAll(bytes, role: role, limits: limits, splits: Array(0...bytes.count), closeAtEnd: closeAtEnd)
    #expect(oneByOne == whole, "one byte at a time", sourceLocation: sourceLocation)
    for split in 0...bytes.count {
        let result = parseAll(bytes, role: role, limits: limits, splits: [split], closeAtEnd: closeAtEnd)
        #expect(result == whole, "split at \(split)", sourceLocation: sourceLocation)
    }
    var generator = HTTPSplitGenerator(seed: seed)
    for _ in 0..<20 {
        let cuts = (0..<4).map { _ in Int.random(in: 0...bytes.count, using: &generator) }.sorted()
        let result = parseAll(bytes, role: role, limits: limits, splits: cuts, closeAtEnd: closeAtEnd)
        #expect(result == whole, "seed \(seed), splits \(cuts)", sourceLocation: sourceLocation)
    }
    return whole
}
