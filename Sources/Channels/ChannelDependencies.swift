import Hub

/// A signed-in user as the channel needs to know them.
public struct ChannelUser: Sendable, Equatable {
    // Stored in this order so the struct packs into 58 bytes: every session holds one.
    public let id: Int64
    /// Unix seconds at which the token stops being valid.
    public let tokenExpiresAt: Int64
    public let displayName: String
    public let role: String
    /// The counts read in the same statement as the user, when the verifier could: it saves
    /// the handshake a second query if nothing was published meanwhile (see `Session.bind`).
    public let unreadAtVerification: InboxCounts?
    /// Staff and admins may join any room.
    public let isStaff: Bool

    public init(id: Int64, displayName: String, role: String, isStaff: Bool, tokenExpiresAt: Int64,
                unreadAtVerification: InboxCounts? = nil)
    {
        self.id = id
        self.displayName = displayName
        self.role = role
        self.isStaff = isStaff
        self.tokenExpiresAt = tokenExpiresAt
        self.unreadAtVerification = unreadAtVerification
    }
}

/// A stored notification, ready to send: its id (the resume cursor) and its complete JSON message.
public struct StoredPush: Sendable {
    public let id: Int64
    public let json: [UInt8]

    public init(id: Int64, json: [UInt8]) {
        self.id = id
        self.json = json
    }
}

/// Why a token was refused.
public enum TokenRejection: Error, Sendable {
    case invalid(String)
    case expired
    /// The token could not be checked now (database unavailable or overloaded): try again.
    case unavailable
}

/// What the channel asks of the application (injected: the JWT code and the store in hubd, fakes
/// in tests). Every closure may be called from any thread and may suspend.
public struct ChannelDependencies: Sendable {
    public var verifyToken: @Sendable (String) async -> Result<ChannelUser, TokenRejection>
    /// The same check in callback form, when the verifier can answer without a task: the
    /// handshake then takes no hop through the cooperative thread pool (a reconnect storm is
    /// thousands a second). `done` may run on any thread.
    public var verifyTokenNow: (@Sendable (String, _ done: @escaping @Sendable (Result<ChannelUser, TokenRejection>) -> Void) -> Void)?
    /// May this user join this room (staff may join any; the closure decides for the others)?
    public var canJoinRoom: @Sendable (ChannelUser, String) async -> Bool
    /// Stored notifications of a user with id > `after`, oldest first, at most `limit`.
    public var history: @Sendable (_ userID: Int64, _ after: Int64, _ limit: Int) async throws -> [StoredPush]
    public var unreadCount: @Sendable (Int64) async throws -> InboxCounts
    /// Marks ids read (nil: all); returns the ids changed and the counts after.
    public var markRead: @Sendable (_ userID: Int64, _ ids: [Int64]?) async throws -> InboxOutcome
    /// Applies a client's `mark_seen`, `archive` or `snooze` (nil: refused as unsupported).
    public var changeInbox: (@Sendable (_ userID: Int64, InboxChange) async throws -> InboxOutcome)?
    /// A user came online (first session) or went offline (last session gone for the presence
    /// grace), as this node's presence decides it; called from any thread, must not block.
    public var userPresenceChanged: (@Sendable (_ userID: Int64, _ online: Bool) -> Void)?

    public init(verifyToken: @escaping @Sendable (String) async -> Result<ChannelUser, TokenRejection>,
                canJoinRoom: @escaping @Sendable (ChannelUser, String) async -> Bool,
                history: @escaping @Sendable (Int64, Int64, Int) async throws -> [StoredPush],
                unreadCount: @escaping @Sendable (Int64) async throws -> InboxCounts,
                markRead: @escaping @Sendable (Int64, [Int64]?) async throws -> InboxOutcome)
    {
        self.verifyToken = verifyToken
        verifyTokenNow = nil
        self.canJoinRoom = canJoinRoom
        self.history = history
        self.unreadCount = unreadCount
        self.markRead = markRead
        userPresenceChanged = nil
    }
}

/// Timings and limits of the channel.
public struct ChannelConfiguration: Sendable {
    public var heartbeatIntervalMillis: Int64 = 30_000
    public var heartbeatTimeoutMillis: Int64 = 75_000
    public var authTimeoutMillis: Int64 = 10_000
    /// A user's leave from a room is announced only after this long without a session there.
    public var presenceGraceMillis: Int64 = 5_000
    public var maxMessageBytes = 64 * 1024
    /// Client messages: a bucket of `messageBurst`, refilled at `messagesPerSecond`.
    public var messagesPerSecond = 10.0
    public var messageBurst = 30.0
    /// Refusals (rate_limited errors) after which the session is closed with 4429.
    public var maxRateStrikes = 20
    public var maxRoomsPerSession = 50
    public var historyPageSize = 500

    public init() {}
}
