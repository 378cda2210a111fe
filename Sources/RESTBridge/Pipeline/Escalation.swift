import Foundation
import Hub
import NotifyDrivers

/// A step of an escalation policy: after `after` seconds, if the condition still holds, the
/// notification goes out on `channels` too ("SMS after 15 minutes if nobody has read it").
///
/// A step is stored with the event, as outbox rows due at `created + after` that carry the
/// condition: a read cancels the `unread` ones in its own transaction, and the outbox worker
/// checks `offline` when the row is due. A channel named in a step is held back from the
/// notification's first send, so the step is the only time it goes out; the recipient's
/// preferences still decide whether it may go out at all (SMS switched off: no SMS, ever).
public struct EscalationStep: Sendable, Equatable {
    public enum Condition: String, Sendable, CaseIterable {
        /// The notification is still unread `after` seconds after it was created.
        case unread
        /// The recipient had no session at all during the last `after` seconds.
        case offline
    }

    public var after: Int
    public var channels: [DeliveryChannel]
    public var condition: Condition
    /// Catalogue policies only: the step applies to events of this priority (e.g. only URGENT).
    public var priority: Priority?

    public init(after: Int, channels: [DeliveryChannel], condition: Condition = .unread, priority: Priority? = nil) {
        self.after = after
        self.channels = channels
        self.condition = condition
        self.priority = priority
    }

    /// Longest wait of a step: a week (an outbox row due later than that is a reminder, not an
    /// escalation).
    public static let maxAfter = 7 * 24 * 3600
    public static let maxSteps = 5
    /// Channels a step may add (IN_APP is always there at once).
    static let channelChoices: [DeliveryChannel] = [.push, .email, .sms, .telegram]

    /// The policy in `value` (a JSON list of steps), or nil with every problem added to `errors`
    /// under `field` (`escalation[1].channels`). A channel may appear in one step only.
    static func parse(_ value: Any, field: String, _ errors: inout FieldErrors, allowPriority: Bool = false)
        -> [EscalationStep]?
    {
        guard let list = value as? [Any] else {
            errors.add(field, "A list of steps: [{\"after\": seconds, \"channels\": [...], \"if\": \"unread\"}].")
            return nil
        }
        guard list.count <= maxSteps else {
            errors.add(field, "At most \(maxSteps) steps.")
            return nil
        }
        let before = errors.fields.count
        var steps: [EscalationStep] = []
        var seen: Set<DeliveryChannel> = []
        for (index, element) in list.enumerated() {
            let prefix = "\(field)[\(index)]"
            guard let object = element as? [String: Any] else {
                errors.add(prefix, "Must be an object {after, channels, if}.")
                continue
            }
            let known: Set<String> = allowPriority ? ["after", "channels", "if", "priority"] : ["after", "channels", "if"]
            for key in object.keys.sorted() where !known.contains(key) {
                errors.add("\(prefix).\(key)", "Unknown field; a step has \(known.sorted().joined(separator: ", ")).")
            }
            var step = EscalationStep(after: 0, channels: [])
            if let after = object["after"].flatMap({ JSONNumber.integer($0) }), (0...Int64(maxAfter)).contains(after) {
                step.after = Int(after)
            } else {
                errors.add("\(prefix).after", "Seconds after the notification was created: an integer from 0 to \(maxAfter).")
            }
            let names = object["channels"] as? [String] ?? []
            let channels = names.compactMap { DeliveryChannel(rawValue: $0.uppercased()) }
            if names.isEmpty || channels.count != names.count || !channels.allSatisfy(channelChoices.contains) {
                errors.add("\(prefix).channels", "A non-empty list of: \(channelChoices.map(\.rawValue).joined(separator: ", ")).")
            } else if let repeated = channels.first(where: { seen.contains($0) }) ?? duplicate(in: channels) {
                errors.add("\(prefix).channels", "\(repeated.rawValue) is already in another step; a channel escalates once.")
            } else {
                step.channels = channels
                seen.formUnion(channels)
            }
            if let condition = object["if"] {
                if let name = condition as? String, let parsed = Condition(rawValue: name) {
                    step.condition = parsed
                } else {
                    errors.add("\(prefix).if", "One of: \(Condition.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
            }
            if allowPriority, let priority = object["priority"] {
                if let name = priority as? String, let parsed = Priority(parsing: name) {
                    step.priority = parsed
                } else {
                    errors.add("\(prefix).priority", "Must be one of: \(Priority.choices).")
                }
            }
            steps.append(step)
        }
        return errors.fields.count == before ? steps : nil
    }

    private static func duplicate(in channels: [DeliveryChannel]) -> DeliveryChannel? {
        var seen: Set<DeliveryChannel> = []
        return channels.first { !seen.insert($0).inserted }
    }

    /// The steps of a catalogue policy that apply to an event of `priority`.
    static func applying(_ policy: [EscalationStep], to priority: Priority) -> [EscalationStep] {
        policy.filter { $0.priority == nil || $0.priority == priority }.map { step in
            var step = step
            step.priority = nil
            return step
        }
    }

    /// The policy as the event statement reads it: `[{"after": 900, "channels": ["SMS"], "if": "unread"}]`.
    static func write(_ steps: [EscalationStep], _ json: inout JSONWriter) {
        json.beginArray()
        for step in steps {
            json.beginObject()
            json.key("after"); json.int(Int64(step.after))
            json.key("channels"); json.beginArray(); for channel in step.channels { json.string(channel.rawValue) }; json.endArray()
            json.field("if", step.condition.rawValue)
            json.endObject()
        }
        json.endArray()
    }
}
