/// The sessions of one user (or one room) on one loop. Most users have one session: that one is
/// held inline, and a dictionary is made only for the second, so an idle user costs no
/// allocation here.
enum SessionGroup {
    case one(Session)
    case many([ObjectIdentifier: Session])

    init(_ session: Session) {
        self = .one(session)
    }

    mutating func insert(_ session: Session) {
        switch self {
        case .one(let existing):
            if existing === session { return }
            self = .many([ObjectIdentifier(existing): existing, ObjectIdentifier(session): session])
        case .many(var sessions):
            self = .one(session)  // drops this enum's reference, so the dictionary is not copied
            sessions[ObjectIdentifier(session)] = session
            self = .many(sessions)
        }
    }

    /// Removes `session`; returns whether it was there. `isEmpty` afterwards means the group is gone.
    mutating func remove(_ session: Session) -> (removed: Bool, isEmpty: Bool) {
        switch self {
        case .one(let existing):
            return existing === session ? (true, true) : (false, false)
        case .many(var sessions):
            self = .one(session)
            let removed = sessions.removeValue(forKey: ObjectIdentifier(session)) != nil
            if sessions.count == 1, let last = sessions.values.first {
                self = .one(last)
            } else {
                self = .many(sessions)
            }
            return (removed, sessions.isEmpty)
        }
    }

    /// Calls `body` for each session. The group is a value: a session that closes during the call
    /// changes the registry, not this iteration.
    func forEach(_ body: (Session) -> Void) {
        switch self {
        case .one(let session): body(session)
        case .many(let sessions): sessions.values.forEach(body)
        }
    }
}
