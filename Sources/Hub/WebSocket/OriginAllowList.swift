/// Which browser pages may open a WebSocket (`HUB_WS_ORIGINS`): a comma-separated list of origins
/// (`https://app.example`, `http://localhost:3000`), or `*` for any.
///
/// Allowed without being listed: a request with no `Origin` (a backend, a mobile app, a test
/// client: only browsers send one), and a page of the same origin as the hub itself (its host and
/// port are the request's `Host`, as for `/demo/`). Everything else is refused, which stops a page
/// on another site from opening a session in a visitor's browser (cross-site WebSocket hijacking).
/// Origins compare without case and without a trailing slash; `null` (sandboxed frames, `file:`)
/// passes only when listed.
public struct OriginAllowList: Sendable {
    public let allowAny: Bool
    public let origins: Set<String>

    public init(_ setting: String) {
        let items = setting.split(separator: ",").map { Self.normalized(String($0.trimmingSpaces)) }.filter { !$0.isEmpty }
        allowAny = items.contains("*")
        origins = Set(items)
    }

    /// Every origin allowed (`*`).
    public static let any = OriginAllowList("*")

    /// An item of the setting that is not `*`, `null` or `scheme://host[:port]`, if any (for a
    /// start-up error that names it).
    public static func malformedItem(in setting: String) -> String? {
        for item in setting.split(separator: ",").map({ String($0.trimmingSpaces) }) where !item.isEmpty {
            let origin = normalized(item)
            if origin == "*" || origin == "null" { continue }
            guard let schemeEnd = origin.range(of: "://"), !origin[..<schemeEnd.lowerBound].isEmpty else { return item }
            let authority = origin[schemeEnd.upperBound...]
            if authority.isEmpty || authority.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " }) { return item }
        }
        return nil
    }

    /// Whether an upgrade with this `Origin` (nil when absent) and `Host` may proceed.
    public func allows(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        let normalizedOrigin = Self.normalized(origin)
        if allowAny || origins.contains(normalizedOrigin) { return true }
        guard let host, let schemeEnd = normalizedOrigin.range(of: "://") else { return false }
        let scheme = normalizedOrigin[..<schemeEnd.lowerBound]
        guard scheme == "http" || scheme == "https" else { return false }
        return normalizedOrigin[schemeEnd.upperBound...] == host.trimmingSpaces.lowercased()
    }

    private static func normalized(_ origin: String) -> String {
        let lower = origin.trimmingSpaces.lowercased()
        return lower.hasSuffix("/") ? String(lower.dropLast()) : lower
    }
}
