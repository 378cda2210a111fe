/// A reply an SMTP server gave (RFC 5321 §4.2): its three-digit code and its text, the lines of a
/// multi-line reply joined with "\n". Thrown as the error of a command that expected another code.
public struct SMTPReply: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    public let text: String

    public init(code: Int, text: String) {
        self.code = code
        self.text = text
    }

    public var description: String { "\(code) \(text)" }
    /// 4xx: try again later. 5xx: never.
    public var isTransient: Bool { code >= 400 && code < 500 }
}
