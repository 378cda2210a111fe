import Hub

/// Room membership (`kind:id` rooms such as `class:5`), mirrored from the platforms by their
/// backends and staff. Rooms are audiences for events and the only rooms a user may join live.
public struct RoomStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) { self.pool = pool }

    /// The members' user ids, ascending.
    public func members(of room: String) async throws -> [Int64] {
        try await pool.run { connection in
            try connection.executePrepared("SELECT user_id FROM room_members WHERE room = $1 ORDER BY user_id", [room])
                .rows.compactMap { $0.int("user_id").map(Int64.init) }
        }
    }

    /// Adds users (every id must be a user: 400 naming `user_ids` otherwise); answers how many
    /// were new.
    public func add(_ userIDs: [Int64], to room: String) async throws -> Int {
        try await pool.transaction { connection -> Int in
            let ids = PostgresArray.bigint(userIDs)
            let known = try connection.executePrepared("SELECT count(*) AS n FROM users WHERE id = ANY($1::bigint[])", [ids])
                .first?.int("n") ?? 0
            guard known == Set(userIDs).count else { throw APIError.validation([("user_ids", ["Unknown user id in the list."])]) }
            return try connection.executePrepared("""
                INSERT INTO room_members (room, user_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING
                """, [room, ids]).affectedRows
        }
    }

    /// Removes one member; false when they were not a member.
    public func remove(_ userID: Int64, from room: String) async throws -> Bool {
        try await pool.run { connection in
            try connection.executePrepared("DELETE FROM room_members WHERE room = $1 AND user_id = $2",
                                           [room, String(userID)]).affectedRows == 1
        }
    }

    public func isMember(_ userID: Int64, of room: String) async throws -> Bool {
        try await pool.run { connection in
            !(try connection.executePrepared("SELECT 1 FROM room_members WHERE room = $1 AND user_id = $2",
                                             [room, String(userID)]).rows.isEmpty)
        }
    }
}
