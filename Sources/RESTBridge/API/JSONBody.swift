import Foundation
import Hub

/// A request body read as a JSON object, with typed field access that records what is wrong.
public struct JSONBody {
    public let object: [String: Any]
    /// Put before every field name in errors: `events[3].` for an event of a bulk request.
    public var fieldPrefix = ""
    /// The text the object was parsed from, and where the object lies in it (when known).
    private var raw: RawJSON?
    private var range: Range<Int> = 0..<0

    /// A nested object (an element of a list), its errors named under `fieldPrefix`.
    public init(object: [String: Any], fieldPrefix: String) {
        self.object = object
        self.fieldPrefix = fieldPrefix
    }

    /// The object of `member`, with its own text range (an element of `events`, say).
    func nested(_ object: [String: Any], at range: Range<Int>?, fieldPrefix: String) -> JSONBody {
        var body = JSONBody(object: object, fieldPrefix: fieldPrefix)
        if let raw, let range {
            body.raw = raw
            body.range = range
        }
        return body
    }

    /// The text of a member's value exactly as it was sent, when it can be cut out of the body.
    func rawText(_ name: String) -> String? {
        guard let raw, let value = raw.member(name, in: range) else { return nil }
        return String(decoding: raw.bytes[value], as: UTF8.self)
    }

    /// The text ranges of the elements of the list `name`, in order, when they can be found.
    func rawElements(_ name: String) -> [Range<Int>]? {
        guard let raw, let list = raw.member(name, in: range) else { return nil }
        return raw.elements(of: list)
    }

    public init(_ request: HTTPRequest) throws(APIError) {
        try self.init(bytes: request.body)
    }

    /// A JSON object's text (an empty body is an empty object).
    public init(bytes: [UInt8]) throws(APIError) {
        if bytes.isEmpty {
            object = [:]
            return
        }
        guard let value = try? JSONReader.parse(bytes) else {
            throw APIError(.badRequest, code: "INVALID_JSON", message: "The body is not valid JSON",
                           details: [("body", ["Expected a JSON object."])])
        }
        guard let object = value as? [String: Any] else {
            throw APIError(.badRequest, code: "INVALID_JSON", message: "The body must be a JSON object",
                           details: [("body", ["Expected a JSON object."])])
        }
        self.object = object
        raw = RawJSON(bytes: bytes)
        range = 0..<bytes.count
    }

    public func has(_ name: String) -> Bool { object[name] != nil && !isJSONNull(object[name]) }

    /// A string field; a present value of another type is recorded as an error.
    public func string(_ name: String, _ errors: inout FieldErrors, required: Bool = false, maxLength: Int = 1000)
        -> String?
    {
        guard let value = object[name], !isJSONNull(value) else {
            if required { errors.add(fieldPrefix + name, "This field is required.") }
            return nil
        }
        guard let text = value as? String else {
            errors.add(fieldPrefix + name, "Must be a string.")
            return nil
        }
        // Blank as Django REST framework's CharField (stripped of whitespace, new lines too); stops at
        // the first other character (Foundation's trimming copied every string on the event path).
        if required && text.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            errors.add(fieldPrefix + name, "This field may not be blank.")
            return nil
        }
        // Characters are never more than UTF-8 bytes: most strings need no count of characters.
        if text.utf8.count > maxLength && text.count > maxLength {
            errors.add(fieldPrefix + name, "Ensure this field has no more than \(maxLength) characters.")
            return nil
        }
        return text
    }

    public func bool(_ name: String, _ errors: inout FieldErrors) -> Bool? {
        guard let value = object[name], !isJSONNull(value) else { return nil }
        guard let flag = JSONNumber.bool(value) else {
            errors.add(fieldPrefix + name, "Must be a boolean.")
            return nil
        }
        return flag
    }

    public func integer(_ name: String, _ errors: inout FieldErrors, required: Bool = false) -> Int64? {
        guard let value = object[name], !isJSONNull(value) else {
            if required { errors.add(fieldPrefix + name, "This field is required.") }
            return nil
        }
        guard let number = JSONNumber.integer(value) else {
            errors.add(fieldPrefix + name, "A valid integer is required.")
            return nil
        }
        return number
    }

    /// A list of whole numbers, at most `maxCount`; `message` names what is wrong otherwise.
    public func integers(_ name: String, _ errors: inout FieldErrors, maxCount: Int, required: Bool = true,
                         message: String) -> [Int64]
    {
        guard let value = object[name], !isJSONNull(value) else {
            if required { errors.add(fieldPrefix + name, message) }
            return []
        }
        guard let ids = JSONNumber.integers(value), ids.count <= maxCount, !(required && ids.isEmpty) else {
            errors.add(fieldPrefix + name, message)
            return []
        }
        return ids
    }
}

/// JSON `null` as parsed (`NSNull`), told by its type: `value is NSNull` on a Swift string, list or
/// object bridges it to a Foundation object first, a tenth of a bulk request's validation (perf).
func isJSONNull(_ value: Any?) -> Bool {
    guard let value else { return false }
    return type(of: value) == NSNull.self
}

/// A list as the API answers it: `{"count": n, "results": [...]}`.
func resultsJSON<Item>(_ items: [Item], bytesEach: Int = 300, _ write: (Item, inout JSONWriter) -> Void) -> [UInt8] {
    var json = JSONWriter(capacity: 128 + items.count * bytesEach)
    json.beginObject()
    json.field("count", items.count)
    json.key("results")
    json.beginArray()
    for item in items { write(item, &json) }
    json.endArray()
    json.endObject()
    return json.bytes
}
