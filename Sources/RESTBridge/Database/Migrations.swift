/// Numbered schema changes, applied at start-up in order, each once, each in its own transaction
/// under an advisory lock (several hubd nodes may start together). Never edit a released one:
/// add the next number.
public enum Migrations {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    /// Every migration, in version order (each area's are in Migrations+Area.swift).
    public static let all: [Migration] = (core + delivery + cluster + inbox + time).sorted { $0.version < $1.version }

    /// Applies what is missing; returns the versions applied now (empty on a second start).
    public static func apply(on connection: PostgresConnection, migrations: [Migration] = all) throws -> [Int] {
        // Under the lock too: nodes starting together on a new database raced on this CREATE
        // (IF NOT EXISTS does not stop two creators; one failed on pg_type's unique index).
        try connection.executeScript("""
            BEGIN;
            SELECT pg_advisory_xact_lock(7468756201);
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            );
            COMMIT
            """)
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            try connection.execute("BEGIN")
            do {
                try connection.execute("SELECT pg_advisory_xact_lock(7468756201)")
                let done = try connection.execute("SELECT 1 FROM schema_migrations WHERE version = $1", [String(migration.version)])
                if done.rows.isEmpty {
                    try connection.executeScript(migration.sql)
                    try connection.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                           [String(migration.version), migration.name])
                    applied.append(migration.version)
                }
                try connection.execute("COMMIT")
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw error
            }
        }
        return applied
    }
}
