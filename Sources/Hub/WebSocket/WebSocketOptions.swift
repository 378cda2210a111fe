/// How a WebSocket endpoint behaves: limits, keep-alive, and the codes it closes with.
public struct WebSocketOptions: Sendable {
    /// Largest message (after joining fragments); past it the connection closes with 1009.
    public var maxMessageBytes = 1 << 20
    /// Queued outbound bytes past which the client is a slow consumer (closed, memory freed).
    /// Never below twice the largest message, so one echoed message always fits.
    public var outboundLimit = 1 << 20
    /// Silence after which the server pings (0: never).
    public var pingIntervalMillis: Int64 = 30_000
    /// Silence (no frame at all, pongs included) after which the connection is closed.
    public var timeoutMillis: Int64 = 75_000
    public var timeoutCloseCode: UInt16 = 1001
    public var slowConsumerCloseCode: UInt16 = 4001
    /// Subprotocols the endpoint speaks, in preference order.
    public var subprotocols: [String] = []
    /// Decides on the `Origin` header (nil when absent); the default accepts every origin.
    public var originAllowed: @Sendable (String?) -> Bool = { _ in true }

    public init() {}

    /// One endpoint's options, referenced by each of its connections.
    final class Shared: Sendable {
        let options: WebSocketOptions
        init(_ options: WebSocketOptions) { self.options = options }
    }

    var effectiveOutboundLimit: Int { max(outboundLimit, 2 * maxMessageBytes + 1024) }
}
