import Hub

/// Server messages in the Madrasti envelope: `{"type", "timestamp", "data": {…}}`, with a
/// top-level `"id"` on notification pushes (the resume cursor).
public enum Envelope {
    /// Builds a message; `data` writes the members of the `data` object.
    public static func make(_ type: String, id: Int64? = nil, now: Int64 = WallClock.nowMillis(),
                            data: (inout JSONWriter) -> Void) -> [UInt8]
    {
        write(type, now: now, id: id.map { id in { $0.int(id) } }, data: data).bytes
    }

    /// A notification push written once for many ids: the top-level `"id"` is the template's
    /// first hole, and `data` may leave more (`JSONWriter.hole()`).
    public static func template(_ type: String, now: Int64, data: (inout JSONWriter) -> Void) -> JSONTemplate {
        JSONTemplate(write(type, now: now, id: { $0.hole() }, data: data))
    }

    private static func write(_ type: String, now: Int64, id: ((inout JSONWriter) -> Void)?,
                              data: (inout JSONWriter) -> Void) -> JSONWriter
    {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.field("type", type)
        if let id { json.key("id"); id(&json) }
        json.field("timestamp", WallClock.iso8601(millis: now))
        json.key("data")
        json.beginObject()
        data(&json)
        json.endObject()
        json.endObject()
        return json
    }

    public static func error(_ code: String, _ message: String) -> [UInt8] {
        make("error") { json in
            json.field("code", code)
            json.field("message", message)
        }
    }

    /// An error message stamped with a session's wall clock.
    static func error(_ code: String, _ message: String, now: SessionTime) -> [UInt8] {
        make("error", now: now.wallMillis) { json in
            json.field("code", code)
            json.field("message", message)
        }
    }
}
