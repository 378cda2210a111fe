import Testing
@testable import Channels

/// The close-code table is a contract with clients (DESIGN: close codes): each code's number, its
/// reason, and whether a client should reconnect are asserted one by one.
@Suite struct CloseCodeTests {
    static let table: [(CloseCode, UInt16, String, Bool)] = [
        (.normal, 1000, "normal closure", false),
        (.goingAway, 1001, "server going away", true),
        (.protocolError, 1002, "protocol error", false),
        (.invalidPayload, 1007, "invalid UTF-8", false),
        (.policyViolation, 1008, "policy violation", false),
        (.messageTooBig, 1009, "message too big", false),
        (.internalError, 1011, "internal error", true),
        (.serviceRestart, 1012, "disconnected by the server; reconnect", true),
        (.heartbeatTimeout, 4000, "heartbeat timeout", true),
        (.slowConsumer, 4001, "slow consumer", true),
        (.unauthorized, 4401, "token missing, invalid or expired", false),
        (.forbidden, 4403, "forbidden", false),
        (.rateLimited, 4429, "rate limited", true),
    ]

    @Test func everyCodeHasItsValueReasonAndReconnectAdvice() {
        #expect(CloseCode.allCases.count == Self.table.count, "a new code needs its row here")
        for (code, value, reason, reconnect) in Self.table {
            #expect(code.rawValue == value, "\(code)")
            #expect(code.reason == reason, "\(code)")
            #expect(code.shouldReconnect == reconnect, "\(code)")
            #expect(CloseCode(rawValue: value) == code)
        }
    }

    @Test func reasonsFitAControlFrameAndNoCodeIsReservedForTheWire() {
        for code in CloseCode.allCases {
            #expect(!code.reason.isEmpty)
            #expect(code.reason.utf8.count <= 123, "close reasons are at most 123 bytes")
            #expect(![1005, 1006, 1015].contains(code.rawValue), "never sent on the wire")
        }
    }
}
