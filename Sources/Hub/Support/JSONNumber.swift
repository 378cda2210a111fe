import Foundation

/// Reading numbers out of `JSONSerialization` results, where a JSON `true` and the number 1 both
/// arrive as NSNumber: one place decides which is which.
public enum JSONNumber {
    /// True for a JSON `true`/`false`.
    public static func isBool(_ value: Any?) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    public static func bool(_ value: Any?) -> Bool? {
        isBool(value) ? (value as? NSNumber)?.boolValue : nil
    }

    /// A whole number that fits (not a boolean, not a fraction); with `acceptingStrings`, also
    /// `"42"` (simplejwt writes `user_id` either way, clients send ids either way).
    public static func integer(_ value: Any?, acceptingStrings: Bool = false) -> Int64? {
        if let number = value as? NSNumber, !isBool(number) {
            switch String(cString: number.objCType) {
            case "q", "l", "i", "s":
                // Parsed as an integer: exact, whatever its size (a double would round past 2^53,
                // and ids that large were refused: found by FuzzClientMessage).
                return number.int64Value
            case "Q", "L", "I", "S":
                return number.uint64Value <= UInt64(Int64.max) ? Int64(number.uint64Value) : nil
            default:
                let double = number.doubleValue
                return double == double.rounded() && abs(double) < 9e15 ? Int64(double) : nil
            }
        }
        if acceptingStrings, let text = value as? String { return Int64(text) }
        return nil
    }

    /// A list of whole numbers, or nil if anything in it is not one.
    public static func integers(_ value: Any?) -> [Int64]? {
        guard let list = value as? [Any] else { return nil }
        let numbers = list.compactMap { integer($0) }
        return numbers.count == list.count ? numbers : nil
    }
}
