import Dispatch
import Foundation
import NotifyDrivers

/// What the webhook routes need from the configuration.
public struct WebhookSettings: Sendable {
    /// Accept `http:` URLs (HUB_WEBHOOK_ALLOW_HTTP=1).
    public let allowHTTP: Bool
    /// Accept hosts that resolve to loopback or private addresses (HUB_WEBHOOK_ALLOW_PRIVATE=1, tests).
    public let allowPrivate: Bool

    public init(allowHTTP: Bool, allowPrivate: Bool) {
        self.allowHTTP = allowHTTP
        self.allowPrivate = allowPrivate
    }
}

/// The body of `POST` (everything required) and `PATCH` (anything) on webhook endpoints, every
/// fault named by its field. The URL's host is resolved off the event loops and every address it
/// gives must be public (unless allowed); the outbox checks the address again at each connect.
struct WebhookEndpointInput {
    var url: String?
    var eventTypes: [String]?
    var description: String?
    var disabled: Bool?

    static let maxEventTypes = 100

    static func parse(_ body: JSONBody, partial: Bool, settings: WebhookSettings) async throws(APIError) -> WebhookEndpointInput {
        var errors = FieldErrors()
        var input = WebhookEndpointInput()
        var host: (String, Int)?
        if let text = body.string("url", &errors, required: !partial, maxLength: 2048) {
            switch checkURL(text, settings: settings) {
            case .success(let target):
                input.url = text
                host = target
            case .failure(let message):
                errors.add("url", message.text)
            }
        }
        if let value = body.object["event_types"], !isJSONNull(value) {
            if let list = value as? [Any], !list.isEmpty, list.count <= maxEventTypes {
                var types: [String] = []
                for (index, item) in list.enumerated() {
                    if let type = item as? String, isEventType(type) {
                        if !types.contains(type) { types.append(type) }
                    } else {
                        errors.add("event_types[\(index)]",
                                   "An event type such as enrollment.created, with an optional trailing wildcard (notification.*), or *.")
                    }
                }
                input.eventTypes = types
            } else {
                errors.add("event_types", "A list of 1 to \(maxEventTypes) event types.")
            }
        } else if !partial || isJSONNull(body.object["event_types"]) {
            errors.add("event_types", "This field is required.")
        }
        input.description = body.string("description", &errors, maxLength: 500)
        input.disabled = body.bool("disabled", &errors)
        if errors.isEmpty, let (name, port) = host, !settings.allowPrivate, let why = await publicHostProblem(name, port: port) {
            errors.add("url", "Refused: \(why). Webhooks go to public addresses only.")
        }
        try errors.throwIfAny()
        return input
    }

    struct Problem: Error { let text: String }

    /// Scheme, host and form of a webhook URL (no DNS): the host and port to check, or what is wrong.
    static func checkURL(_ text: String, settings: WebhookSettings) -> Result<(String, Int), Problem> {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let rawHost = url.host, !rawHost.isEmpty else {
            return .failure(Problem(text: "Enter a valid URL."))
        }
        guard scheme == "https" || (scheme == "http" && settings.allowHTTP) else {
            return .failure(Problem(text: settings.allowHTTP ? "Must be an http or https URL." : "Must be an https URL."))
        }
        guard url.user == nil && url.password == nil else {
            return .failure(Problem(text: "Must not carry a user name or password."))
        }
        guard url.fragment == nil else { return .failure(Problem(text: "Must not have a #fragment.")) }
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return .success((host, url.port ?? (scheme == "https" ? 443 : 80)))
    }

    /// `enrollment.created`, `notification.*` or `*`.
    static func isEventType(_ text: String) -> Bool {
        text == "*" || text.range(of: #"^[A-Za-z0-9_][A-Za-z0-9_:-]*(\.[A-Za-z0-9_:-]+)*(\.\*)?$"#,
                                   options: .regularExpression) != nil && text.count <= 128
    }

    /// Resolves on a thread of its own (getaddrinfo blocks), never on an event loop.
    static func publicHostProblem(_ host: String, port: Int) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: PublicAddress.checkHost(host, port: port)) }
        }
    }
}
