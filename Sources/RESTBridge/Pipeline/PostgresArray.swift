/// PostgreSQL's one-dimensional array text, both ways: literals for `$n::bigint[]` and
/// `$n::text[]` parameters (one statement takes a whole list, a room's members or a page of ids,
/// instead of a round trip per element), and `array_agg` answers read back (one row for ten
/// thousand values).
public enum PostgresArray {
    public static func bigint(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }

    /// Every element double-quoted, with `\` and `"` escaped, so any text is one element.
    public static func text(_ values: [String]) -> String {
        var out = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for character in value.unicodeScalars {
                if character == "\\" || character == "\"" { out += "\\" }
                out.unicodeScalars.append(character)
            }
            out += "\""
        }
        return out + "}"
    }

    /// The elements of an array's text output (`{1,NULL,"a,b","say \"hi\""}`), NULL as nil.
    /// PostgreSQL quotes an element that is empty, is `NULL` as text, or holds a delimiter,
    /// brace, quote, backslash or space; only an unquoted `NULL` is the null value. nil for a
    /// text that is not an array.
    public static func elements(_ text: String) -> [String?]? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        guard bytes.count > 2 else { return [] }
        var elements: [String?] = []
        var index = 1
        while true {
            var element: [UInt8] = []
            var quoted = false
            if bytes[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while index < bytes.count - 1, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < bytes.count - 1 else { return nil }
                    element.append(bytes[index])
                    index += 1
                }
                guard index < bytes.count - 1 else { return nil }
                index += 1
            } else {
                while index < bytes.count - 1, bytes[index] != UInt8(ascii: ",") {
                    element.append(bytes[index])
                    index += 1
                }
            }
            let isNull = !quoted && element == Array("NULL".utf8)
            elements.append(isNull ? nil : String(decoding: element, as: UTF8.self))
            if index == bytes.count - 1 { return elements }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
    }

    /// The elements of a `bigint[]`'s text output; NULL as nil. nil for anything else.
    public static func integers(_ text: String) -> [Int64?]? {
        guard let elements = elements(text) else { return nil }
        var values: [Int64?] = []
        values.reserveCapacity(elements.count)
        for element in elements {
            guard let element else {
                values.append(nil)
                continue
            }
            guard let value = Int64(element) else { return nil }
            values.append(value)
        }
        return values
    }
}
