import Testing
@testable import NotifyDrivers

@Suite struct DeliveryOutcomeTests {
    @Test func channelsUseMadrastiDeliveryMethodNames() {
        #expect(DeliveryChannel.allCases.map(\.rawValue) == ["IN_APP", "EMAIL", "SMS", "TELEGRAM"])
        #expect(DeliveryOutcome.retry(afterSeconds: 5, reason: "429") != .failed(reason: "429"))
    }
}
