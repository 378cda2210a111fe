import Hub

/// Links between parents and the students they are guardians of (mirrored by backends and
/// staff): the audience of `guardians_of` events and of a parent's children list.
public struct GuardianStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    /// Why a link cannot be made.
    public enum Refusal: Error, Sendable {
        case noStudent, noParent, notAParent, sameUser
    }

    public func children(of parentID: Int64) async throws -> [User] {
        try await users("SELECT \(User.columns) FROM users WHERE id IN (SELECT student_id FROM guardians WHERE parent_id = $1) ORDER BY id",
                        parentID)
    }

    public func guardians(of studentID: Int64) async throws -> [User] {
        try await users("SELECT \(User.columns) FROM users WHERE id IN (SELECT parent_id FROM guardians WHERE student_id = $1) ORDER BY id",
                        studentID)
    }

    /// Links `parentID` (a PARENT) to `studentID`; true if the link is new.
    public func link(parent parentID: Int64, student studentID: Int64) async throws -> Result<Bool, Refusal> {
        try await pool.run { connection in
            let roles = Dictionary(uniqueKeysWithValues: try connection.executePrepared(
                "SELECT id, role FROM users WHERE id = ANY($1::bigint[])", [PostgresArray.bigint([studentID, parentID])]
            ).rows.compactMap { row in row.int("id").map { (Int64($0), row.string("role") ?? "") } })
            guard roles[studentID] != nil else { return .failure(.noStudent) }
            guard let parentRole = roles[parentID] else { return .failure(.noParent) }
            guard parentRole == Role.PARENT.rawValue else { return .failure(.notAParent) }
            guard parentID != studentID else { return .failure(.sameUser) }
            return .success(try connection.executePrepared("""
                INSERT INTO guardians (parent_id, student_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
                """, [String(parentID), String(studentID)]).affectedRows == 1)
        }
    }

    /// Removes a link; false if there was none.
    public func unlink(parent parentID: Int64, student studentID: Int64) async throws -> Bool {
        try await pool.run { connection in
            try connection.executePrepared("DELETE FROM guardians WHERE parent_id = $1 AND student_id = $2",
                                           [String(parentID), String(studentID)]).affectedRows == 1
        }
    }

    private func users(_ sql: String, _ id: Int64) async throws -> [User] {
        try await pool.run { connection in
            try connection.executePrepared(sql, [String(id)]).rows.compactMap(User.init(row:))
        }
    }
}
