import Foundation
import Hub
import NotifyDrivers

/// What the push routes need from the configuration.
public struct PushSettings: Sendable {
    /// The VAPID public key, base64url of the uncompressed point (browsers' `applicationServerKey`).
    public let publicKey: String
    /// Accept `http:` endpoints (HUB_PUSH_ALLOW_HTTP=1, for tests with a local push service).
    public let allowHTTP: Bool

    public init(publicKey: String, allowHTTP: Bool) {
        self.publicKey = publicKey
        self.allowHTTP = allowHTTP
    }
}

/// `GET /api/v1/push/vapid-public-key/`, `POST/GET /api/v1/push/subscriptions/` and
/// `DELETE /api/v1/push/subscriptions/{id}/`: a user's browsers subscribe to Web Push. Without a
/// VAPID key (`settings` nil) the key is `null` (clients then offer no push) and a valid new
/// subscription answers 404 PUSH_NOT_CONFIGURED: no push here is an answer, not a server fault.
public enum PushRoutes {
    static let keyPaths = ["/api/v1/push/vapid-public-key/"]
    static let listPaths = ["/api/v1/push/subscriptions/"]
    static let itemPaths = ["/api/v1/push/subscriptions/{id}/"]

    public static func register(on router: inout Router, context: APIContext, settings: PushSettings?) {
        let store = PushSubscriptionStore(pool: context.pool)
        @Sendable func configured() throws(APIError) -> PushSettings {
            guard let settings else {
                throw APIError(.notFound, code: "PUSH_NOT_CONFIGURED",
                               message: "Web Push is not configured on this hub (HUB_VAPID_PRIVATE_KEY)")
            }
            return settings
        }
        context.route(&router, .GET, keyPaths, access: .anyone) { _ in
            var json = JSONWriter(capacity: 128)
            json.beginObject()
            json.key("public_key")
            if let settings { json.string(settings.publicKey) } else { json.null() }
            json.endObject()
            return .json(.ok, json.bytes)
        }
        context.route(&router, .POST, listPaths) { request in
            let user = try request.requireUser()
            let input = try parse(try request.body(), allowHTTP: settings?.allowHTTP ?? false)
            _ = try configured()
            let (saved, created) = try await store.save(userID: user.id, endpoint: input.endpoint, p256dh: input.p256dh,
                                                        auth: input.auth, userAgent: input.userAgent)
            var json = JSONWriter(capacity: 256)
            saved.write(to: &json)
            return .json(created ? .created : .ok, json.bytes)
        }
        context.route(&router, .GET, listPaths) { request in
            let user = try request.requireUser()
            let list = try await store.list(userID: user.id)
            return .json(.ok, resultsJSON(list) { subscription, json in subscription.write(to: &json) })
        }
        context.route(&router, .DELETE, itemPaths) { request in
            let user = try request.requireUser()
            guard let id = request.http.parameter("id").flatMap({ Int64($0) }), id > 0,
                  try await store.delete(id: id, userID: user.id)
            else { throw APIError.notFound("Subscription") }
            return HTTPResponse(status: .noContent)
        }
    }

    struct Input {
        let endpoint: String
        let p256dh: String
        let auth: String
        let userAgent: String?
    }

    /// A host the hub must not be made to POST to: localhost, or a loopback, private, link-local or
    /// unspecified address literal. (A public name that resolves to such an address is not caught
    /// here; push services are public names.) Tests with a local push service set allowHTTP.
    static func isInternal(_ rawHost: String) -> Bool {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        let octets = parts.compactMap { Int($0) }.filter { (0...255).contains($0) }
        if parts.count == 4 && octets.count == 4 {
            let (a, b) = (octets[0], octets[1])
            return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) || (a == 172 && (16...31).contains(b))
                || (a == 192 && b == 168) || (a == 100 && (64...127).contains(b))
        }
        guard host.contains(":") else { return false }
        return host == "::" || host == "::1" || host.hasPrefix("fc") || host.hasPrefix("fd") || host.hasPrefix("fe80")
            || host.hasPrefix("::ffff:")
    }

    /// `PushSubscription.toJSON()` plus `user_agent`, every fault named by its field
    /// (`endpoint`, `keys.p256dh`, `keys.auth`, `expirationTime`, `user_agent`).
    static func parse(_ body: JSONBody, allowHTTP: Bool) throws(APIError) -> Input {
        var errors = FieldErrors()
        let endpoint = body.string("endpoint", &errors, required: true, maxLength: 2048)
        if let endpoint {
            let url = URL(string: endpoint)
            let scheme = url?.scheme?.lowercased()
            if url?.host?.isEmpty != false {
                errors.add("endpoint", "Enter a valid URL.")
            } else if scheme != "https" && !(allowHTTP && scheme == "http") {
                errors.add("endpoint", "Must be an https URL.")
            } else if !allowHTTP, let host = url?.host, isInternal(host) {
                errors.add("endpoint", "Must be a public push service, not a loopback or private address.")
            }
        }
        var p256dh: String?, auth: String?
        if let keys = body.object["keys"] as? [String: Any] {
            let nested = JSONBody(object: keys, fieldPrefix: "keys.")
            if let text = nested.string("p256dh", &errors, required: true, maxLength: 200) {
                if let point = Base64URL.decode(text), point.count == 65, (try? P256Key.publicKey(point)) != nil {
                    p256dh = Base64URL.encode(point)
                } else {
                    errors.add("keys.p256dh", "Must be base64url of an uncompressed P-256 public key (65 bytes).")
                }
            }
            if let text = nested.string("auth", &errors, required: true, maxLength: 100) {
                if let secret = Base64URL.decode(text), secret.count == 16 {
                    auth = Base64URL.encode(secret)
                } else {
                    errors.add("keys.auth", "Must be base64url of a 16-byte secret.")
                }
            }
        } else {
            errors.add("keys", body.has("keys") ? "Must be an object with p256dh and auth." : "This field is required.")
        }
        if let expiry = body.object["expirationTime"], !isJSONNull(expiry), JSONNumber.integer(expiry) == nil {
            errors.add("expirationTime", "Must be null or a time in milliseconds.")
        }
        let userAgent = body.string("user_agent", &errors, maxLength: 512)
        try errors.throwIfAny()
        return Input(endpoint: endpoint!, p256dh: p256dh!, auth: auth!, userAgent: userAgent)
    }
}
