/// What a session's state machine asks its adapter to do. The machine never touches sockets,
/// tasks or clocks; `Session` (the adapter) carries these out on the loop, and tests read them.
enum SessionAction {
    /// Send a JSON text message (built by the machine).
    case send([UInt8])
    /// Send a live push that was held while the session started or resumed (its shared frame).
    case sendPush(Push)
    /// Start the closing handshake with this code and reason; the machine is closed from now on.
    case close(CloseCode, reason: String)
    /// Check a token off the loop; answer with `tokenVerified(_:first:generation:now:)`.
    case verifyToken(String, first: Bool)
    /// Register the session under its user so publishes reach it, then learn the unread count:
    /// `known` is the count read with the token and the publish generation read before it, exact if
    /// nothing was published since; otherwise load it. Answer with `unreadCountLoaded`.
    case bind(ChannelUser, known: KnownUnread?)
    /// Load stored notifications after this id (a page); answer with `historyLoaded`.
    case loadHistory(after: Int64, limit: Int)
    /// Persist read state (nil: all); answer with `markReadFinished`.
    case markRead([Int64]?)
    /// Tell every session of the user which notifications are read (a publish to the user).
    case announceRead(InboxOutcome)
    /// Persist a seen/archive/snooze change; answer with `inboxChangeFinished`.
    case changeInbox(InboxChange)
    /// Tell every session of the user of the change (`notification_updated`).
    case announceChange(InboxOutcome, state: String)
    /// Ask whether the user may join a room; answer with `roomChecked`.
    case checkRoom(String)
    /// Join the room's presence and send `presence_state` with its members.
    case joinRoom(String)
    /// Send `presence_state` for a room the session is already in.
    case sendPresenceState(String)
    /// Leave the room's presence.
    case leaveRoom(String)
}

/// An unread count read together with the user, and the publish generation read before it.
struct KnownUnread: Sendable, Equatable {
    let count: InboxCounts
    let generation: UInt64

    init(count: InboxCounts, generation: UInt64) {
        self.count = count
        self.generation = generation
    }
}
