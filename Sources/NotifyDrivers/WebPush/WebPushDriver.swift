import Foundation
import Hub

/// Web Push: encrypts each message for its subscription (RFC 8291), signs a VAPID JWT for the
/// push service's origin (RFC 8292) and POSTs it with `TTL`, `Urgency` and `Topic` (RFC 8030)
/// through the non-blocking `HTTPClient`. The push service's status decides the outcome; a
/// subscription that is gone (404/410) is answered as `.failed("gone…")`, which the outbox takes as
/// the order to delete it.
public final class WebPushDriver: DeliveryDriver, Sendable {
    public let channel = DeliveryChannel.push
    /// The reason of a delivery whose subscription no longer exists.
    public static let goneReason = "gone"
    private let vapid: VAPID
    private let client: HTTPClient

    public init(vapid: VAPID, client: HTTPClient) {
        self.vapid = vapid
        self.client = client
    }

    public func send(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome) -> Void) {
        guard let message = delivery.push else { return completion(.failed(reason: Self.goneReason)) }
        guard let endpoint = URL(string: message.endpoint), endpoint.host != nil else {
            return completion(.failed(reason: "invalid push endpoint"))
        }
        let body: [UInt8]
        var headers: [(String, String)]
        do {
            guard let key = Base64URL.decode(message.p256dh), let auth = Base64URL.decode(message.auth) else {
                return completion(.failed(reason: "invalid subscription keys"))
            }
            body = try WebPushEncryption.encrypt(message.payload, subscriberKey: key, authSecret: auth)
            headers = [("Authorization", try vapid.authorization(for: endpoint)),
                       ("Content-Encoding", "aes128gcm"), ("Content-Type", "application/octet-stream"),
                       ("TTL", String(message.ttlSeconds)), ("Urgency", message.urgency)]
        } catch {
            return completion(.failed(reason: "cannot encrypt: \(error)"))
        }
        if let topic = message.topic { headers.append(("Topic", topic)) }
        client.request("POST", endpoint, headers: headers, body: body) { result in
            switch result {
            case .success(let response): completion(Self.outcome(of: response))
            case .failure(let error): completion(.retry(afterSeconds: 0, reason: error.description))
            }
        }
    }

    /// What the push service's answer means (RFC 8030 §5, §6.2; RFC 8292 §4.2).
    static func outcome(of response: HTTPClientResponse) -> DeliveryOutcome {
        let detail = String(decoding: response.body.prefix(200), as: UTF8.self)
        switch response.status {
        case 200..<300:
            return .delivered(providerID: response.headers["location"])
        case 404, 410:
            return .failed(reason: Self.goneReason)
        case 429, 500...:
            let after = Double(response.headers["retry-after"]?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
            return .retry(afterSeconds: max(0, after), reason: "push service answered \(response.status)")
        case 413:
            return .failed(reason: "push service answered 413: payload too large")
        default:
            return .failed(reason: "push service answered \(response.status): \(detail)")
        }
    }
}
