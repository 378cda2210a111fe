import Foundation

/// An SMTP client session (RFC 5321): EHLO with HELO fallback, STARTTLS, AUTH PLAIN or LOGIN, and
/// several messages over one connection. Blocking with timeouts; used from delivery workers only.
public final class SMTPClient {
    /// A reply the server gave: its code and text.
    public struct Reply: Error, CustomStringConvertible {
        public let code: Int
        public let text: String
        public var description: String { "\(code) \(text)" }
        public var isTransient: Bool { code >= 400 && code < 500 }
    }

    let configuration: SMTPConfiguration
    private var connection: BlockingConnection?
    private var extensions: Set<String> = []
    private var authMechanisms: Set<String> = []

    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
    }

    public var isConnected: Bool { connection != nil }

    public func close() {
        if let connection { _ = try? command("QUIT", on: connection) }
        connection?.close()
        connection = nil
    }

    /// Opens, greets, secures and authenticates, unless already done.
    public func open() throws {
        if connection != nil { return }
        let connection = try BlockingConnection(host: configuration.host, port: configuration.port,
                                                timeout: configuration.timeoutSeconds)
        self.connection = connection
        do {
            if configuration.implicitTLS { try connection.startTLS(configuration.tls) }
            try expect(try readReply(connection), 220)
            try hello(connection)
            if configuration.startTLS != .never && !connection.isTLS {
                if extensions.contains("STARTTLS") {
                    try expect(try command("STARTTLS", on: connection), 220)
                    try connection.startTLS(configuration.tls)
                    try hello(connection)
                } else if configuration.startTLS == .required {
                    throw Reply(code: 530, text: "server does not offer STARTTLS, which HUB_SMTP_URL requires")
                }
            }
            if let user = configuration.username { try authenticate(user, configuration.password ?? "", connection) }
        } catch {
            connection.close()
            self.connection = nil
            throw error
        }
    }

    private func hello(_ connection: BlockingConnection) throws {
        let reply = try command("EHLO \(configuration.heloName)", on: connection)
        if reply.code == 250 {
            let lines = reply.text.split(separator: "\n").dropFirst().map { $0.uppercased() }
            extensions = Set(lines.map { String($0.split(separator: " ").first ?? "") })
            authMechanisms = Set(lines.filter { $0.hasPrefix("AUTH") }.flatMap { $0.split(separator: " ").dropFirst().map(String.init) })
        } else {
            try expect(try command("HELO \(configuration.heloName)", on: connection), 250)
            extensions = []
        }
    }

    private func authenticate(_ user: String, _ password: String, _ connection: BlockingConnection) throws {
        if authMechanisms.contains("PLAIN") || !authMechanisms.contains("LOGIN") {
            let token = Data(([0] + Array(user.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            try expect(try command("AUTH PLAIN \(token)", on: connection), 235)
        } else {
            try expect(try command("AUTH LOGIN", on: connection), 334)
            try expect(try command(Data(user.utf8).base64EncodedString(), on: connection), 334)
            try expect(try command(Data(password.utf8).base64EncodedString(), on: connection), 235)
        }
    }

    /// Sends one message; returns the server's final reply text (often carrying its queue id).
    public func send(_ message: MIMEMessage) throws -> String {
        try open()
        guard let connection else { throw TransportError("not connected") }
        try expect(try command("MAIL FROM:<\(message.from)>" + (extensions.contains("8BITMIME") ? " BODY=8BITMIME" : ""),
                               on: connection), 250)
        let recipient = try command("RCPT TO:<\(message.to)>", on: connection)
        guard recipient.code == 250 || recipient.code == 251 else {
            _ = try? command("RSET", on: connection)
            throw recipient
        }
        try expect(try command("DATA", on: connection), 354)
        try connection.write(MIMEMessage.dotStuff(message.render()) + ".\r\n")
        let accepted = try readReply(connection)
        try expect(accepted, 250)
        return accepted.text
    }

    private func command(_ line: String, on connection: BlockingConnection) throws -> Reply {
        try connection.write(line + "\r\n")
        return try readReply(connection)
    }

    /// A possibly multi-line reply (`250-…` lines, then `250 …`).
    private func readReply(_ connection: BlockingConnection) throws -> Reply {
        var texts: [String] = []
        while true {
            let line = try connection.readLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else {
                throw TransportError("malformed SMTP reply: \(line.prefix(80))")
            }
            texts.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] != "-" {
                return Reply(code: code, text: texts.joined(separator: "\n"))
            }
        }
    }

    private func expect(_ reply: Reply, _ code: Int) throws {
        guard reply.code == code else { throw reply }
    }
}
