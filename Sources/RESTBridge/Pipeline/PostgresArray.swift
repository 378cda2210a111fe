/// Array literals for `$n::bigint[]` and `$n::text[]` parameters: one statement takes a whole
/// list (a room's members, a page of ids) instead of a round trip per element.
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
}
