import Foundation

/// An email as MIME: multipart/alternative with a plain-text and an HTML part in UTF-8 (base64),
/// an RFC 2047 encoded subject so Arabic arrives intact, `Date` and `Message-ID`.
public struct MIMEMessage: Sendable {
    public let from: String
    public let fromName: String
    public let to: String
    public let subject: String
    public let text: String
    public let html: String
    public let messageID: String
    public let date: Date

    public init(from: String, fromName: String, to: String, subject: String, text: String, html: String,
                messageID: String, date: Date = Date())
    {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
    }

    /// The message with CRLF line ends, ready for DATA (before dot-stuffing).
    public func render() -> String {
        let boundary = "hub-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var lines = [
            "From: \(Self.encodeWord(fromName)) <\(from)>",
            "To: <\(to)>",
            "Subject: \(Self.encodeHeader(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
        ]
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            lines.append("--\(boundary)")
            lines.append("Content-Type: \(type); charset=UTF-8")
            lines.append("Content-Transfer-Encoding: base64")
            lines.append("")
            lines.append(contentsOf: Self.base64Lines(Array(body.utf8)))
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 2047: ASCII stays as is; anything else becomes `=?UTF-8?B?…?=` words of at most 75
    /// characters, split on character boundaries and folded onto continuation lines.
    public static func encodeHeader(_ value: String) -> String {
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return value }
        var words: [String] = []
        var chunk = ""
        for character in value {
            let candidate = chunk + String(character)
            // 75 - len("=?UTF-8?B?") - len("?=") = 63 base64 chars = 45 bytes.
            if candidate.utf8.count > 45 {
                words.append(encodeWord(chunk))
                chunk = String(character)
            } else {
                chunk = candidate
            }
        }
        if !chunk.isEmpty { words.append(encodeWord(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    static func encodeWord(_ value: String) -> String {
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 }) { return value }
        return "=?UTF-8?B?" + Data(value.utf8).base64EncodedString() + "?="
    }

    static func base64Lines(_ bytes: [UInt8]) -> [String] {
        let encoded = Data(bytes).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// SMTP transparency (RFC 5321 §4.5.2): a line starting with "." gets one more.
    public static func dotStuff(_ message: String) -> String {
        message.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
    }
}
