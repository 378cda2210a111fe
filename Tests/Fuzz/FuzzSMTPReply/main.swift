import FuzzSupport
import NotifyDrivers

// SMTPReplyParser, which reads every answer of an SMTP server: the input is what the server sends,
// cut into lines as the connection does. Nothing may crash, and each reply it reads has a
// three-digit code and no more text than its lines carried.
Fuzzer.run { input in
    var parser = SMTPReplyParser()
    var lines = Array(input).split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
        String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
    }
    if lines.last == "" { lines.removeLast() }
    var carried = 0
    for line in lines {
        carried += line.utf8.count
        do {
            guard let reply = try parser.feed(line: line) else { continue }
            Fuzzer.require((0...999).contains(reply.code), "reply code \(reply.code) from \(line.debugDescription)")
            Fuzzer.require(reply.text.utf8.count <= carried, "reply text longer than its lines")
            carried = 0
        } catch {
            return
        }
    }
}
