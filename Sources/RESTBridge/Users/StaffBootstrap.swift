import Foundation

/// The first staff account of a new hub (`HUB_ADMIN_EMAIL` with the password in
/// `HUB_ADMIN_PASSWORD_FILE`; `make run` makes both): created at start when no user has that email,
/// never changed afterwards (a password changed since is kept).
public enum StaffBootstrap {
    /// Creates the account if it is missing; answers whether it did.
    public static func ensure(email: String, password: String, on connection: PostgresConnection) throws -> Bool {
        let hash = PasswordHasher().hash(password)
        return try connection.executePrepared("""
            INSERT INTO users (email, password, first_name, last_name, role)
            SELECT $1, $2, 'Admin', '', 'ADMIN' WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))
            ON CONFLICT DO NOTHING RETURNING id
            """, [email, hash]).first != nil
    }
}
