import Foundation
import Hub

/// Email over SMTP, on the delivery event loop. 4xx replies and network faults are retried later;
/// 5xx replies fail for good. The connection stays open for the next message; a message that
/// meets a network fault (a kept-open connection the server dropped) gets one fresh try at once.
public final class EmailDriver: DeliveryDriver, Sendable {
    public let channel = DeliveryChannel.email
    private let configuration: SMTPConfiguration
    private let client: SMTPClient

    /// `loop` is the delivery loop (shared with the HTTP drivers); it must be running.
    public init(configuration: SMTPConfiguration, loop: EventLoop) {
        self.configuration = configuration
        client = SMTPClient(configuration: configuration, loop: loop)
    }

    /// Answers later, on the loop; the calling thread is not held.
    public func send(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome) -> Void) {
        let host = configuration.from.split(separator: "@").last.map(String.init) ?? "hub"
        let message = MIMEMessage(
            from: configuration.from, fromName: configuration.fromName, to: delivery.destination, subject: delivery.subject,
            text: delivery.text, html: delivery.html ?? Self.html(delivery),
            messageID: "\(UUID().uuidString.lowercased())@\(host)")
        attempt(message, fresh: false, completion: completion)
    }

    private func attempt(_ message: MIMEMessage, fresh: Bool, completion: @escaping @Sendable (DeliveryOutcome) -> Void) {
        client.send(message) { [self] result in
            switch result {
            case .success(let reply):
                completion(.delivered(providerID: reply.split(separator: " ").last.map(String.init) ?? reply))
            case .failure(let failure):
                if case .transport = failure, !fresh { return attempt(message, fresh: true, completion: completion) }
                completion(Self.outcome(of: failure))
            }
        }
    }

    /// What a failed send means for the delivery: 5xx never succeeds, anything else may later.
    static func outcome(of failure: SMTPClient.Failure) -> DeliveryOutcome {
        switch failure {
        case .reply(let reply) where reply.code >= 500:
            return .failed(reason: "SMTP \(reply.code): \(reply.text.prefix(200))")
        case .reply(let reply):
            return .retry(afterSeconds: 0, reason: "SMTP \(reply.code): \(reply.text.prefix(200))")
        case .transport(let error):
            return .retry(afterSeconds: 0, reason: error.description)
        }
    }

    static func html(_ delivery: Delivery) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        let direction = delivery.rightToLeft ? "rtl" : "ltr"
        return """
            <!doctype html><html dir="\(direction)"><body style="font-family: sans-serif">\
            <h2>\(escape(delivery.subject))</h2><p>\(escape(delivery.text).replacingOccurrences(of: "\n", with: "<br>"))</p>\
            </body></html>
            """
    }
}
