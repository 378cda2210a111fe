import Foundation
import Hub
import HubTestSupport
import Synchronization
import Testing
@testable import NotifyDrivers

/// What a scripted SMTP server saw, in order (commands, then each DATA section whole).
final class SMTPTranscript: Sendable {
    private let lines = Locked<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// The email driver on an event loop against scripted SMTP servers on real sockets.
@Suite struct SMTPClientTests {
    static let loop: EventLoop = {
        let loop = try! EventLoop(index: 0, name: "smtp-client-tests")
        loop.sweepIntervalMillis = 50
        loop.start()
        return loop
    }()

    /// A server that greets, answers EHLO with `ehlo`, takes DATA, and asks `answer` for the rest
    /// (nil: the default 250). `QUIT` ends the conversation.
    static func smtpServer(ehlo: String = "250-mail.test\r\n250-8BITMIME\r\n250 AUTH LOGIN", transcript: SMTPTranscript,
                           answer: @escaping @Sendable (String) -> String? = { _ in nil }) throws -> ScriptedHTTPServer
    {
        try ScriptedHTTPServer { peer in
            peer.write("220 mail.test ESMTP\r\n")
            while let line = peer.readLine() {
                transcript.append(line)
                if let special = answer(line) {
                    if special.isEmpty { return }
                    peer.write(special + "\r\n")
                } else if line.hasPrefix("EHLO") {
                    peer.write(ehlo + "\r\n")
                } else if line == "DATA" {
                    peer.write("354 go ahead\r\n")
                    guard let data = peer.read(through: Array("\r\n.\r\n".utf8)) else { return }
                    transcript.append(String(decoding: data, as: UTF8.self))
                    peer.write("250 2.0.0 Ok: queued as Q\(transcript.all.count)\r\n")
                } else if line == "QUIT" {
                    peer.write("221 bye\r\n")
                    return
                } else {
                    let reply = switch line {
                    case "AUTH LOGIN", "aHVi": "334 next"
                    case "czNjcmV0": "235 2.7.0 authenticated"
                    case _ where line.hasPrefix("AUTH PLAIN"): "235 2.7.0 authenticated"
                    default: "250 ok"
                    }
                    peer.write(reply + "\r\n")
                }
            }
        }
    }

    static func configuration(_ port: Int, _ query: String = "starttls=never", user: String = "",
                              timeout: Double = 2) throws -> SMTPConfiguration
    {
        var settings = try SMTPConfiguration(url: "smtp://\(user)127.0.0.1:\(port)?\(query)", from: "hub@school.ma")
        settings.timeoutSeconds = timeout
        return settings
    }

    static func delivery(to address: String) -> Delivery {
        Delivery(channel: .email, destination: address, subject: "Attendance", text: ".leading dot\nline two")
    }

    /// Sends through `driver` and waits for the outcome.
    static func send(_ driver: DeliveryDriver, _ delivery: Delivery) -> DeliveryOutcome {
        let done = DispatchSemaphore(value: 0)
        let outcome = Locked<DeliveryOutcome?>(nil)
        driver.send(delivery) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return outcome.withLock { $0! }
    }

    @Test func authLoginThenMessagesOverOneConnection() throws {
        let transcript = SMTPTranscript()
        let server = try Self.smtpServer(transcript: transcript)
        defer { server.stop() }
        let driver = EmailDriver(configuration: try Self.configuration(server.port, user: "hub:s3cret@"), loop: Self.loop)
        #expect(Self.send(driver, Self.delivery(to: "a@school.ma")) == .delivered(providerID: "Q8"))
        #expect(Self.send(driver, Self.delivery(to: "b@school.ma")) == .delivered(providerID: "Q12"))
        let lines = transcript.all
        #expect(Array(lines.prefix(7)) == ["EHLO hub.localdomain", "AUTH LOGIN", "aHVi", "czNjcmV0",
                                           "MAIL FROM:<hub@school.ma> BODY=8BITMIME", "RCPT TO:<a@school.ma>", "DATA"])
        #expect(lines[7].contains("To: <a@school.ma>") || lines[7].contains("a@school.ma"), "the rendered message")
        #expect(lines[7].hasSuffix("\r\n.\r\n"), "ended by a lone dot")
        #expect(Array(lines[8...10]) == ["MAIL FROM:<hub@school.ma> BODY=8BITMIME", "RCPT TO:<b@school.ma>", "DATA"])
        #expect(server.accepted == 1, "the connection is reused")
    }

    @Test func heloWhenEhloIsRefusedAndAuthPlainByDefault() throws {
        let transcript = SMTPTranscript()
        let server = try Self.smtpServer(transcript: transcript) { $0.hasPrefix("EHLO") ? "502 5.5.1 unrecognized" : nil }
        defer { server.stop() }
        let driver = EmailDriver(configuration: try Self.configuration(server.port, user: "hub:s3cret@"), loop: Self.loop)
        #expect(Self.send(driver, Self.delivery(to: "a@school.ma")) == .delivered(providerID: "Q7"))
        let plain = Data([0] + Array("hub".utf8) + [0] + Array("s3cret".utf8)).base64EncodedString()
        #expect(Array(transcript.all.prefix(4)) == ["EHLO hub.localdomain", "HELO hub.localdomain", "AUTH PLAIN \(plain)",
                                                    "MAIL FROM:<hub@school.ma>"], "no 8BITMIME without EHLO")
    }

    @Test func refusedRecipientsFailOrRetryAndTheConnectionGoesOn() throws {
        let transcript = SMTPTranscript()
        let server = try Self.smtpServer(transcript: transcript) { line in
            switch line {
            case "RCPT TO:<nobody@school.ma>": "550 5.1.1 no such user"
            case "RCPT TO:<later@school.ma>": "451 4.7.1 greylisted"
            default: nil
            }
        }
        defer { server.stop() }
        let driver = EmailDriver(configuration: try Self.configuration(server.port), loop: Self.loop)
        #expect(Self.send(driver, Self.delivery(to: "nobody@school.ma")) == .failed(reason: "SMTP 550: 5.1.1 no such user"))
        #expect(Self.send(driver, Self.delivery(to: "later@school.ma")) == .retry(afterSeconds: 0, reason: "SMTP 451: 4.7.1 greylisted"))
        guard case .delivered = Self.send(driver, Self.delivery(to: "a@school.ma")) else { Issue.record("delivered"); return }
        #expect(transcript.all.filter { $0 == "RSET" }.count == 2, "each refused transaction is reset")
        #expect(server.accepted == 1)
    }

    @Test func aConnectionDroppedMidMessageGetsOneFreshTry() throws {
        let transcript = SMTPTranscript()
        let server = try Self.smtpServer(transcript: transcript) { line in
            // The first connection serves one message, then dies at the next MAIL without a word.
            guard line.hasPrefix("MAIL") else { return nil }
            return transcript.all.filter { $0.hasPrefix("MAIL") }.count == 2 ? "" : nil
        }
        defer { server.stop() }
        let driver = EmailDriver(configuration: try Self.configuration(server.port), loop: Self.loop)
        guard case .delivered = Self.send(driver, Self.delivery(to: "a@school.ma")) else { Issue.record("first"); return }
        guard case .delivered = Self.send(driver, Self.delivery(to: "b@school.ma")) else { Issue.record("second"); return }
        #expect(server.accepted == 2, "one fresh connection after the drop")
    }

    @Test func starttlsRequiredButNotOfferedFailsForGood() throws {
        let server = try Self.smtpServer(transcript: SMTPTranscript())
        defer { server.stop() }
        let driver = EmailDriver(configuration: try Self.configuration(server.port, "starttls=required"), loop: Self.loop)
        #expect(Self.send(driver, Self.delivery(to: "a@school.ma"))
            == .failed(reason: "SMTP 530: server does not offer STARTTLS, which HUB_SMTP_URL requires"))
    }

    @Test func bytesInjectedAfterTheStarttlsReplyAreRefused() throws {
        let server = try Self.smtpServer(ehlo: "250-mail.test\r\n250 STARTTLS", transcript: SMTPTranscript()) { line in
            line == "STARTTLS" ? "220 go ahead\r\n250 injected before TLS" : nil
        }
        defer { server.stop() }
        let driver = EmailDriver(configuration: try Self.configuration(server.port, "starttls=required"), loop: Self.loop)
        guard case .retry(_, let reason) = Self.send(driver, Self.delivery(to: "a@school.ma")) else {
            Issue.record("expected a retry"); return
        }
        #expect(reason.contains("after its STARTTLS reply"), "\(reason)")
    }

    /// An SMTP server that accepts and never answers holds no thread and no loop: a Telegram
    /// delivery on the same delivery loop, sent while the email waits, is answered at once.
    @Test func aSilentSMTPServerDoesNotDelayTelegramOnTheSameLoop() throws {
        let connected = DispatchSemaphore(value: 0)
        let silent = try ScriptedHTTPServer { peer in
            connected.signal()
            _ = peer.readLine()
        }
        defer { silent.stop() }
        let telegramServer = try ScriptedHTTPServer { peer in
            while peer.readRequest() != nil {
                let body = #"{"ok":true,"result":{"message_id":77}}"#
                peer.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            }
        }
        defer { telegramServer.stop() }
        let email = EmailDriver(configuration: try Self.configuration(silent.port, timeout: 1), loop: Self.loop)
        let telegram = try TelegramDriver(apiBase: "http://127.0.0.1:\(telegramServer.port)", token: "1:A",
                                          client: HTTPClient(loop: Self.loop))

        let emailOutcome = Locked<DeliveryOutcome?>(nil)
        let emailDone = DispatchSemaphore(value: 0)
        email.send(Self.delivery(to: "a@school.ma")) { outcome in
            emailOutcome.withLock { $0 = outcome }
            emailDone.signal()
        }
        connected.wait()
        let telegramOutcome = Self.send(telegram, Delivery(channel: .telegram, destination: "42", subject: "", text: "hi"))
        #expect(telegramOutcome == .delivered(providerID: "77"))
        #expect(emailOutcome.withLock { $0 } == nil, "the email is still waiting for its greeting")

        emailDone.wait()
        guard case .retry(_, let reason) = emailOutcome.withLock({ $0 }) else { Issue.record("a retry"); return }
        #expect(reason.contains("no answer") && reason.contains("greeting"), "\(reason)")
        #expect(silent.accepted == 2, "one fresh try, then the outbox retries later")
    }

    /// Messages queued behind one that finds the server silent fail with it, instead of each
    /// spending its own timeouts in turn: two connections in all (one fresh try), not ten.
    @Test func messagesWaitingForAnUnreachableServerFailTogether() throws {
        let silent = try ScriptedHTTPServer { peer in _ = peer.readLine() }
        defer { silent.stop() }
        let driver = EmailDriver(configuration: try Self.configuration(silent.port, timeout: 1), loop: Self.loop)
        let outcomes = Locked<[DeliveryOutcome]>([])
        let done = DispatchSemaphore(value: 0)
        for index in 0..<5 {
            driver.send(Self.delivery(to: "p\(index)@school.ma")) { outcome in
                outcomes.withLock { $0.append(outcome) }
                done.signal()
            }
        }
        for _ in 0..<5 { done.wait() }
        let reasons = outcomes.withLock { $0 }.compactMap { if case .retry(_, let reason) = $0 { reason } else { nil } }
        #expect(reasons.count == 5 && reasons.allSatisfy { $0.contains("no answer") }, "\(reasons)")
        #expect(silent.accepted == 2)
    }

    @Test func aRefusedConnectionIsRetriedLater() throws {
        let server = try ScriptedHTTPServer { _ in }
        let port = server.port
        server.stop()
        let driver = EmailDriver(configuration: try Self.configuration(port), loop: Self.loop)
        guard case .retry(_, let reason) = Self.send(driver, Self.delivery(to: "a@school.ma")) else {
            Issue.record("a retry"); return
        }
        #expect(reason.contains("127.0.0.1"), "\(reason)")
    }
}
