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
    public static func error(_ status: HTTPStatus, code: String, message: String,
                             details: [(String, [String])] = [], headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse
    {
        var json = JSONWriter(capacity: 160)
        json.beginObject()
        json.field("error", message)
        json.field("error_code", code)
        json.field("timestamp", WallClock.iso8601())
        json.key("details")
        json.beginObject()
        for (field, messages) in details {
            json.key(field)
            json.beginArray()
            for message in messages { json.string(message) }
            json.endArray()
        }
        json.endObject()
        json.endObject()
        return .json(status, json.bytes, headers: headers)
    }
}

extension HTTPResponse {
    /// Serialises the status line, headers and (unless `headOnly`) the body into one buffer.
    func serialize(date: [UInt8], keepAlive: Bool, headOnly: Bool) -> SharedBytes {
        var out = [UInt8]()
        out.reserveCapacity(128 + body.count + headers.count * 32)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status.code).utf8)
        out.append(0x20)
        out.append(contentsOf: status.reason.utf8)
        out.append(contentsOf: "\r\nDate: ".utf8)
        out.append(contentsOf: date)
        let bodyless = status.code < 200 || status.code == 204 || status.code == 304
        if !bodyless {
            out.append(contentsOf: "\r\nContent-Length: ".utf8)
            out.append(contentsOf: String(body.count).utf8)
        }
        if status.code != 101 {
            out.append(contentsOf: (keepAlive ? "\r\nConnection: keep-alive" : "\r\nConnection: close").utf8)
        }
        for (name, value) in headers {
            if HTTPHeaders.equalsIgnoringCase(name, "Content-Length") || HTTPHeaders.equalsIgnoringCase(name, "Date") {
                continue
            }
            if status.code != 101 && HTTPHeaders.equalsIgnoringCase(name, "Connection") { continue }
            out.append(0x0D); out.append(0x0A)
            out.append(contentsOf: name.utf8)
            out.append(0x3A); out.append(0x20)
            out.append(contentsOf: value.utf8)
        }
        out.append(contentsOf: "\r\n\r\n".utf8)
        if !headOnly && !bodyless { out.append(contentsOf: body) }
        return SharedBytes(out)
    }
}
