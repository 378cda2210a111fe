/// The SQL for users; every value travels as a `$n` parameter.
public struct UserStore: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    public struct NewUser: Sendable {
        public var email: String
        public var username: String?
        public var passwordHash: String
        public var firstName: String
        public var lastName: String
        public var phone: String?
        public var role: Role
        public var language: String
        public var gender: String?
    }

    public func create(_ new: NewUser) async throws -> User {
        try await pool.run { connection in
            // `user.created` webhooks in the statement that creates the user.
            let result = try connection.executePrepared("""
                WITH u AS (
                    INSERT INTO users (email, username, password, first_name, last_name, phone, role, language, gender)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *),
                webhooks AS (\(WebhookOutbox.insert(type: "'user.created'", data: """
                    jsonb_build_object('user_id', u.id, 'email', u.email, 'username', u.username, 'first_name', u.first_name,
                        'last_name', u.last_name, 'role', u.role, 'language', u.language)
                    """, from: "u")))
                SELECT \(User.columns) FROM u
                """, [new.email, new.username, new.passwordHash, new.firstName, new.lastName, new.phone,
                      new.role.rawValue, new.language, new.gender])
            guard let row = result.first, let user = User(row: row) else { throw DatabaseError.query(sqlState: "", message: "no row") }
            return user
        }
    }

    public func find(id: Int64) async throws -> User? {
        try await pool.run { connection in
            try connection.executePrepared("SELECT \(User.columns) FROM users WHERE id = $1", [String(id)]).first
                .flatMap(User.init(row:))
        }
    }

    /// By email or username, case-insensitively.
    public func find(login: String) async throws -> User? {
        try await pool.run { connection in
            try connection.executePrepared("""
                SELECT \(User.columns) FROM users WHERE lower(email) = lower($1) OR lower(username) = lower($1)
                ORDER BY (lower(email) = lower($1)) DESC LIMIT 1
                """, [login]).first.flatMap(User.init(row:))
        }
    }

    public func emailTaken(_ email: String, except id: Int64? = nil) async throws -> Bool {
        try await pool.run { connection in
            !(try connection.executePrepared("SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2",
                                             [email, String(id ?? 0)]).rows.isEmpty)
        }
    }

    public func usernameTaken(_ username: String, except id: Int64? = nil) async throws -> Bool {
        try await pool.run { connection in
            !(try connection.executePrepared("SELECT 1 FROM users WHERE lower(username) = lower($1) AND id <> $2",
                                             [username, String(id ?? 0)]).rows.isEmpty)
        }
    }

    /// Updates the profile fields given (nil: unchanged).
    public func update(id: Int64, email: String?, username: String?, firstName: String?, lastName: String?,
                       phone: String?, language: String?) async throws -> User?
    {
        try await pool.run { connection in
            try connection.executePrepared("""
                UPDATE users SET email = COALESCE($2, email), username = COALESCE($3, username),
                    first_name = COALESCE($4, first_name), last_name = COALESCE($5, last_name),
                    phone = COALESCE($6, phone), language = COALESCE($7, language), updated_at = now()
                WHERE id = $1 RETURNING \(User.columns)
                """, [String(id), email, username, firstName, lastName, phone, language]).first.flatMap(User.init(row:))
        }
    }

    public func setPassword(id: Int64, hash: String) async throws {
        _ = try await pool.run { connection in
            try connection.executePrepared("UPDATE users SET password = $2, updated_at = now() WHERE id = $1",
                                           [String(id), hash])
        }
    }

    public func recordLogin(id: Int64) async throws {
        _ = try await pool.run { connection in
            try connection.executePrepared("UPDATE users SET last_login = now() WHERE id = $1", [String(id)])
        }
    }
}
