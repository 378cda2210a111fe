/// One HTTP/1.1 response as a client receives it (the drivers' HTTP client, loadtest's WebSocket
/// handshake), produced by `HTTPParser` in its response role.
public struct HTTPClientResponse: Sendable {
    public var version: HTTPVersion
    public var status: Int
    public var reason: String
    /// Every field in arrival order; a repeated one keeps each value (`values(_:)`), the subscript
    /// gives the first. Names compare case-insensitively.
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The server keeps the connection open for the next request.
    public var keepAlive: Bool

    public init(status: Int, reason: String = "", version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], keepAlive: Bool = true)
    {
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}
