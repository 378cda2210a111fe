import Foundation
import Hub

/// A request body read as a JSON object, with typed field access that records what is wrong.
public struct JSONBody {
    public let object: [String: Any]

    public init(_ request: HTTPRequest) throws(APIError) {
        if request.body.isEmpty {
            object = [:]
            return
        }
        guard let value = try? JSONSerialization.jsonObject(with: Data(request.body)) else {
            throw APIError(.badRequest, code: "INVALID_JSON", message: "The body is not valid JSON",
                           details: [("body", ["Expected a JSON object."])])
        }
        guard let object = value as? [String: Any] else {
            throw APIError(.badRequest, code: "INVALID_JSON", message: "The body must be a JSON object",
                           details: [("body", ["Expected a JSON object."])])
        }
        self.object = object
    }

    public func has(_ name: String) -> Bool { object[name] != nil && !(object[name] is NSNull) }

    /// A string field; a present value of another type is recorded as an error.
    public func string(_ name: String, _ errors: inout FieldErrors, required: Bool = false, maxLength: Int = 1000)
        -> String?
    {
        guard let value = object[name], !(value is NSNull) else {
            if required { errors.add(name, "This field is required.") }
            return nil
        }
        guard let text = value as? String else {
            errors.add(name, "Must be a string.")
            return nil
        }
        if required && text.trimmingCharacters(in: .whitespaces).isEmpty {
            errors.add(name, "This field may not be blank.")
            return nil
        }
        if text.count > maxLength {
            errors.add(name, "Ensure this field has no more than \(maxLength) characters.")
            return nil
        }
        return text
    }

    public func bool(_ name: String, _ errors: inout FieldErrors) -> Bool? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, String(cString: number.objCType) == "c" else {
            errors.add(name, "Must be a boolean.")
            return nil
        }
        return number.boolValue
    }

    public func integer(_ name: String, _ errors: inout FieldErrors, required: Bool = false) -> Int64? {
        guard let value = object[name], !(value is NSNull) else {
            if required { errors.add(name, "This field is required.") }
            return nil
        }
        if let number = value as? NSNumber, String(cString: number.objCType) != "c",
           number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 9e15
        {
            return number.int64Value
        }
        errors.add(name, "A valid integer is required.")
        return nil
    }
}
