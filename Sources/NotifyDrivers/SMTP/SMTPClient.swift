import Foundation
import Hub

/// An SMTP client on the delivery event loop: messages go out one at a time over one kept-open
/// connection (plain, STARTTLS or smtps://), non-blocking, so a slow or silent server holds no
/// thread and delays nothing else on the loop. Host names are resolved on the calling thread
/// (getaddrinfo blocks), and each message is rendered there too; the loop only moves bytes.
public final class SMTPClient: Sendable {
    /// Why a message was not accepted: the server's reply, or a network fault.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case reply(SMTPReply)
        case transport(TransportError)

        public var description: String {
            switch self {
            case .reply(let reply): "SMTP \(reply.code): \(reply.text)"
            case .transport(let error): error.description
            }
        }
    }

    public let configuration: SMTPConfiguration
    private let loop: EventLoop
    private let queue: SMTPQueue
    private let resolver = HostResolver()

    /// `loop` must be running; its sweep interval is the resolution of the timeouts.
    public init(configuration: SMTPConfiguration, loop: EventLoop) {
        self.configuration = configuration
        self.loop = loop
        queue = SMTPQueue(configuration: configuration, loop: loop)
    }

    /// An idle connection says QUIT when the client goes.
    deinit {
        let queue = self.queue
        loop.execute { queue.closeIdle() }
    }

    /// Sends `message`; `completion` runs once, on the loop, with the server's final reply text
    /// (often carrying its queue id) or the reason it failed.
    public func send(_ message: MIMEMessage, completion: @escaping @Sendable (Result<String, Failure>) -> Void) {
        let address: SocketAddress
        do {
            address = try resolver.address(host: configuration.host, port: configuration.port)
        } catch {
            let failure = Failure.transport(error as? TransportError ?? TransportError("\(error)"))
            return loop.execute { completion(.failure(failure)) }
        }
        let data = Array((MIMEMessage.dotStuff(message.render()) + ".\r\n").utf8)
        let job = SMTPJob(from: message.from, to: message.to, data: data, address: address,
                          completion: completion)
        let queue = self.queue
        loop.execute { queue.enqueue(job) }
    }
}

/// The client's messages waiting for its one session, and that session. Created on any thread,
/// then touched only on `loop`.
/// @unchecked Sendable: every method after init runs on `loop` (reached through execute).
final class SMTPQueue: @unchecked Sendable {
    private let configuration: SMTPConfiguration
    private let loop: EventLoop
    /// Made here, off the loop (it may read a CA file), and only when TLS can be used.
    private let tls: Result<TLSContext, TransportError>
    private var waiting: [SMTPJob] = []
    private var session: SMTPSession?
    private var busy = false

    init(configuration: SMTPConfiguration, loop: EventLoop) {
        self.configuration = configuration
        self.loop = loop
        if configuration.implicitTLS || configuration.startTLS != .never {
            do {
                tls = .success(try TLSContext(options: configuration.tls))
            } catch {
                tls = .failure(error as? TransportError ?? TransportError("\(error)"))
            }
        } else {
            tls = .failure(TransportError("TLS is off for this SMTP server (starttls=never)"))
        }
    }

    func enqueue(_ job: SMTPJob) {
        waiting.append(job)
        pump()
    }

    func closeIdle() {
        if !busy { session?.close() }
    }

    /// The server could not be reached just now: the messages waiting fail at once with the same
    /// fault (and come back through the driver's fresh try or the outbox), rather than each
    /// spending its own timeouts in turn while their outbox leases run out.
    private func failWaiting(_ fault: TransportError) {
        let failed = waiting
        waiting = []
        for job in failed { job.completion(.failure(.transport(fault))) }
    }

    private func pump() {
        guard !busy, !waiting.isEmpty else { return }
        busy = true
        let job = waiting.removeFirst()
        // The session holds the queue until it closes, so a message in flight always gets its answer.
        let current = session ?? SMTPSession(configuration: configuration, tls: tls, loop: loop, onIdle: { _ in
            self.busy = false
            self.pump()
        }, onClosed: { closed, unreachable in
            guard closed === self.session else { return }
            self.session = nil
            self.busy = false
            if let unreachable { self.failWaiting(unreachable) }
            self.pump()
        })
        session = current
        current.send(job)
    }
}
