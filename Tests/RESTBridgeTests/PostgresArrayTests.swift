import Testing
@testable import RESTBridge

/// Arrays read back as PostgreSQL writes them (the event statement answers one row per event
/// with its notifications' ids, recipients, languages and channels as arrays), checked against
/// PostgreSQL's own output.
@Suite struct PostgresArrayTests {
    @Test func readsPlainQuotedAndNullElements() {
        #expect(PostgresArray.elements("{}")! == [])
        #expect(PostgresArray.elements("{IN_APP}")! == ["IN_APP"])
        #expect(PostgresArray.elements(#"{IN_APP,"IN_APP,EMAIL",NULL,"NULL",""}"#)! == ["IN_APP", "IN_APP,EMAIL", nil, "NULL", ""])
        #expect(PostgresArray.elements(#"{"say \"hi\"","back\\slash","a b",ar-MA}"#)! == [#"say "hi""#, #"back\slash"#, "a b", "ar-MA"])
        #expect(PostgresArray.elements("{مرحبا,\"{x}\"}")! == ["مرحبا", "{x}"])
    }

    @Test func readsIntegers() {
        #expect(PostgresArray.integers("{1,-2,9223372036854775807,NULL}")! == [1, -2, .max, nil])
        #expect(PostgresArray.integers("{-9223372036854775808,0}")! == [.min, 0])
        #expect(PostgresArray.integers("{}")! == [])
    }

    /// Repeated short elements reuse the strings read before them: the values must stay each
    /// element's own, NULL included, also with more distinct values than are kept.
    @Test func readsRepeatedElementsAsThemselves() {
        #expect(PostgresArray.elements(#"{en,NULL,en,"NULL",ar,NULL,ar,""}"#)! == ["en", nil, "en", "NULL", "ar", nil, "ar", ""])
        let values = (0..<30).map { "v\($0 % 11)" } + [String(repeating: "long", count: 10), String(repeating: "long", count: 10)]
        #expect(PostgresArray.elements("{" + values.joined(separator: ",") + "}")! == values.map { Optional($0) })
    }

    @Test func readsWhatPostgreSQLWrites() throws {
        let values = ["IN_APP,EMAIL", "NULL", "", #"say "hi""#, #"back\slash"#, "a b", "{x}", "مرحبا", "ar-MA"]
        let connection = try PostgresConnection(url: DatabaseTests.url)
        let row = try connection.executePrepared("""
            SELECT array_agg(v ORDER BY o) || ARRAY[NULL::text] AS texts, ARRAY[1, NULL, -9223372036854775807]::bigint[] AS ids
            FROM unnest($1::text[]) WITH ORDINALITY AS t(v, o)
            """, [PostgresArray.text(values)]).first!
        #expect(PostgresArray.elements(row.string("texts")!)! == values.map { Optional($0) } + [nil])
        #expect(PostgresArray.integers(row.string("ids")!)! == [1, nil, -9_223_372_036_854_775_807])
    }

    @Test func refusesWhatIsNotAnArray() {
        for text in ["", "{", "}", "1,2", #"{"open}"#, #"{"a"b}"#, "{1,2"] {
            #expect(PostgresArray.elements(text) == nil, "\(text)")
        }
        for text in ["{1,x}", "{1.5}", "{9223372036854775808}", "{-9223372036854775809}", "{-}", "{1,,2}", "{+1}", "1,2", "{1"] {
            #expect(PostgresArray.integers(text) == nil, "\(text)")
        }
    }
}
