import Foundation

/// A small HTTP/1.1 client for the drivers: TLS through OpenSSL (certificate and host name checked),
/// keep-alive to the last host, connect and response timeouts, Content-Length and chunked bodies.
/// It blocks its calling thread — a delivery worker, never an event loop.
public final class HTTPClient {
    public struct Response: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: [UInt8]
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    private let timeout: Double
    private let tls: BlockingConnection.TLSOptions
    private var connection: BlockingConnection?
    private var connectionKey = ""
    public static let maxBody = 1 << 20

    public init(timeoutSeconds: Double = 10, tls: BlockingConnection.TLSOptions = .init()) {
        timeout = timeoutSeconds
        self.tls = tls
    }

    public func request(_ method: String, _ url: URL, headers: [(String, String)] = [], body: [UInt8] = []) throws -> Response {
        guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = url.host else {
            throw TransportError("unsupported URL \(url)")
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let key = "\(scheme)://\(host):\(port)"
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: hubd\r\nConnection: keep-alive\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + body
        for attempt in 0..<2 {
            let reused = connection != nil && connectionKey == key
            if !reused {
                connection?.close()
                let fresh = try BlockingConnection(host: host, port: port, timeout: timeout)
                if scheme == "https" { try fresh.startTLS(tls) }
                connection = fresh
                connectionKey = key
            }
            do {
                try connection!.write(bytes)
                return try readResponse(connection!, method: method)
            } catch {
                connection?.close()
                connection = nil
                // A kept-alive connection may have been closed by the server meanwhile: retry once.
                if !reused || attempt == 1 { throw error }
            }
        }
        throw TransportError("unreachable")
    }

    private func readResponse(_ connection: BlockingConnection, method: String) throws -> Response {
        let statusLine = try connection.readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw TransportError("malformed status line: \(statusLine.prefix(80))")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try connection.readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw TransportError("malformed header") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) {
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try connection.readLine()
                guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16), size >= 0 else {
                    throw TransportError("malformed chunk size")
                }
                if size == 0 {
                    while try !connection.readLine().isEmpty {}
                    break
                }
                guard body.count + size <= Self.maxBody else { throw TransportError("response too large") }
                body += try connection.read(count: size)
                _ = try connection.readLine()
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard length <= Self.maxBody else { throw TransportError("response too large") }
            body = try connection.read(count: length)
        } else {
            body = try connection.readToEnd(limit: Self.maxBody)
            headers["connection"] = "close"
        }
        if headers["connection"]?.lowercased() == "close" {
            connection.close()
            self.connection = nil
        }
        return Response(status: status, headers: headers, body: body)
    }
}
