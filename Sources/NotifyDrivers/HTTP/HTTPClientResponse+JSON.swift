import Foundation
import Hub

extension HTTPClientResponse {
    /// The body as a JSON object, when it is one (the providers answer JSON).
    public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
}
