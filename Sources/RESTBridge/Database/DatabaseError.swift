/// What can go wrong talking to PostgreSQL, in the terms the API answers with.
public enum DatabaseError: Error, CustomStringConvertible, Sendable {
    /// No connection could be made or it broke: the API answers 503 DATABASE_UNAVAILABLE.
    case unavailable(String)
    /// The server refused a statement; `sqlState` is PostgreSQL's five-character code.
    case query(sqlState: String, message: String)
    /// Every worker is busy and the queue is full.
    case overloaded

    public var description: String {
        switch self {
        case .unavailable(let message): "database unavailable: \(message)"
        case .query(let state, let message): "database error \(state): \(message)"
        case .overloaded: "database queue full"
        }
    }

    /// 23505: a unique constraint said no (an email already taken…).
    public var isUniqueViolation: Bool {
        if case .query(let state, _) = self { return state == "23505" }
        return false
    }
}
