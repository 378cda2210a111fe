/// Every close code the hub sends on `/ws/notifications/`, with its reason and whether a client
/// should reconnect (one list, so the server and the clients never disagree).
public enum CloseCode: UInt16, CaseIterable, Sendable {
    case normal = 1000
    case goingAway = 1001
    case protocolError = 1002
    case invalidPayload = 1007
    case policyViolation = 1008
    case messageTooBig = 1009
    case internalError = 1011
    case serviceRestart = 1012
    case heartbeatTimeout = 4000
    case slowConsumer = 4001
    case unauthorized = 4401
    case forbidden = 4403
    case rateLimited = 4429

    public var reason: String {
        switch self {
        case .normal: "normal closure"
        case .goingAway: "server going away"
        case .protocolError: "protocol error"
        case .invalidPayload: "invalid UTF-8"
        case .policyViolation: "policy violation"
        case .messageTooBig: "message too big"
        case .internalError: "internal error"
        case .serviceRestart: "disconnected by the server; reconnect"
        case .heartbeatTimeout: "heartbeat timeout"
        case .slowConsumer: "slow consumer"
        case .unauthorized: "token missing, invalid or expired"
        case .forbidden: "forbidden"
        case .rateLimited: "rate limited"
        }
    }

    /// Whether a client should reconnect (with back-off) after this close.
    public var shouldReconnect: Bool {
        switch self {
        case .normal, .protocolError, .invalidPayload, .policyViolation, .messageTooBig, .unauthorized, .forbidden:
            false
        case .goingAway, .internalError, .serviceRestart, .heartbeatTimeout, .slowConsumer, .rateLimited:
            true
        }
    }
}
