import Foundation
import Hub
import RESTBridge

/// Test users and their tokens, made directly: users inserted in PostgreSQL in one statement
/// (password hashing through the API would take minutes for thousands), tokens minted with the
/// shared secret exactly as hubd mints them.
struct HubSetup {
    let databaseURL: String
    let jwt: JWT

    init(databaseURL: String, secret: String) {
        self.databaseURL = databaseURL
        jwt = JWT(secret: secret, accessTTL: 24 * 3600)
    }

    /// Creates `count` students for this run and returns their ids and access tokens.
    func makeUsers(_ count: Int, run: String) throws -> [(id: Int64, token: String)] {
        let connection = try PostgresConnection(url: databaseURL)
        let ids = try connection.execute("""
            INSERT INTO users (email, password, first_name, role)
            SELECT 'load-' || $1 || '-' || g || '@bench.local', '!', 'Load ' || g, 'STUDENT' FROM generate_series(1, $2::int) g
            RETURNING id
            """, [run, String(count)]).rows.compactMap { $0.int("id").map(Int64.init) }
        return ids.map { ($0, jwt.issue(.access, userID: $0).0) }
    }

    /// Empties every table of the hub's (not the migrations or the service keys): the state of a
    /// new deployment, which is where plans made on empty tables once made the event path collapse.
    func emptyHubTables() throws {
        let connection = try PostgresConnection(url: databaseURL)
        try connection.execute("""
            TRUNCATE users, guardians, revoked_tokens, notifications, room_members, notification_preferences, events,
                announcement_reads, deliveries RESTART IDENTITY CASCADE
            """)
    }

    func addToRoom(_ room: String, _ ids: [Int64]) throws {
        let connection = try PostgresConnection(url: databaseURL)
        try connection.execute("INSERT INTO room_members (room, user_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
                               [room, PostgresArray.bigint(ids)])
    }
}
