import Foundation

/// Email over SMTP. 4xx replies and network faults are retried; 5xx replies fail for good. The
/// connection stays open for the next message of this worker.
public final class EmailDriver: DeliveryDriver {
    public let channel = DeliveryChannel.email
    private let configuration: SMTPConfiguration
    private var client: SMTPClient

    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
        client = SMTPClient(configuration: configuration)
    }

    /// Blocks the calling worker thread for the SMTP session, then answers.
    public func send(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome) -> Void) {
        completion(sendNow(delivery))
    }

    private func sendNow(_ delivery: Delivery) -> DeliveryOutcome {
        let host = configuration.from.split(separator: "@").last.map(String.init) ?? "hub"
        let message = MIMEMessage(
            from: configuration.from, fromName: configuration.fromName, to: delivery.destination, subject: delivery.subject,
            text: delivery.text, html: delivery.html ?? Self.html(delivery),
            messageID: "\(UUID().uuidString.lowercased())@\(host)")
        for attempt in 0..<2 {
            do {
                let reply = try client.send(message)
                return .delivered(providerID: reply.split(separator: " ").last.map(String.init) ?? reply)
            } catch let reply as SMTPClient.Reply {
                if !reply.isTransient && reply.code >= 500 {
                    return .failed(reason: "SMTP \(reply.code): \(reply.text.prefix(200))")
                }
                client.close()
                return .retry(afterSeconds: 0, reason: "SMTP \(reply.code): \(reply.text.prefix(200))")
            } catch {
                // A reused connection may have been closed by the server: one fresh try.
                client.close()
                if attempt == 1 { return .retry(afterSeconds: 0, reason: "\(error)") }
            }
        }
        return .retry(afterSeconds: 0, reason: "unreachable")
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
