/// What every HTTP connection of a server shares: routes, limits, timeouts, CORS, the access log.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var limits = HTTPParser.Limits()
        /// A request head must be complete this long after its first byte (and after connect): else 408.
        public var headerTimeoutMillis: Int64 = 10_000
        /// A body must make progress at least this often: else 408.
        public var bodyTimeoutMillis: Int64 = 30_000
        /// An idle keep-alive connection is closed after this long.
        public var idleTimeoutMillis: Int64 = 75_000
        /// Pipelined requests wait while this many response bytes are still queued.
        public var maxQueuedResponseBytes = 1024 * 1024
        public var cors = CORSPolicy.none
        /// Proxies whose `X-Forwarded-For` names the client (none: the header is ignored).
        public var trustedProxies = TrustedProxies.none

        public init() {}
    }

    /// One finished request, for the access log and metrics.
    public struct AccessRecord: Sendable {
        public let method: HTTPMethod
        public let path: String
        public let status: Int
        public let durationMicros: Int64
        /// The peer; its text form is made only by a logger that prints it.
        public let remote: SocketAddress
        /// The client a trusted proxy named, if any.
        public var forwardedClient: String? = nil
    }

    public let router: Router
    public let configuration: Configuration
    let accessLog: (@Sendable (AccessRecord) -> Void)?

    public init(router: Router, configuration: Configuration = Configuration(),
                accessLog: (@Sendable (AccessRecord) -> Void)? = nil)
    {
        self.router = router
        self.configuration = configuration
        self.accessLog = accessLog
    }

    /// A handler for a newly accepted connection (pass as `Server`'s `makeHandler`).
    public func makeConnectionHandler() -> ConnectionHandler {
        HTTPServerConnection(server: self)
    }
}
