import Foundation

/// Parses a JSON text (RFC 8259, UTF-8), a request body or a token's claims, into the values
/// `JSONSerialization` gives: `[String: Any]`, `[Any]`, `String`, `NSNumber` (booleans too),
/// `NSNull`. It builds Swift dictionaries, arrays and strings: `JSONSerialization` builds Foundation
/// objects, which every `as? String` and `as? [String: Any]` of the validation then bridges back.
/// That was most of the 1.3-2.3 ms a bulk request of 100 events spent in parsing (perf).
///
/// Stricter than `JSONSerialization` where the RFC is: no trailing commas (Python's `json`, which
/// the platforms' Django backends use, refuses them too), no nesting deeper than `maxDepth`.
/// The last of two members with the same name wins, as there (and as in `RawJSON.member`).
enum JSONReader {
    struct Invalid: Error {}

    static let maxDepth = 512

    static func parse(_ bytes: [UInt8]) throws(Invalid) -> Any {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Invalid) -> Any in
            var cursor = Cursor(bytes: buffer)
            // A UTF-8 byte order mark is skipped, as JSONSerialization does.
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { cursor.index = 3 }
            let value = try cursor.value(depth: 0)
            cursor.skipSpace()
            guard cursor.index == buffer.count else { throw Invalid() }
            return value
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Invalid) -> Any {
            skipSpace()
            guard index < bytes.count else { throw Invalid() }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "t"): try literal("true"); return NSNumber(value: true)
            case UInt8(ascii: "f"): try literal("false"); return NSNumber(value: false)
            case UInt8(ascii: "n"): try literal("null"); return NSNull()
            default: return try number()
            }
        }

        private mutating func object(depth: Int) throws(Invalid) -> [String: Any] {
            guard depth <= JSONReader.maxDepth else { throw Invalid() }
            index += 1
            var object: [String: Any] = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return object
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Invalid() }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Invalid() }
                index += 1
                object[key] = try value(depth: depth)
                skipSpace()
                guard index < bytes.count else { throw Invalid() }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return object
                }
                guard bytes[index] == UInt8(ascii: ",") else { throw Invalid() }
                index += 1
            }
        }

        private mutating func array(depth: Int) throws(Invalid) -> [Any] {
            guard depth <= JSONReader.maxDepth else { throw Invalid() }
            index += 1
            var array: [Any] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return array
            }
            while true {
                array.append(try value(depth: depth))
                skipSpace()
                guard index < bytes.count else { throw Invalid() }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return array
                }
                guard bytes[index] == UInt8(ascii: ",") else { throw Invalid() }
                index += 1
            }
        }

        private mutating func literal(_ word: StaticString) throws(Invalid) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw Invalid() }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw Invalid() }
            index += count
        }

        /// From the opening quote; escapes decoded, the UTF-8 validated.
        private mutating func string() throws(Invalid) -> String {
            index += 1
            let start = index
            // Most strings have no escapes: their bytes are the string.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    defer { index += 1 }
                    return try text(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw Invalid() }
                index += 1
            }
            var decoded = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return try decoded.withUnsafeBufferPointer { (buffer) throws(Invalid) -> String in
                        try text(buffer)
                    }
                case UInt8(ascii: "\\"):
                    try escape(into: &decoded)
                case 0..<0x20:
                    throw Invalid()
                default:
                    decoded.append(byte)
                    index += 1
                }
            }
            throw Invalid()
        }

        private func text(_ utf8: UnsafeBufferPointer<UInt8>) throws(Invalid) -> String {
            guard let text = String(validating: utf8, as: UTF8.self) else { throw Invalid() }
            return text
        }

        /// At a backslash: appends what the escape stands for, as UTF-8.
        private mutating func escape(into decoded: inout [UInt8]) throws(Invalid) {
            guard index + 1 < bytes.count else { throw Invalid() }
            let letter = bytes[index + 1]
            index += 2
            switch letter {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(letter)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(try hex4())
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                          bytes[index + 1] == UInt8(ascii: "u")
                    else { throw Invalid() }
                    index += 2
                    let low = UInt32(try hex4())
                    guard (0xDC00..<0xE000).contains(low) else { throw Invalid() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Invalid() }
                decoded.append(contentsOf: UTF8.encode(unicode)!)
            default:
                throw Invalid()
            }
        }

        private mutating func hex4() throws(Invalid) -> UInt16 {
            guard index + 4 <= bytes.count else { throw Invalid() }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Invalid()
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`: a whole number as an integer when it fits
        /// 64 bits (exact, as ids must be), otherwise a double; a double that overflows is refused.
        private mutating func number() throws(Invalid) -> NSNumber {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw Invalid() }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            var whole = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                whole = false
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw Invalid() }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                whole = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard index < bytes.count, isDigit(bytes[index]) else { throw Invalid() }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if whole {
                if let integer = Int64(literal) { return NSNumber(value: integer) }
                if let unsigned = UInt64(literal) { return NSNumber(value: unsigned) }
            }
            guard let double = Double(literal), double.isFinite else { throw Invalid() }
            return NSNumber(value: double)
        }

        private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
