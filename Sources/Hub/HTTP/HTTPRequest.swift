/// A complete request: head, body, and the parameters the router matched.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target as sent (`/api/v1/notifications/?page=2`).
    public var target: String
    /// The path, still percent-encoded (`/api/v1/notifications/`).
    public var path: String
    /// The raw query string after `?`, or "".
    public var rawQuery: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Path parameters filled by the router (`{id}` → "42"), percent-decoded.
    public var pathParameters: [String: String] = [:]
    /// Whether the connection stays open after this request.
    public var keepAlive: Bool
    /// The peer, set by the server.
    public var remoteAddress: SocketAddress?
    /// The peer's address without the port (the rate-limit key of anonymous callers); formatted
    /// only when asked, not on every request.
    public var remoteHost: String { remoteAddress?.host ?? "" }
    /// The client behind a trusted proxy (`X-Forwarded-For`, see `TrustedProxies`), if any.
    public var forwardedClient: String?
    /// Who is calling: the client a trusted proxy names, else the peer. Rate limits key on it.
    public var clientHost: String { forwardedClient ?? remoteHost }
    /// Monotonic milliseconds when the request's first byte arrived (for access logs).
    public var receivedAt: Int64 = 0

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], keepAlive: Bool = true)
    {
        self.method = method
        self.target = target
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(target[..<mark])
            rawQuery = String(target[target.index(after: mark)...])
        } else {
            path = target
            rawQuery = ""
        }
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    /// Query parameters, percent-decoded, `+` as space; later values of a repeated name last.
    public var query: QueryParameters { QueryParameters(rawQuery) }

    public func parameter(_ name: String) -> String? { pathParameters[name] }
}

public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public static let http10 = HTTPVersion(major: 1, minor: 0)
    public static let http11 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}
