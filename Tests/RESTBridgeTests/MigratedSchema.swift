import Foundation
@testable import RESTBridge

/// A connection whose search path is a new schema with every migration applied (the real
/// PostgreSQL that `make test` starts); the schema is dropped after `body`.
func withSchema<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
    try withSchemaURL { connection, _ in try body(connection) }
}

/// `withSchema`, with a URL whose connections (a bus, a second node) see the same schema.
func withSchemaURL<T>(_ body: (PostgresConnection, _ url: String) throws -> T) throws -> T {
    let connection = try PostgresConnection(url: DatabaseTests.url)
    let schema = "e_\(UUID().uuidString.prefix(8).lowercased())"
    try connection.executeScript("SET client_min_messages TO warning; CREATE SCHEMA \(schema); SET search_path TO \(schema)")
    defer { _ = try? connection.executeScript("SET search_path TO public; DROP SCHEMA \(schema) CASCADE") }
    _ = try Migrations.apply(on: connection)
    let url = DatabaseTests.url + (DatabaseTests.url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    return try body(connection, url)
}
