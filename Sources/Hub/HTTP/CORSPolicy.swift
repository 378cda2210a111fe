/// Which browser origins may call the API (`HUB_CORS_ORIGINS`: a comma-separated list, or `*`).
public struct CORSPolicy: Sendable {
    public let allowAny: Bool
    public let origins: Set<String>
    public var maxAgeSeconds = 600

    public init(_ setting: String) {
        let items = setting.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        allowAny = items.contains("*")
        origins = Set(items.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
    }

    public static let none = CORSPolicy("")

    public func allows(_ origin: String) -> Bool {
        allowAny || origins.contains(origin)
    }

    /// Headers for a simple (non-preflight) response to an allowed origin.
    func decorate(_ headers: inout HTTPHeaders, origin: String) {
        headers.set("Access-Control-Allow-Origin", origin)
        headers.add("Vary", "Origin")
        headers.set("Access-Control-Allow-Credentials", "true")
        headers.set("Access-Control-Expose-Headers",
                    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After")
    }

    /// The answer to a preflight `OPTIONS` with `Access-Control-Request-Method`.
    func preflight(origin: String, request: HTTPRequest, allowed: [HTTPMethod]) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Allow", allowed.map(\.description).joined(separator: ", "))
        guard allows(origin) else { return HTTPResponse(status: .noContent, headers: headers) }
        decorate(&headers, origin: origin)
        headers.set("Access-Control-Allow-Methods", allowed.map(\.description).joined(separator: ", "))
        let requested = request.headers["Access-Control-Request-Headers"] ?? ""
        headers.set("Access-Control-Allow-Headers", requested.isEmpty ? "Authorization, Content-Type" : requested)
        headers.set("Access-Control-Max-Age", String(maxAgeSeconds))
        return HTTPResponse(status: .noContent, headers: headers)
    }
}
