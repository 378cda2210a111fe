/// Replies out of the bytes an SMTP server sends, in any split: `250-first`, `250-second`,
/// `250 last` make one reply. Lines end at LF (a CR before it dropped); a line is at most
/// `maxLineBytes` and a reply at most `maxLines` lines, so a server cannot make it buffer without
/// end. A line without a three-digit code, or a continuation with another code, is malformed.
struct SMTPReplyParser {
    static let maxLineBytes = 4096
    static let maxLines = 200

    private var line: [UInt8] = []
    private var lines: [String] = []
    private var code = 0

    /// True while part of a reply has arrived and its last line has not.
    var hasPartialInput: Bool { !line.isEmpty || !lines.isEmpty }

    /// Every reply completed by `bytes`, in order.
    mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            guard byte == 0x0A else {
                guard line.count < Self.maxLineBytes else {
                    throw TransportError("SMTP reply line over \(Self.maxLineBytes) bytes")
                }
                line.append(byte)
                continue
            }
            if line.last == 0x0D { line.removeLast() }
            if let reply = try endLine() { replies.append(reply) }
        }
        return replies
    }

    private mutating func endLine() throws(TransportError) -> SMTPReply? {
        defer { line.removeAll(keepingCapacity: true) }
        guard line.count >= 3, (0x32...0x35).contains(line[0]), (0x30...0x35).contains(line[1]),
              (0x30...0x39).contains(line[2]),
              line.count == 3 || line[3] == 0x20 || line[3] == 0x2D
        else { throw TransportError("malformed SMTP reply: \(String(decoding: line.prefix(80), as: UTF8.self))") }
        let lineCode = Int(line[0] - 0x30) * 100 + Int(line[1] - 0x30) * 10 + Int(line[2] - 0x30)
        if !lines.isEmpty && lineCode != code {
            throw TransportError("SMTP reply changes its code from \(code) to \(lineCode)")
        }
        guard lines.count < Self.maxLines else { throw TransportError("SMTP reply over \(Self.maxLines) lines") }
        code = lineCode
        lines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        guard line.count == 3 || line[3] == 0x20 else { return nil }
        defer { lines = [] }
        return SMTPReply(code: code, text: lines.joined(separator: "\n"))
    }
}
