import Foundation
import Hub

/// One message for the SMTP client: envelope, the DATA bytes ready to send (rendered and
/// dot-stuffed off the loop), where to connect, and who hears the outcome.
struct SMTPJob {
    let from: String
    let to: String
    let data: [UInt8]
    let address: SocketAddress
    let completion: @Sendable (Result<String, SMTPClient.Failure>) -> Void
}

/// The SMTP conversation (RFC 5321) on one connection, on the delivery loop: greeting, EHLO with
/// HELO fallback, STARTTLS (chain and host name verified by `TLSSession`), AUTH PLAIN or LOGIN,
/// then one message at a time: MAIL, RCPT, DATA. Every wait has a deadline. A reply the step did
/// not want fails the message with that reply (the outbox retries 4xx and gives up on 5xx); a
/// network fault fails it with a `TransportError` and ends the session.
final class SMTPSession: SMTPTransportDelegate {
    private enum State { case fresh, opening, ready, sending, resetting, closed }

    private let configuration: SMTPConfiguration
    private let loop: EventLoop
    private let transport: SMTPTransport
    private let onIdle: (SMTPSession) -> Void
    /// Called once when the session ends; with the fault when the server could not be reached at
    /// all (connect, TLS or greeting failed), which every message waiting for it would meet too.
    private let onClosed: (SMTPSession, TransportError?) -> Void
    private var state = State.fresh
    private var job: SMTPJob?
    /// What the next reply is for (in timeouts' messages), and the step that takes it.
    private var awaiting = "the greeting"
    private var next: ((SMTPReply) throws -> Void)?
    private var afterTLS: (() -> Void)?
    private var extensions: Set<String> = []
    private var authMechanisms: Set<String> = []

    init(configuration: SMTPConfiguration, tls: Result<TLSContext, TransportError>, loop: EventLoop,
         onIdle: @escaping (SMTPSession) -> Void, onClosed: @escaping (SMTPSession, TransportError?) -> Void)
    {
        self.configuration = configuration
        self.loop = loop
        self.onIdle = onIdle
        self.onClosed = onClosed
        transport = SMTPTransport(host: configuration.host, tls: tls)
        transport.delegate = self
    }

    private var replyMillis: Int64 { Int64(configuration.timeoutSeconds * 1000) }
    /// How long an unused connection stays open for the next message.
    static let idleMillis: Int64 = 30_000

    /// Sends `job`, opening the session first if it is fresh. Only when fresh or idle.
    func send(_ job: SMTPJob) {
        precondition(state == .fresh || state == .ready, "one message at a time")
        self.job = job
        if state == .ready { return beginTransaction() }
        state = .opening
        do {
            try transport.open(to: job.address, on: loop, implicitTLS: configuration.implicitTLS)
        } catch {
            return end(error)
        }
        awaiting = configuration.implicitTLS ? "the TLS handshake" : "the greeting"
        transport.setTimeout(millis: replyMillis)
        if configuration.implicitTLS {
            afterTLS = { [unowned self] in expect("the greeting") { [unowned self] in try require($0, 220); hello() } }
        } else {
            next = { [unowned self] in try require($0, 220); hello() }
        }
    }

    /// Closes an idle session politely.
    func close() {
        guard state != .closed else { return }
        state = .closed
        transport.quit()
        onClosed(self, nil)
    }

    // MARK: Opening

    private func hello() {
        command("EHLO \(configuration.heloName)") { [unowned self] reply in
            guard reply.code == 250 else {
                return command("HELO \(configuration.heloName)") { [unowned self] in
                    try require($0, 250)
                    extensions = []
                    authMechanisms = []
                    try afterHello()
                }
            }
            let lines = reply.text.split(separator: "\n").dropFirst().map { $0.uppercased() }
            extensions = Set(lines.map { String($0.split(separator: " ").first ?? "") })
            let auth = lines.filter { $0.hasPrefix("AUTH") }
            authMechanisms = Set(auth.flatMap { $0.split(separator: " ").dropFirst().map(String.init) })
            try afterHello()
        }
    }

    private func afterHello() throws {
        if configuration.startTLS != .never && !transport.isSecure {
            if extensions.contains("STARTTLS") {
                return command("STARTTLS") { [unowned self] in
                    try require($0, 220)
                    awaiting = "the TLS handshake"
                    afterTLS = { [unowned self] in hello() }
                    try transport.startTLS()
                }
            }
            if configuration.startTLS == .required {
                throw SMTPReply(code: 530, text: "server does not offer STARTTLS, which HUB_SMTP_URL requires")
            }
        }
        guard let user = configuration.username else { return becomeReady() }
        let password = configuration.password ?? ""
        if authMechanisms.contains("PLAIN") || !authMechanisms.contains("LOGIN") {
            let token = Data([0] + Array(user.utf8) + [0] + Array(password.utf8)).base64EncodedString()
            command("AUTH PLAIN \(token)", shown: "AUTH PLAIN") { [unowned self] in try require($0, 235); becomeReady() }
        } else {
            command("AUTH LOGIN") { [unowned self] in
                try require($0, 334)
                command(Data(user.utf8).base64EncodedString(), shown: "the user name") { [unowned self] in
                    try require($0, 334)
                    command(Data(password.utf8).base64EncodedString(), shown: "the password") { [unowned self] in
                        try require($0, 235)
                        becomeReady()
                    }
                }
            }
        }
    }

    private func becomeReady() {
        state = .ready
        if job != nil { beginTransaction() } else { becomeIdle() }
    }

    // MARK: One message

    private func beginTransaction() {
        guard let job else { return becomeIdle() }
        state = .sending
        let body = extensions.contains("8BITMIME") ? " BODY=8BITMIME" : ""
        command("MAIL FROM:<\(job.from)>" + body) { [unowned self] in
            try require($0, 250)
            command("RCPT TO:<\(job.to)>") { [unowned self] recipient in
                guard recipient.code == 250 || recipient.code == 251 else { throw recipient }
                command("DATA") { [unowned self] in
                    try require($0, 354)
                    transport.write(job.data)
                    expect("the end of DATA") { [unowned self] accepted in
                        try require(accepted, 250)
                        finish(.success(accepted.text))
                        becomeIdle()
                    }
                }
            }
        }
    }

    private func becomeIdle() {
        state = .ready
        awaiting = "nothing (idle)"
        transport.setTimeout(millis: Self.idleMillis)
        onIdle(self)
    }

    // MARK: Plumbing

    private func command(_ line: String, shown: String? = nil, then step: @escaping (SMTPReply) throws -> Void) {
        transport.write(line + "\r\n")
        expect("a reply to \(shown ?? String(line.prefix(40)))", then: step)
    }

    private func expect(_ what: String, then step: @escaping (SMTPReply) throws -> Void) {
        awaiting = what
        next = step
        transport.setTimeout(millis: replyMillis)
    }

    private func require(_ reply: SMTPReply, _ code: Int) throws {
        guard reply.code == code else { throw reply }
    }

    private func finish(_ result: Result<String, SMTPClient.Failure>) {
        guard let job else { return }
        self.job = nil
        job.completion(result)
    }

    /// A step failed: the message fails with the reply, or with the fault, and a session that can
    /// no longer be trusted ends. After a refused command inside a transaction, RSET makes it clean.
    private func end(_ error: Error) {
        guard state != .closed else { return }
        if let reply = error as? SMTPReply {
            finish(.failure(.reply(reply)))
            if state == .sending {
                state = .resetting
                return command("RSET") { [unowned self] in
                    try require($0, 250)
                    becomeIdle()
                }
            }
            state = .closed
            transport.quit()
            onClosed(self, nil)
        } else {
            let fault = error as? TransportError ?? TransportError("\(error)")
            finish(.failure(.transport(fault)))
            let unreachable = state == .opening || state == .fresh
            state = .closed
            transport.abort()
            onClosed(self, unreachable ? fault : nil)
        }
    }

    // MARK: SMTPTransportDelegate

    func transport(_ transport: SMTPTransport, received reply: SMTPReply) {
        guard let step = next else {
            return end(TransportError("\(configuration.host) sent an unexpected reply: \(reply.description.prefix(80))"))
        }
        next = nil
        do {
            try step(reply)
        } catch {
            end(error)
        }
    }

    func transportSecured(_ transport: SMTPTransport) {
        let step = afterTLS
        afterTLS = nil
        step?()
    }

    func transportTimedOut(_ transport: SMTPTransport) {
        if state == .ready && job == nil { return close() }
        end(TransportError("no answer from \(configuration.host):\(configuration.port) to \(awaiting) "
            + "within \(configuration.timeoutSeconds) s"))
    }

    func transport(_ transport: SMTPTransport, failed error: TransportError) {
        if state == .ready && job == nil {
            state = .closed
            return onClosed(self, nil)
        }
        end(error)
    }
}
