import Foundation
import Testing
@testable import RESTBridge

@Suite struct RawJSONTests {
    private func text(_ raw: RawJSON, _ range: Range<Int>?) -> String? {
        range.map { String(decoding: raw.bytes[$0], as: UTF8.self) }
    }

    @Test func membersAreCutOutExactlyWhateverTheyHoldInside() {
        let body = #" { "type" : "x", "data" : {"a": "}\"{", "b": [1, {"c": "]"}], "d": null} , "n": -1.5e3, "data2": 7 } "#
        let raw = RawJSON(bytes: Array(body.utf8))
        #expect(text(raw, raw.member("data", in: raw.whole)) == #"{"a": "}\"{", "b": [1, {"c": "]"}], "d": null}"#)
        #expect(text(raw, raw.member("n", in: raw.whole)) == "-1.5e3")
        #expect(text(raw, raw.member("type", in: raw.whole)) == #""x""#)
        #expect(text(raw, raw.member("data2", in: raw.whole)) == "7")
        #expect(raw.member("a", in: raw.whole) == nil, "only top-level members")
        #expect(raw.member("missing", in: raw.whole) == nil)
    }

    @Test func theLastOfTwoEqualKeysWinsAsInTheParsedObject() throws {
        let body = #"{"data": {"v": 1}, "data": {"v": 2}}"#
        let raw = RawJSON(bytes: Array(body.utf8))
        let parsed = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
        #expect(text(raw, raw.member("data", in: raw.whole)) == #"{"v": 2}"#)
        #expect((parsed["data"] as? [String: Any])?["v"] as? Int == 2)
    }

    @Test func elementsOfAListAndTheirMembers() {
        let body = #"{"events": [ {"data": {"i": 0}}, {"type": "t", "data": {"i": [1]}} ,{} ], "x": []}"#
        let raw = RawJSON(bytes: Array(body.utf8))
        let elements = raw.elements(of: raw.member("events", in: raw.whole)!)
        #expect(elements.count == 3)
        #expect(elements.map { text(raw, raw.member("data", in: $0)) } == [#"{"i": 0}"#, #"{"i": [1]}"#, nil])
        #expect(raw.elements(of: raw.member("x", in: raw.whole)!).isEmpty)
    }

    @Test func anEscapedKeyAnywhereInTheObjectMeansTheCallerReencodes() {
        let raw = RawJSON(bytes: Array(#"{"d\u0061ta": {"v": 1}}"#.utf8))
        #expect(raw.member("data", in: raw.whole) == nil)
        // The escaped key spells "data" and comes last, so it is the one the parsed object holds.
        let twice = RawJSON(bytes: Array(#"{"data": {"v": 1}, "d\u0061ta": {"v": 2}}"#.utf8))
        #expect(twice.member("data", in: twice.whole) == nil)
    }
}
