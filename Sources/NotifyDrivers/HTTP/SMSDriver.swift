import Foundation
import Hub

/// SMS through an HTTP gateway, chosen by `HUB_SMS_URL`: by default a JSON webhook
/// (`POST {"to", "text", "from"}`), or with `?format=twilio` a Twilio-compatible form POST
/// (`To`, `From`, `Body`) with basic auth from the URL's user and password.
public final class SMSDriver: DeliveryDriver, Sendable {
    public let channel = DeliveryChannel.sms
    private let endpoint: URL
    private let twilio: Bool
    private let from: String?
    private let authorization: String?
    private let client: HTTPClient

    public init(url text: String, client: HTTPClient) throws {
        guard var components = URLComponents(string: text), components.host != nil else { throw TransportError("invalid HUB_SMS_URL") }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        twilio = query["format"] == "twilio"
        from = query["from"]
        if let user = components.user {
            let password = components.password ?? ""
            authorization = "Basic " + Data("\(user.removingPercentEncoding ?? user):\(password.removingPercentEncoding ?? password)".utf8)
                .base64EncodedString()
        } else {
            authorization = nil
        }
        components.user = nil
        components.password = nil
        components.queryItems = (components.queryItems ?? []).filter { !["format", "from"].contains($0.name) }
        if components.queryItems?.isEmpty == true { components.queryItems = nil }
        guard let url = components.url else { throw TransportError("invalid HUB_SMS_URL") }
        endpoint = url
        self.client = client
    }

    /// E.164: `+`, then 7 to 15 digits, no leading zero.
    public static func isE164(_ number: String) -> Bool {
        number.range(of: #"^\+[1-9][0-9]{6,14}$"#, options: .regularExpression) != nil
    }

    public func send(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome) -> Void) {
        guard Self.isE164(delivery.destination) else { return completion(.failed(reason: "not an E.164 number: \(delivery.destination)")) }
        var headers: [(String, String)] = []
        if let authorization { headers.append(("Authorization", authorization)) }
        let body: [UInt8]
        if twilio {
            var form = URLComponents()
            form.queryItems = [URLQueryItem(name: "To", value: delivery.destination), URLQueryItem(name: "Body", value: delivery.text)]
                + (from.map { [URLQueryItem(name: "From", value: $0)] } ?? [])
            let encoded = (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
            body = Array(encoded.utf8)
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        } else {
            var payload: [String: Any] = ["to": delivery.destination, "text": delivery.text]
            if let from { payload["from"] = from }
            body = Array((try? JSONSerialization.data(withJSONObject: payload)) ?? Data())
            headers.append(("Content-Type", "application/json"))
        }
        client.request("POST", endpoint, headers: headers, body: body) { result in
            switch result {
            case .success(let response): completion(Self.outcome(of: response))
            case .failure(let error): completion(.retry(afterSeconds: 0, reason: error.description))
            }
        }
    }

    /// What the gateway's answer means for the delivery.
    static func outcome(of response: HTTPClientResponse) -> DeliveryOutcome {
        switch response.status {
        case 200..<300:
            let json = response.json
            let id = (json?["sid"] as? String) ?? (json?["id"] as? String) ?? (json?["message_id"] as? String)
                ?? (json?["id"] as? NSNumber)?.stringValue
            return .delivered(providerID: id)
        case 429:
            return .retry(afterSeconds: Double(response.headers["retry-after"] ?? "") ?? 5, reason: "429 from the SMS gateway")
        case 408, 500...:
            return .retry(afterSeconds: 0, reason: "SMS gateway answered \(response.status)")
        default:
            return .failed(reason: "SMS gateway answered \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
    }
}
