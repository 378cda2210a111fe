/// Issues and checks token pairs. A refresh token gives new access tokens until it expires
/// (simplejwt's default); with rotation on, each use answers a new pair and revokes the used one.
public struct TokenService: Sendable {
    public let jwt: JWT
    let pool: DatabasePool

    public init(jwt: JWT, pool: DatabasePool) {
        self.jwt = jwt
        self.pool = pool
    }

    public struct Pair: Sendable {
        public let access: String
        public let refresh: String
    }

    public func issuePair(for userID: Int64) -> Pair {
        Pair(access: jwt.issue(.access, userID: userID).0, refresh: jwt.issue(.refresh, userID: userID).0)
    }

    /// Exchanges a refresh token for a new pair. The old token is revoked in the same statement
    /// that checks it, so two concurrent uses cannot both succeed.
    public func rotate(_ refresh: String) async throws -> (Pair, Int64) {
        let claims = try refreshClaims(refresh)
        let inserted = try await pool.run { connection in
            try connection.executePrepared("""
                INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, to_timestamp($2)) ON CONFLICT (jti) DO NOTHING
                """, [claims.jti, String(claims.expiresAt)]).affectedRows
        }
        guard inserted == 1 else { throw APIError.unauthorized("Token is blacklisted", code: "TOKEN_INVALID") }
        return (issuePair(for: claims.userID), claims.userID)
    }

    /// A new access token for a valid, unrevoked refresh token (no rotation); the token stays usable.
    public func access(for refresh: String) async throws -> (String, Int64) {
        let claims = try refreshClaims(refresh)
        if try await isRevoked(claims.jti) { throw APIError.unauthorized("Token is blacklisted", code: "TOKEN_INVALID") }
        return (jwt.issue(.access, userID: claims.userID).0, claims.userID)
    }

    private func refreshClaims(_ token: String) throws(APIError) -> JWT.Claims {
        do {
            return try jwt.verify(token, as: .refresh)
        } catch {
            throw APIError.unauthorized(error.message, code: "TOKEN_INVALID")
        }
    }

    public func isRevoked(_ jti: String) async throws -> Bool {
        try await pool.run { connection in
            !(try connection.executePrepared("SELECT 1 FROM revoked_tokens WHERE jti = $1", [jti]).rows.isEmpty)
        }
    }
}
