import Foundation
import Hub

/// Telegram Bot API `sendMessage`. 429 waits `parameters.retry_after`; 403 (the user blocked the
/// bot) fails for good, and the outbox then turns the user's Telegram switch off.
public final class TelegramDriver: DeliveryDriver, Sendable {
    public let channel = DeliveryChannel.telegram
    public static let blockedPrefix = "blocked:"
    private let endpoint: URL
    private let client: HTTPClient

    public init(apiBase: String, token: String, client: HTTPClient) throws {
        endpoint = try Self.endpoint(apiBase: apiBase, token: token)
        self.client = client
    }

    /// `{base}/bot{token}/sendMessage`; throws for a base that is not a URL.
    public static func endpoint(apiBase: String, token: String) throws -> URL {
        let base = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
        guard let url = URL(string: "\(base)/bot\(token)/sendMessage"), url.host != nil else {
            throw TransportError("invalid Telegram API base")
        }
        return url
    }

    public func send(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome) -> Void) {
        let payload: [String: Any] = ["chat_id": delivery.destination, "text": delivery.text]
        guard let body = try? JSONSerialization.data(withJSONObject: payload) else { return completion(.failed(reason: "unencodable")) }
        client.request("POST", endpoint, headers: [("Content-Type", "application/json")], body: Array(body)) { result in
            switch result {
            case .success(let response): completion(Self.outcome(of: response))
            case .failure(let error): completion(.retry(afterSeconds: 0, reason: error.description))
            }
        }
    }

    /// What an answer of the Bot API means for the delivery.
    static func outcome(of response: HTTPClientResponse) -> DeliveryOutcome {
        let json = response.json
        let description = (json?["description"] as? String) ?? "HTTP \(response.status)"
        switch response.status {
        case 200..<300:
            let id = ((json?["result"] as? [String: Any])?["message_id"] as? NSNumber)?.stringValue
            return .delivered(providerID: id)
        case 429:
            let after = ((json?["parameters"] as? [String: Any])?["retry_after"] as? NSNumber)?.doubleValue
                ?? Double(response.headers["retry-after"] ?? "") ?? 1
            return .retry(afterSeconds: after, reason: "429: \(description)")
        case 403:
            return .failed(reason: "\(Self.blockedPrefix) 403 \(description)")
        case 500...:
            return .retry(afterSeconds: 0, reason: "\(response.status): \(description)")
        default:
            return .failed(reason: "\(response.status): \(description)")
        }
    }
}
