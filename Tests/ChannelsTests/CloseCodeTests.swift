import Testing
@testable import Channels

@Suite struct CloseCodeTests {
    @Test func everyCodeHasAReasonThatFitsAControlFrame() {
        for code in CloseCode.allCases {
            #expect(!code.reason.isEmpty)
            #expect(code.reason.utf8.count <= 123, "close reasons are at most 123 bytes")
        }
    }

    @Test func applicationCodesAreInThePrivateRange() {
        for code in CloseCode.allCases where code.rawValue >= 4000 {
            #expect((4000...4999).contains(code.rawValue))
        }
        #expect(!CloseCode.unauthorized.shouldReconnect)
        #expect(CloseCode.heartbeatTimeout.shouldReconnect)
    }
}
