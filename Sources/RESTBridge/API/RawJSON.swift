/// Byte ranges of values inside a JSON text that has already been parsed (and so is known to be
/// valid): an event's `data` is stored and pushed as the backend posted it, so it is cut out of
/// the body instead of being serialised again (re-encoding it was a tenth of hubd's time per event).
struct RawJSON {
    let bytes: [UInt8]

    /// The value of the last member named `key` of the object at `object` (top level only). When
    /// any key of the object is written with escapes (it might spell `key`), nil: callers fall
    /// back to re-encoding then.
    func member(_ key: String, in object: Range<Int>) -> Range<Int>? {
        let key = Array(key.utf8)
        var index = skipSpace(object.lowerBound)
        guard index < object.upperBound, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var found: Range<Int>?
        while true {
            index = skipSpace(index)
            guard index < object.upperBound, bytes[index] == UInt8(ascii: "\"") else { return found }
            let nameEnd = skipString(index)
            let name = bytes[(index + 1)..<(nameEnd - 1)]
            if name.contains(UInt8(ascii: "\\")) { return nil }
            index = skipSpace(nameEnd)
            guard index < object.upperBound, bytes[index] == UInt8(ascii: ":") else { return found }
            let valueStart = skipSpace(index + 1)
            let valueEnd = skipValue(valueStart)
            if name.elementsEqual(key) { found = valueStart..<valueEnd }
            index = skipSpace(valueEnd)
            guard index < object.upperBound, bytes[index] == UInt8(ascii: ",") else { return found }
            index += 1
        }
    }

    /// The ranges of the elements of the array at `array`.
    func elements(of array: Range<Int>) -> [Range<Int>] {
        var index = skipSpace(array.lowerBound)
        guard index < array.upperBound, bytes[index] == UInt8(ascii: "[") else { return [] }
        index = skipSpace(index + 1)
        var ranges: [Range<Int>] = []
        guard index < array.upperBound, bytes[index] != UInt8(ascii: "]") else { return [] }
        while index < array.upperBound {
            let end = skipValue(index)
            ranges.append(index..<end)
            index = skipSpace(end)
            guard index < array.upperBound, bytes[index] == UInt8(ascii: ",") else { break }
            index = skipSpace(index + 1)
        }
        return ranges
    }

    var whole: Range<Int> { 0..<bytes.count }

    private func skipSpace(_ start: Int) -> Int {
        var index = start
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
        return index
    }

    /// From an opening quote to just after the closing one.
    private func skipString(_ start: Int) -> Int {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return bytes.count
    }

    /// From the first byte of a value to just after it.
    private func skipValue(_ start: Int) -> Int {
        guard start < bytes.count else { return start }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return skipString(start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0, index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""): index = skipString(index); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
                index += 1
            }
            return bytes.count
        default:
            var index = start
            while index < bytes.count, !",}] \n\r\t".utf8.contains(bytes[index]) { index += 1 }
            return index
        }
    }
}
