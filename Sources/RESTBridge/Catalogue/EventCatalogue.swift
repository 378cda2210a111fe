import Foundation

/// The event catalogue (`Catalogue/events.json`): for each notification type, its category,
/// default priority, and title/message templates in English, Arabic and French with
/// `{placeholders}` filled from the event's data. A template whose placeholder has no value in
/// the data is replaced by the entry's fallback wording, so no reader ever sees a literal `{…}`.
public struct EventCatalogue: Sendable {
    public struct Entry: Sendable {
        public let type: String
        public let category: String
        public let priority: String
        public let title: [String: String]
        public let message: [String: String]
        /// The default escalation policy; its steps may each apply to one priority only.
        public var escalation: [EscalationStep] = []
        /// Wording without placeholders, used when the data lacks one of the template's fields.
        public var fallbackTitle: [String: String] = [:]
        public var fallbackMessage: [String: String] = [:]
    }

    public let entries: [String: Entry]

    public init(entries: [Entry]) {
        self.entries = Dictionary(entries.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The catalogue shipped with the hub.
    public static func bundled() throws -> EventCatalogue {
        guard let url = Bundle.module.url(forResource: "events", withExtension: "json") else {
            throw CatalogueError(description: "events.json is missing from the RESTBridge bundle")
        }
        return try parse(Data(contentsOf: url))
    }

    public struct CatalogueError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ data: Data) throws -> EventCatalogue {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let events = root["events"] as? [[String: Any]]
        else { throw CatalogueError(description: "the catalogue must be {\"events\": [...]}") }
        let entries = try events.map { event -> Entry in
            guard let type = event["type"] as? String, let category = event["category"] as? String,
                  let priority = event["priority"] as? String, let title = event["title"] as? [String: String],
                  let message = event["message"] as? [String: String],
                  ["en", "ar", "fr"].allSatisfy({ title[$0] != nil && message[$0] != nil })
            else { throw CatalogueError(description: "incomplete catalogue entry: \(event["type"] ?? "?")") }
            var entry = Entry(type: type, category: category, priority: priority, title: title, message: message)
            if let policy = event["escalation"] {
                var errors = FieldErrors()
                guard let steps = EscalationStep.parse(policy, field: "escalation", &errors, allowPriority: true) else {
                    let problems = errors.fields.map { "\($0.0): \($0.1.joined(separator: " "))" }.joined(separator: "; ")
                    throw CatalogueError(description: "\(type): \(problems)")
                }
                entry.escalation = steps
            }
            entry.fallbackTitle = event["fallback_title"] as? [String: String] ?? [:]
            entry.fallbackMessage = event["fallback_message"] as? [String: String] ?? [:]
            // Without its own, a message falls back to the title when the title has no placeholder.
            for language in ["en", "ar", "fr"] where entry.fallbackMessage[language] == nil {
                if let title = title[language], placeholders(title).isEmpty { entry.fallbackMessage[language] = title }
            }
            for (templates, fallback) in [(title, entry.fallbackTitle), (message, entry.fallbackMessage)] {
                for language in ["en", "ar", "fr"] where !placeholders(templates[language]!).isEmpty {
                    guard let text = fallback[language], placeholders(text).isEmpty else {
                        throw CatalogueError(description: "\(type): a template with placeholders needs a fallback in \(language)")
                    }
                }
            }
            return entry
        }
        return EventCatalogue(entries: entries)
    }

    /// The `{name}`s of a template.
    public static func placeholders(_ template: String) -> [String] {
        var names: [String] = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// Fills `{name}` from `data` (strings and numbers); nil when a placeholder has no value.
    public static func render(_ template: String, data: [String: String]) -> String? {
        // On UTF-8 bytes (the braces are ASCII): walking the Characters of Arabic and French
        // templates, six per event, was a fifth of a bulk request's validation (perf).
        let bytes = Array(template.utf8)
        guard var open = bytes.firstIndex(of: UInt8(ascii: "{")) else { return template }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        var start = 0
        while true {
            out.append(contentsOf: bytes[start..<open])
            guard let close = bytes[open...].firstIndex(of: UInt8(ascii: "}")) else {
                start = open
                break
            }
            let name = String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
            guard let value = data[name], !value.isEmpty else { return nil }
            out.append(contentsOf: value.utf8)
            start = close + 1
            guard let next = bytes[start...].firstIndex(of: UInt8(ascii: "{")) else { break }
            open = next
        }
        out.append(contentsOf: bytes[start...])
        return String(decoding: out, as: UTF8.self)
    }
}
