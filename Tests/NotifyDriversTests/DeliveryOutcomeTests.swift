import Hub
import Testing
@testable import NotifyDrivers

@Suite struct DeliveryOutcomeTests {
    @Test func channelsUseMadrastiDeliveryMethodNames() {
        #expect(DeliveryChannel.allCases.map(\.rawValue) == ["IN_APP", "EMAIL", "SMS", "TELEGRAM", "PUSH", "WEBHOOK"])
    }

    /// 5xx replies fail for good; 4xx replies and network faults come back later, with the reason.
    @Test func smtpFailuresBecomeOutcomes() {
        #expect(EmailDriver.outcome(of: .reply(SMTPReply(code: 550, text: "5.1.1 no such user")))
            == .failed(reason: "SMTP 550: 5.1.1 no such user"))
        #expect(EmailDriver.outcome(of: .reply(SMTPReply(code: 530, text: "STARTTLS required")))
            == .failed(reason: "SMTP 530: STARTTLS required"))
        #expect(EmailDriver.outcome(of: .reply(SMTPReply(code: 451, text: "4.7.1 greylisted")))
            == .retry(afterSeconds: 0, reason: "SMTP 451: 4.7.1 greylisted"))
        #expect(EmailDriver.outcome(of: .reply(SMTPReply(code: 421, text: "closing")))
            == .retry(afterSeconds: 0, reason: "SMTP 421: closing"))
        #expect(EmailDriver.outcome(of: .transport(TransportError("connection reset")))
            == .retry(afterSeconds: 0, reason: "connection reset"))
        let long = String(repeating: "x", count: 500)
        #expect(EmailDriver.outcome(of: .reply(SMTPReply(code: 554, text: long)))
            == .failed(reason: "SMTP 554: " + String(repeating: "x", count: 200)), "reasons are cut at 200 characters")
    }
}

@Suite struct ProviderAnswerTests {
    private func response(_ status: Int, _ json: String, headers: [String: String] = [:]) -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: HTTPHeaders(headers.map { ($0.key, $0.value) }), body: Array(json.utf8))
    }

    @Test func telegramAnswers() {
        #expect(TelegramDriver.outcome(of: response(200, #"{"ok":true,"result":{"message_id":42}}"#)) == .delivered(providerID: "42"))
        #expect(TelegramDriver.outcome(of: response(429, #"{"ok":false,"description":"Too Many Requests","parameters":{"retry_after":17}}"#))
            == .retry(afterSeconds: 17, reason: "429: Too Many Requests"))
        guard case .failed(let reason) = TelegramDriver.outcome(of: response(403, #"{"ok":false,"description":"Forbidden: bot was blocked by the user"}"#))
        else { Issue.record("403 must fail for good"); return }
        #expect(reason.hasPrefix(TelegramDriver.blockedPrefix))
        #expect(TelegramDriver.outcome(of: response(502, "<html>bad gateway</html>")) == .retry(afterSeconds: 0, reason: "502: HTTP 502"))
        #expect(TelegramDriver.outcome(of: response(400, #"{"ok":false,"description":"Bad Request: chat not found"}"#))
            == .failed(reason: "400: Bad Request: chat not found"))
    }

    @Test func smsGatewayAnswers() {
        #expect(SMSDriver.outcome(of: response(201, #"{"sid":"SM123"}"#)) == .delivered(providerID: "SM123"))
        #expect(SMSDriver.outcome(of: response(200, #"{"id":991}"#)) == .delivered(providerID: "991"))
        #expect(SMSDriver.outcome(of: response(429, "", headers: ["retry-after": "30"]))
            == .retry(afterSeconds: 30, reason: "429 from the SMS gateway"))
        #expect(SMSDriver.outcome(of: response(503, "")) == .retry(afterSeconds: 0, reason: "SMS gateway answered 503"))
        guard case .failed = SMSDriver.outcome(of: response(400, "invalid number")) else { Issue.record("400 is final"); return }
        #expect(SMSDriver.isE164("+998901234567") && !SMSDriver.isE164("0612345678") && !SMSDriver.isE164("+0123456789"))
    }
}
