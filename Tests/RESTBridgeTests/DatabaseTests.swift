import Foundation
import Testing
@testable import RESTBridge

/// Against the real PostgreSQL that `make test` starts (HUB_TEST_DATABASE_URL).
@Suite(.serialized) struct DatabaseTests {
    static let url = ProcessInfo.processInfo.environment["HUB_TEST_DATABASE_URL"]
        ?? "postgresql://postgres@127.0.0.1:54329/hub_test"

    @Test func migrationsApplyOnceThenNothing() async throws {
        let pool = DatabasePool(url: Self.url, workers: 2)
        let schema = "t_\(UUID().uuidString.prefix(8).lowercased())"
        let applied: ([Int], [Int], String?) = try await pool.run { connection in
            try connection.executeScript("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
            defer { _ = try? connection.executeScript("SET search_path TO public; DROP SCHEMA \(schema) CASCADE") }
            let first = try Migrations.apply(on: connection)
            let second = try Migrations.apply(on: connection)
            let count = try connection.execute("SELECT count(*) AS n FROM schema_migrations").first?.string("n")
            return (first, second, count)
        }
        #expect(applied.0 == Migrations.all.map(\.version))
        #expect(applied.1 == [])
        #expect(applied.2 == String(Migrations.all.count))
    }

    /// Timestamps are written by `hub_iso` in every answer: it must give the API's format and be
    /// inlined into the statements that call it (a function call per row and a parse per
    /// statement otherwise; see migration 19).
    @Test func isoTimestampsAreInlined() throws {
        let (text, plan): (String?, String) = try withSchema { connection in
            let text = try connection.execute("SELECT hub_iso('2026-03-29 01:30:00.25+02') AS t").first?.string("t")
            let plan = try connection.execute("EXPLAIN (VERBOSE) SELECT hub_iso(now())").rows
                .compactMap { $0.string("QUERY PLAN") }.joined(separator: "\n")
            return (text, plan)
        }
        #expect(text == "2026-03-28T23:30:00.250Z")
        #expect(plan.contains("to_char("), "hub_iso was not inlined: \(plan)")
    }

    /// Every handshake batch counts the live announcements and lists when they were made; both
    /// must be read from their index alone (migration 20), or each live announcement costs a
    /// table row in every batch. The planner is told to avoid the table (a test schema is small).
    @Test func liveAnnouncementsAreCountedFromTheirIndex() throws {
        let plan: String = try withSchema { connection in
            try connection.executeScript("""
                INSERT INTO notifications (recipient_id, notification_type, title, message, expires_at)
                SELECT NULL, 'announcement', 't', 'm', CASE WHEN i % 2 = 0 THEN now() + interval '1 day' END
                FROM generate_series(1, 50) AS i
                """)
            try connection.executeScript("VACUUM ANALYZE notifications")
            try connection.executeScript("""
                SET enable_seqscan = off; SET enable_bitmapscan = off;
                PREPARE look(bigint[]) AS \(NotificationStore.usersWithCounts)
                """)
            defer { _ = try? connection.executeScript("DEALLOCATE look; RESET enable_seqscan; RESET enable_bitmapscan") }
            return try connection.execute("EXPLAIN EXECUTE look('{1}')").rows
                .compactMap { $0.string("QUERY PLAN") }.joined(separator: "\n")
        }
        let covered = plan.components(separatedBy: "Index Only Scan using notifications_announcements_live").count - 1
        #expect(covered == 2, "the live announcements were not read from their index alone: \(plan)")
    }

    /// Each area keeps its migrations in a file of its own: together they must still be 1, 2, 3…
    /// with none missing and none twice.
    @Test func migrationsAreNumberedWithoutGapsOrRepeats() {
        #expect(Migrations.all.map(\.version) == Array(1...Migrations.all.count))
    }

    @Test func parametersAreNeverSQL() async throws {
        let pool = DatabasePool(url: Self.url, workers: 1)
        let hostile = "x'); DROP TABLE users; --"
        let echoed = try await pool.run { connection in
            try connection.executePrepared("SELECT $1::text AS value, $2::text IS NULL AS missing", [hostile, nil]).first
        }
        #expect(echoed?.string("value") == hostile)
        #expect(echoed?.bool("missing") == true)
    }

    @Test func queryErrorsCarryTheSQLState() async throws {
        let pool = DatabasePool(url: Self.url, workers: 1)
        await #expect(throws: DatabaseError.self) {
            try await pool.run { connection in try connection.execute("SELECT * FROM no_such_table") }
        }
        // Division by zero must be raised, as a query error (not `unavailable`) with SQLSTATE 22012.
        let error = await #expect(throws: DatabaseError.self) {
            try await pool.run { connection in try connection.execute("SELECT 1/0") }
        }
        guard case .query(let state, _)? = error else {
            Issue.record("expected DatabaseError.query, got \(String(describing: error))")
            return
        }
        #expect(state == "22012")
        #expect(pool.health == .connected)
    }

    @Test func unreachableServerIsUnavailable() async {
        let pool = DatabasePool(url: "postgresql://postgres@127.0.0.1:1/none", workers: 1)
        do {
            _ = try await pool.run { connection in try connection.execute("SELECT 1") }
            Issue.record("connected to nothing")
        } catch let error as DatabaseError {
            guard case .unavailable = error else { Issue.record("\(error)"); return }
        } catch {
            Issue.record("\(error)")
        }
        #expect(pool.health == .unavailable)
    }

    @Test func transactionsRollBackOnError() async throws {
        let pool = DatabasePool(url: Self.url, workers: 1)
        let table = "tx_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await pool.run { connection in try connection.execute("CREATE TABLE \(table) (v int)") }
        await #expect(throws: DatabaseError.self) {
            try await pool.transaction { connection in
                try connection.execute("INSERT INTO \(table) VALUES (1)")
                try connection.execute("INSERT INTO \(table) VALUES ('not a number')")
            }
        }
        let count = try await pool.run { connection in
            try connection.execute("SELECT count(*) AS n FROM \(table)").first?.int("n")
        }
        #expect(count == 0)
        _ = try await pool.run { connection in try connection.execute("DROP TABLE \(table)") }
    }

    /// Prepared statements are made again once `replanAfterMillis` has passed, so their plans see
    /// the tables as they are now; before that, the same prepared statement is reused.
    @Test func preparedStatementsAreMadeAgainAfterTheReplanInterval() async throws {
        let pool = DatabasePool(url: Self.url, workers: 1)
        let (kept, remade): ([String], [String]) = try await pool.run { connection in
            func prepareTimes(_ count: Int) throws -> [String] {
                try (0..<count).map { index in
                    _ = try connection.executePrepared("SELECT $1::int + 1 AS n", [String(index)])
                    return try connection.execute(
                        "SELECT prepare_time::text AS t FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int + 1%'"
                    ).first?.string("t") ?? "none"
                }
            }
            connection.replanAfterMillis = 3_600_000
            let kept = try prepareTimes(3)
            connection.replanAfterMillis = 0
            let remade = try prepareTimes(3)
            return (kept, remade)
        }
        #expect(Set(kept).count == 1 && kept[0] != "none", "\(kept)")
        #expect(Set(remade).count == 3, "each call prepared anew: \(remade)")
    }
}
