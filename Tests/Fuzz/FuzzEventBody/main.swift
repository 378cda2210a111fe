import Foundation
import FuzzSupport
import Hub
import RESTBridge

// The events endpoints' validation (`POST /api/v1/events/` and `events/bulk/`): nothing may crash;
// an accepted event with recipients has a known type or its own texts (one without recipients exists
// for webhooks, any type), and its `data`, cut out of the body as posted, is the same JSON object the
// body's parse holds.
let parser = EventParser(catalogue: try! EventCatalogue.bundled())

Fuzzer.run { input in
    guard let body = try? JSONBody(bytes: Array(input)) else { return }
    requireFoundationReadsTheSame(Data(input), body.object)
    var errors = FieldErrors()
    if let event = parser.parse(body, &errors) {
        Fuzzer.require(errors.isEmpty, "an event was accepted with errors \(errors.fields)")
        Fuzzer.require(event.recipients.isEmpty || parser.catalogue.entries[event.type] != nil
                       || (body.has("title") && body.has("message")), "a notification with no type known and no texts")
        Fuzzer.require(!event.type.isEmpty && event.type.count <= 64, "type \(event.type)")
        requireSameData(event.data, body.object["data"])
    } else {
        Fuzzer.require(!errors.isEmpty, "an event was refused without a reason")
    }
    do throws(APIError) {
        let events = try parser.parseBulk(body)
        Fuzzer.require((1...EventParser.maxEventsPerRequest).contains(events.count), "\(events.count) events accepted")
        let list = body.object["events"] as? [Any] ?? []
        for (event, element) in zip(events, list) { requireSameData(event.data, (element as? [String: Any])?["data"]) }
    } catch {
        Fuzzer.require(error.status.code == 400 || error.status.code == 413, "bulk refused with \(error.status.code)")
    }
}

/// `data` (what is stored and pushed) parses to the object the request's parse held, or `{}`. It is
/// read by the hub's reader (judged against Foundation below) and compared as `sameJSON` does: Foundation
/// keeps a number past 64 bits as a decimal where the hub reads a double, so `NSDictionary` equality
/// would call the same text different.
func requireSameData(_ text: String, _ parsed: Any?) {
    let stored = try? JSONBody(bytes: Array(text.utf8)).object
    Fuzzer.require(stored != nil, "data is not a JSON object: \(text)")
    let expected = parsed as? [String: Any] ?? [:]
    Fuzzer.require(sameJSON(stored ?? [:], expected), "data \(text) differs from the parsed \(expected)")
}

/// The hub's JSON reader (behind JSONBody) against Foundation's JSONSerialization as the judge: what
/// the hub reads, Foundation reads to the same values. Foundation refuses only numbers too long for
/// its decimals (past about 38 digits), which the hub reads as doubles.
func requireFoundationReadsTheSame(_ input: Data, _ object: [String: Any]) {
    guard !input.isEmpty else { return }  // an empty body is an empty object, by design
    guard let foundation = (try? JSONSerialization.jsonObject(with: input)) as? [String: Any] else {
        var digits = 0, longest = 0
        for byte in input {
            digits = (48...57).contains(byte) ? digits + 1 : 0
            longest = max(longest, digits)
        }
        Fuzzer.require(longest > 38, "JSONSerialization refuses what the hub read: \(text(input))")
        return
    }
    Fuzzer.require(sameJSON(object, foundation), "JSONSerialization reads \(text(input)) otherwise")
}

func text(_ input: Data) -> String { String(decoding: input, as: UTF8.self) }

func sameJSON(_ left: Any, _ right: Any) -> Bool {
    switch (left, right) {
    case (let left as [String: Any], let right as [String: Any]):
        return left.count == right.count
            && left.allSatisfy { key, value in right[key].map { sameJSON(value, $0) } ?? false }
    case (let left as [Any], let right as [Any]):
        return left.count == right.count && zip(left, right).allSatisfy { sameJSON($0, $1) }
    case (let left as String, let right as String):
        return left == right
    case (let left as NSNumber, let right as NSNumber):
        // Booleans stay booleans; numbers agree to the last bits (Foundation keeps big ones as decimals).
        let (a, b) = (left.doubleValue, right.doubleValue)
        return JSONNumber.isBool(left) == JSONNumber.isBool(right) && abs(a - b) <= 1e-12 * max(1, abs(a))
    default:
        return left is NSNull && right is NSNull
    }
}
