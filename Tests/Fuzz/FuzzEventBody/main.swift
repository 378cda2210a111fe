import Foundation
import FuzzSupport
import RESTBridge

// The events endpoints' validation (`POST /api/v1/events/` and `events/bulk/`): nothing may crash;
// an accepted event with recipients has a known type or its own texts (one without recipients exists
// for webhooks, any type), and its `data`, cut out of the body as posted, is the same JSON object the
// body's parse holds.
let parser = EventParser(catalogue: try! EventCatalogue.bundled())

Fuzzer.run { input in
    guard let body = try? JSONBody(bytes: Array(input)) else { return }
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

/// `data` (what is stored and pushed) parses to the object the request's parse held, or `{}`.
func requireSameData(_ text: String, _ parsed: Any?) {
    let stored = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? NSDictionary
    Fuzzer.require(stored != nil, "data is not a JSON object: \(text)")
    let expected = (parsed as? [String: Any]).map { $0 as NSDictionary } ?? NSDictionary()
    Fuzzer.require(stored == expected, "data \(text) differs from the parsed \(expected)")
}
