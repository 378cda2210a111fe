/// A parsed query string (`a=1&b=x%20y`): percent-decoded, `+` read as a space, order kept.
public struct QueryParameters: Sendable {
    public let pairs: [(name: String, value: String)]

    public init(_ raw: String) {
        var pairs: [(String, String)] = []
        for part in raw.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            if let equals = part.firstIndex(of: UInt8(ascii: "=")) {
                pairs.append((PercentDecoding.decode(part[part.startIndex..<equals], plusAsSpace: true),
                              PercentDecoding.decode(part[part.index(after: equals)...], plusAsSpace: true)))
            } else {
                pairs.append((PercentDecoding.decode(part[...], plusAsSpace: true), ""))
            }
        }
        self.pairs = pairs
    }

    /// The last value given for `name`.
    public subscript(_ name: String) -> String? {
        pairs.last { $0.name == name }?.value
    }

    public func all(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }
}

public enum PercentDecoding {
    /// Decodes `%XX` escapes; a malformed escape is kept literally. Invalid UTF-8 becomes U+FFFD.
    public static func decode<C: Collection>(_ bytes: C, plusAsSpace: Bool) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                if first != bytes.endIndex {
                    let second = bytes.index(after: first)
                    if second != bytes.endIndex, let high = hexValue(bytes[first]), let low = hexValue(bytes[second]) {
                        out.append(high << 4 | low)
                        index = bytes.index(after: second)
                        continue
                    }
                }
                out.append(byte)
            } else if byte == UInt8(ascii: "+") && plusAsSpace {
                out.append(0x20)
            } else {
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> String { decode(text.utf8, plusAsSpace: false) }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
