import Foundation
import Hub
import Testing
@testable import RESTBridge

/// JSONReader against Foundation's JSONSerialization as the judge: the same texts are valid, and
/// they read to equal values of the same kinds (a boolean stays a boolean, an id stays an integer).
@Suite struct JSONReaderTests {
    static let valid = [
        #"{}"#, #"[]"#, #" { "a" : [ 1 , 2 ] } "#, "\u{FEFF}{\"bom\": true}", #"{"a":{"b":{"c":[[],{}]}}}"#,
        #"{"t":true,"f":false,"n":null}"#, #"[0, -0, 7, -12, 1.5, -0.25, 5.0, 1e2, 1E+2, 2.5e-3, 0.1]"#,
        #"[9223372036854775807, 9223372036854775808, 18446744073709551615, -4503599627370496]"#,
        #"["", "plain", "é", "مرحبا", "😀", "tab\tnew\nline", "\"quoted\" \\ back\/slash", "\b\f\r"]"#,
        #"["\u0041\u00e9\u0645\ud83d\ude00", "\u0000 nul", "\uFFFF"]"#, #"{"a":1,"a":2}"#,
        #"{"events":[{"type":"system_alert","recipients":{"users":[5,6]},"data":{"message":"hi","n":3}}]}"#,
    ]

    static let invalid = [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "[1 2]", #"{"a" 1}"#, #"{a:1}"#, "01", "-", "1.", ".5", "+1",
        "1e", "1e+", "--1", "NaN", "Infinity", "nul", "tru", "[true false]", "{} x", #""unterminated"#,
        #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#, #""\ud83d\u0041""#, "\"tab\there\"", "\"line\nbreak\"",
        "1e400", "-1e400", "[" + String(repeating: "[", count: 600) + String(repeating: "]", count: 601),
    ]

    @Test(arguments: valid)
    func readsWhatJSONSerializationReads(_ text: String) throws {
        let expected = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let read = try JSONReader.parse(Array(text.utf8))
        #expect(Self.same(read, expected), "\(text): \(read) against \(expected)")
    }

    @Test(arguments: invalid)
    func refusesInvalidText(_ text: String) {
        #expect(throws: JSONReader.Invalid.self, "\(text)") { try JSONReader.parse(Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONReader.Invalid.self) { try JSONReader.parse(bytes) }
        }
    }

    /// Nesting up to the limit reads; one level more is refused before the stack could suffer.
    @Test func nestingIsBounded() throws {
        let depth = JSONReader.maxDepth
        let deepest = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try JSONReader.parse(Array(deepest.utf8)) is [Any])
        let tooDeep = "[" + deepest + "]"
        #expect(throws: JSONReader.Invalid.self) { try JSONReader.parse(Array(tooDeep.utf8)) }
    }

    /// The kinds the API's validation tells apart survive: JSONNumber reads them as before.
    @Test func numbersKeepTheirKinds() throws {
        let text = #"{"id":42,"big":9007199254740993,"low":-9223372036854775807,"yes":true,"half":0.5}"#
        let object = try #require(try JSONReader.parse(Array(text.utf8)) as? [String: Any])
        #expect(JSONNumber.integer(object["id"]) == 42)
        #expect(JSONNumber.integer(object["big"]) == 9_007_199_254_740_993)  // exact, past 2^53
        // Exact where JSONSerialization makes a decimal number of it, which JSONNumber refuses.
        #expect(JSONNumber.integer(object["low"]) == Int64.min + 1)
        #expect(JSONNumber.bool(object["yes"]) == true)
        #expect(JSONNumber.integer(object["yes"]) == nil)
        #expect(JSONNumber.integer(object["half"]) == nil)
        #expect(JSONNumber.bool(object["id"]) == nil)
        #expect(isJSONNull(try JSONReader.parse(Array("null".utf8))))
        #expect(!isJSONNull("null"))
        #expect(!isJSONNull(nil))
    }

    /// Equal values of the same kinds; numbers compare by kind (boolean, integer, fraction) and value.
    static func same(_ left: Any, _ right: Any) -> Bool {
        switch (left, right) {
        case (let left as [String: Any], let right as [String: Any]):
            return left.count == right.count
                && left.allSatisfy { key, value in right[key].map { same(value, $0) } ?? false }
        case (let left as [Any], let right as [Any]):
            return left.count == right.count && zip(left, right).allSatisfy { same($0, $1) }
        case (let left as String, let right as String):
            return left == right
        case (let left as NSNumber, let right as NSNumber):
            guard JSONNumber.isBool(left) == JSONNumber.isBool(right) else { return false }
            if JSONNumber.isBool(left) { return left.boolValue == right.boolValue }
            return JSONNumber.integer(left) == JSONNumber.integer(right) && left.doubleValue == right.doubleValue
        default:
            return isJSONNull(left) && isJSONNull(right)
        }
    }
}
