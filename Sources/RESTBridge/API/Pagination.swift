import Hub

/// DRF's `PageNumberPagination` as the seeds show it: `?page=&page_size=` (default 20, capped at
/// 100 like `max_page_size`), and `{count, next, previous, results, page_info}` where `next` and
/// `previous` are absolute URLs keeping every other query value, percent-encoded, so that
/// following `next` gives the next page of the same filtered list.
public struct Pagination: Sendable {
    public static let defaultSize = 20
    public static let maxSize = 100

    public let page: Int
    public let size: Int

    public var offset: Int { (page - 1) * size }

    /// Reads `page` and `page_size`; a value that is not a positive whole number is named in
    /// `errors`. A `page_size` over 100 is read as 100 (DRF), or refused with `capped: false`.
    public init(_ query: QueryParameters, _ errors: inout FieldErrors, capped: Bool = true) {
        func positive(_ name: String, _ fallback: Int, max: Int) -> Int {
            guard let text = query[name] else { return fallback }
            guard let number = Int(text), number >= 1, capped || number <= max else {
                errors.add(name, capped ? "Must be a whole number of at least 1." : "Must be a whole number from 1 to \(max).")
                return fallback
            }
            return min(number, max)
        }
        page = positive("page", 1, max: 1_000_000)
        size = positive("page_size", Self.defaultSize, max: Self.maxSize)
    }

    /// The page envelope around `writeItems`, which writes the results' elements.
    public func envelope(total: Int, request: HTTPRequest, settings: APISettings,
                         writeItems: (inout JSONWriter) -> Void) -> [UInt8]
    {
        let pages = max(1, (total + size - 1) / size)
        func link(_ target: Int) -> String {
            var pairs = request.query.pairs.filter { $0.name != "page" }.map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }
            pairs.append("page=\(target)")
            return settings.absoluteURL(request.path + "?" + pairs.joined(separator: "&"), host: request.headers["Host"])
        }
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.field("count", total)
        json.key("next"); if page < pages { json.string(link(page + 1)) } else { json.null() }
        json.key("previous"); if page > 1 { json.string(link(page - 1)) } else { json.null() }
        json.key("results")
        json.beginArray()
        writeItems(&json)
        json.endArray()
        json.key("page_info")
        json.beginObject()
        json.field("current_page", page)
        json.field("total_pages", pages)
        json.field("page_size", size)
        json.field("has_next", page < pages)
        json.field("has_previous", page > 1)
        json.endObject()
        json.endObject()
        return json.bytes
    }

    /// RFC 3986 unreserved characters kept, every other byte `%XX` (a space too, never `+`).
    static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(UnicodeScalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(UnicodeScalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }
}
