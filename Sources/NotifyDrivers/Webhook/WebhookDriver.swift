import Foundation
import Hub

/// Outbound webhooks: POSTs each message, signed per Standard Webhooks, through the one
/// non-blocking `HTTPClient` (its timeouts; no redirects followed: a 3xx is a failed attempt).
/// Unless `allowPrivate`, the address connected to must be public (checked after resolving, at
/// every connect). 2xx is delivered; 410 is `.failed(goneReason)`, which the outbox takes as the
/// order to disable the endpoint; anything else, and no answer, is retried on the outbox's
/// webhook schedule. Each attempt is reported for the delivery log.
public final class WebhookDriver: DeliveryDriver, Sendable {
    public let channel = DeliveryChannel.webhook
    /// The reason of a delivery whose endpoint answered 410 Gone.
    public static let goneReason = "gone: the endpoint answered 410"
    /// The reason of a delivery whose endpoint was disabled before it was sent.
    public static let disabledReason = "endpoint disabled"
    /// How much of an answer the delivery log keeps.
    public static let responseLimit = 1024
    private let client: HTTPClient
    private let userAgent: String
    private let allowPrivate: Bool

    public init(client: HTTPClient, userAgent: String, allowPrivate: Bool) {
        self.client = client
        self.userAgent = userAgent
        self.allowPrivate = allowPrivate
    }

    public func send(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome) -> Void) {
        sendReporting(delivery) { outcome, _ in completion(outcome) }
    }

    public func sendReporting(_ delivery: Delivery,
                              completion: @escaping @Sendable (DeliveryOutcome, DeliveryAttempt?) -> Void)
    {
        guard let message = delivery.webhook else { return completion(.failed(reason: Self.disabledReason), nil) }
        guard let url = URL(string: message.url), url.host != nil else {
            return completion(.failed(reason: "invalid endpoint URL"), nil)
        }
        let started = MonotonicClock.nowMillis()
        let headers = message.headers(timestamp: WallClock.nowMillis() / 1000, userAgent: userAgent)
        client.request("POST", url, headers: headers, body: message.body, publicOnly: !allowPrivate) { result in
            let duration = Int(MonotonicClock.nowMillis() - started)
            switch result {
            case .success(let response):
                let text = String(decoding: response.body.prefix(Self.responseLimit), as: UTF8.self)
                completion(Self.outcome(status: response.status),
                           DeliveryAttempt(statusCode: response.status, response: text, durationMillis: duration))
            case .failure(let error):
                completion(.retry(afterSeconds: 0, reason: error.description),
                           DeliveryAttempt(statusCode: nil, response: "", durationMillis: duration))
            }
        }
    }

    /// What an endpoint's status means: 2xx delivered, 410 gone, anything else again later.
    public static func outcome(status: Int) -> DeliveryOutcome {
        switch status {
        case 200..<300: return .delivered(providerID: nil)
        case 410: return .failed(reason: goneReason)
        default: return .retry(afterSeconds: 0, reason: "the endpoint answered \(status)")
        }
    }
}
