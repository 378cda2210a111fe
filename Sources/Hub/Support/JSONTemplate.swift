/// JSON written once for many messages that differ only in a few integers: one event's
/// notification for every member of a room differs by its id and recipient. The bytes are
/// encoded once with holes (`JSONWriter.hole()`); each copy is the bytes with its integers
/// written in, a copy and a few digits instead
/// of an encoding.
public struct JSONTemplate: Sendable {
    public let bytes: [UInt8]
    /// Byte offsets of the holes, ascending.
    public let holes: [Int]

    public init(_ json: JSONWriter) {
        bytes = json.bytes
        holes = json.holes
    }

    /// The JSON with `value(i)` in hole `i` (nil writes `null`).
    public func filled(_ value: (Int) -> Int64?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 20 * holes.count)
        var start = 0
        for (index, offset) in holes.enumerated() {
            out.append(contentsOf: bytes[start..<offset])
            if let number = value(index) { out.append(contentsOf: String(number).utf8) } else { out.append(contentsOf: "null".utf8) }
            start = offset
        }
        out.append(contentsOf: bytes[start...])
        return out
    }
}
