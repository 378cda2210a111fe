/// A response to send: status, headers, body. `Content-Length`, `Date` and `Connection` are
/// added by the server when it writes the response, so handlers never get them wrong.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response from already-encoded bytes.
    public static func json(_ status: HTTPStatus = .ok, _ body: [UInt8], headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers.set("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    public static func text(_ status: HTTPStatus = .ok, _ text: String, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: Array(text.utf8))
    }

    /// The API's error shape: `{"error", "error_code", "timestamp", "details"}` (Madrasti), which
    /// also satisfies Khatma's `{error, details}`. `details` maps field names to messages.
    /// `rawDetails` are details whose values are JSON texts of their own (numbers, booleans).
    public static func error(_ status: HTTPStatus, code: String, message: String,
                             details: [(String, [String])] = [], rawDetails: [(String, String)] = [],
                             headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse
    {
        var json = JSONWriter(capacity: 160)
        // Every seed's keys at once: Madrasti's and Khatma's `error, error_code, timestamp, details`,
        // DRF's (TuranTalim's) `detail` and `code`, the course platform's `success` and `message`.
        json.beginObject()
        json.field("error", message)
        json.field("error_code", code)
        json.field("timestamp", WallClock.iso8601())
        json.field("detail", message)
        json.field("code", code.lowercased())
        json.field("success", false)
        json.field("message", message)
        json.key("details")
        json.beginObject()
        for (field, messages) in details {
            json.key(field)
            json.beginArray()
            for message in messages { json.string(message) }
            json.endArray()
        }
        for (field, value) in rawDetails {
            json.key(field)
            json.raw(Array(value.utf8))
        }
        json.endObject()
        json.endObject()
        return .json(status, json.bytes, headers: headers)
    }
}

extension HTTPResponse {
    /// Serialises the status line, headers and (unless `headOnly`) the body straight into the
    /// shared buffer that will be queued, sized exactly first so nothing is copied twice.
    func serialize(date: [UInt8], keepAlive: Bool, headOnly: Bool) -> SharedBytes {
        let bodyless = status.code < 200 || status.code == 204 || status.code == 304
        let lengthText = bodyless ? "" : String(body.count)
        let codeText = String(status.code)
        let connection = status.code == 101 ? "" : (keepAlive ? "\r\nConnection: keep-alive" : "\r\nConnection: close")
        let kept = headers.fields.filter { field in
            !(HTTPHeaders.equalsIgnoringCase(field.name, "Content-Length") || HTTPHeaders.equalsIgnoringCase(field.name, "Date")
                || (status.code != 101 && HTTPHeaders.equalsIgnoringCase(field.name, "Connection")))
        }
        let sendBody = !headOnly && !bodyless
        var size = 9 + codeText.utf8.count + 1 + status.reason.utf8.count + 8 + date.count + connection.utf8.count + 4
        if !bodyless { size += 18 + lengthText.utf8.count }
        for field in kept { size += 4 + field.name.utf8.count + field.value.utf8.count }
        if sendBody { size += body.count }
        return SharedBytes(count: size) { target in
            var cursor = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: target[cursor..<cursor + bytes.count]).copyMemory(from: bytes)
                cursor += bytes.count
            }
            func put(_ text: String) {
                var text = text
                text.withUTF8 { put(UnsafeRawBufferPointer($0)) }
            }
            put("HTTP/1.1 ")
            put(codeText)
            put(" ")
            put(status.reason)
            put("\r\nDate: ")
            date.withUnsafeBytes { put($0) }
            if !bodyless {
                put("\r\nContent-Length: ")
                put(lengthText)
            }
            put(connection)
            for field in kept {
                put("\r\n")
                put(field.name)
                put(": ")
                put(field.value)
            }
            put("\r\n\r\n")
            if sendBody {
                body.withUnsafeBytes { source in
                    UnsafeMutableRawBufferPointer(rebasing: target[cursor..<cursor + source.count]).copyMemory(from: source)
                }
                cursor += body.count
            }
            precondition(cursor == size, "response size miscounted")
        }
    }
}
