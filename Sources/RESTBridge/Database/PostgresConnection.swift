import CLibPQ
import Foundation

/// One libpq connection, used by one database worker thread at a time. Every statement is sent
/// with `$n` parameters (never spliced into the SQL text); hot statements are prepared once per
/// connection and reused.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    private var prepared: [String: String] = [:]
    private var preparedSince = DispatchTime.now().uptimeNanoseconds
    /// Prepared statements are made again this often. PostgreSQL keeps a statement's generic plan
    /// for the connection's life, sized for the tables as they were when it was made: a plan made
    /// on an empty `notifications` (a seq scan) was still used with 100,000 rows, and an event
    /// took 20-60 ms instead of 1. Plans made anew see the tables' current size.
    public var replanAfterMillis: Int64 = 10_000

    /// Connects with a connect timeout and a statement timeout, so no call waits forever.
    public init(url: String, connectTimeoutSeconds: Int = 3, statementTimeoutMillis: Int = 10_000,
                applicationName: String = "hubd") throws(DatabaseError)
    {
        let keys = ["dbname", "connect_timeout", "application_name"]
        let values = [url, String(connectTimeoutSeconds), applicationName]
        let connection = withCStrings(keys) { keyPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keyPointers, valuePointers, 1)
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw .unavailable(message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        handle = connection
        _ = try execute("SET statement_timeout = \(statementTimeoutMillis)")
        _ = try execute("SET TIME ZONE 'UTC'")
        // JIT pays off for long analytic queries; for the hub's statements its compile time (100-300
        // ms, seen in auto_explain on the batched event statement, whose row estimates pass
        // jit_above_cost) is pure latency.
        _ = try execute("SET jit = off")
        // Generic plans only. The hub's statements are keyed by ids and arrays whose values do not
        // change the best plan, and a custom plan is planned again at every execution: PostgreSQL
        // kept choosing them for the batched event statement (3.3 ms of planning each, one
        // execution in 13-25), the worst part of the targeted p99. Plans stay fresh anyway: every
        // statement is prepared again after `replanAfterMillis`. Targeted, 1,000/s for 30 s: p99
        // 16-20 ms with custom plans, 8.6 ms without (pg_stat_statements with track_planning).
        _ = try execute("SET plan_cache_mode = force_generic_plan")
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// False once the server went away; the pool then drops this connection and makes a new one.
    var isHealthy: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Runs a statement with parameters (`$1…`); `nil` parameters are SQL NULL.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(DatabaseError) -> QueryResult {
        try run(parameters) { handle, values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
    }

    /// Like `execute`, but prepares the statement on first use on this connection.
    @discardableResult
    public func executePrepared(_ sql: String, _ parameters: [String?] = []) throws(DatabaseError) -> QueryResult {
        guard let handle else { throw .unavailable("connection closed") }
        let now = DispatchTime.now().uptimeNanoseconds
        if !prepared.isEmpty, now - preparedSince >= UInt64(max(0, replanAfterMillis)) * 1_000_000,
           PQtransactionStatus(handle) == PQTRANS_IDLE
        {
            try executeScript("DEALLOCATE ALL")
            prepared.removeAll()
            preparedSince = now
        }
        let name: String
        if let existing = prepared[sql] {
            name = existing
        } else {
            name = "hub_\(prepared.count + 1)"
            let result = PQprepare(handle, name, sql, Int32(parameters.count), nil)
            defer { PQclear(result) }
            try check(result)
            if prepared.isEmpty { preparedSince = now }
            prepared[sql] = name
        }
        return try run(parameters) { handle, values in
            PQexecPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
        }
    }

    /// The connection's socket, to wait for notifications with `poll` (LISTEN); -1 when closed.
    public var socket: Int32 { handle.map { PQsocket($0) } ?? -1 }

    /// Reads what the server sent without blocking and counts the notifications in it (LISTEN).
    /// Throws when the connection is gone.
    /// `ignoring`: a payload not counted (a node's own wake-ups).
    public func drainNotifications(ignoring: String? = nil) throws(DatabaseError) -> Int {
        guard let handle else { throw .unavailable("connection closed") }
        guard PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK else {
            throw .unavailable(String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var count = 0
        while let notification = PQnotifies(handle) {
            if ignoring == nil || String(cString: notification.pointee.extra) != ignoring { count += 1 }
            PQfreemem(notification)
        }
        return count
    }

    /// Runs several statements of our own (a migration): never used with request data.
    func executeScript(_ sql: String) throws(DatabaseError) {
        guard let handle else { throw .unavailable("connection closed") }
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result)
    }

    private func run(_ parameters: [String?],
                     _ call: (OpaquePointer, UnsafePointer<UnsafePointer<CChar>?>) -> OpaquePointer?) throws(DatabaseError) -> QueryResult
    {
        guard let handle else { throw .unavailable("connection closed") }
        let result = withOptionalCStrings(parameters) { values in call(handle, values) }
        defer { PQclear(result) }
        try check(result)
        return QueryResult(result!)
    }

    private func check(_ result: OpaquePointer?) throws(DatabaseError) {
        guard let handle else { throw .unavailable("connection closed") }
        guard let result else { throw .unavailable(String(cString: PQerrorMessage(handle))) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            if PQstatus(handle) != CONNECTION_OK { throw .unavailable(message) }
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            // Class 08 (connection exception) and 57P0x (shutdown) mean the server is going away.
            if state.hasPrefix("08") || state.hasPrefix("57P") { throw .unavailable(message) }
            throw .query(sqlState: state, message: message)
        }
    }
}

/// The rows of a result, copied out of libpq (text format) so the result can be freed at once.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [Row]
    public let affectedRows: Int

    init(_ result: OpaquePointer) {
        let fieldCount = Int(PQnfields(result))
        columns = (0..<fieldCount).map { String(cString: PQfname(result, Int32($0))) }
        let index = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        rows = (0..<Int(PQntuples(result))).map { row in
            Row(index: index, values: (0..<fieldCount).map { field in
                PQgetisnull(result, Int32(row), Int32(field)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(field)))
            })
        }
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    public var first: Row? { rows.first }

    /// One row, typed access by column name.
    public struct Row: Sendable {
        let index: [String: Int]
        let values: [String?]

        public func string(_ column: String) -> String? { index[column].flatMap { values[$0] } }
        public func int(_ column: String) -> Int? { string(column).flatMap { Int($0) } }
        public func bool(_ column: String) -> Bool? { string(column).map { $0 == "t" || $0 == "true" } }
        public func double(_ column: String) -> Double? { string(column).flatMap { Double($0) } }
    }
}

/// NULL-terminated arrays of C strings, as libpq's keyword/value and parameter arrays want.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map { Optional($0) }, body)
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
