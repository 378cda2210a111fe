import Foundation

/// A domain event as the pipeline takes it: validated, its texts rendered in every language, its
/// audience not yet resolved (that happens in PostgreSQL, in the statement that stores it).
public struct EventRequest: Sendable {
    public var type: String
    public var category: String
    public var priority: Priority
    public var title: Localized
    public var message: Localized
    /// The event's own payload, a JSON object's text, stored and pushed as posted.
    public var data: String
    public var recipients: Recipients
    public var idempotencyKey: String?
    public var relatedObjectType: String?
    public var relatedObjectID: String?
    public var requiresAction = false
    /// Later sends if the notification stays unread (or its recipient offline); see EscalationStep.
    public var escalation: [EscalationStep] = []
    /// Only the recipients whose time zone (preferences, else UTC) this is: a reminder fires once
    /// per zone, at the rule's time on each recipient's clock.
    public var recipientTimezone: String?
    /// ISO 8601: after it the notification is neither listed, counted, pushed nor replayed.
    public var expiresAt: String?
    /// An announcement (`all`) also for accounts created after it (by default they do not see it).
    public var includeNewUsers = false

    public init(type: String, category: String, priority: Priority, title: Localized, message: Localized,
                data: String = "{}", recipients: Recipients, idempotencyKey: String? = nil)
    {
        self.type = type
        self.category = category
        self.priority = priority
        self.title = title
        self.message = message
        self.data = data
        self.recipients = recipients
        self.idempotencyKey = idempotencyKey
    }
}

/// Who an event is for. Users named by id, members of rooms, holders of roles and the guardians
/// of students are resolved together (a user named twice gets one notification); `everyone` is an
/// announcement, stored once and shown to every user.
public struct Recipients: Sendable, Equatable {
    public var users: [Int64] = []
    public var rooms: [String] = []
    public var roles: [Role] = []
    public var guardiansOf: [Int64] = []
    public var everyone = false

    public init(users: [Int64] = [], rooms: [String] = [], roles: [Role] = [], guardiansOf: [Int64] = [],
                everyone: Bool = false)
    {
        self.users = users
        self.rooms = rooms
        self.roles = roles
        self.guardiansOf = guardiansOf
        self.everyone = everyone
    }

    public var isEmpty: Bool { !everyone && users.isEmpty && rooms.isEmpty && roles.isEmpty && guardiansOf.isEmpty }
}
