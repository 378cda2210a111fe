import Foundation
import Testing
@testable import NotifyDrivers

@Suite struct MIMEMessageTests {
    @Test func arabicSubjectIsEncodedInWordsOfAtMost75Characters() {
        let subject = "تنبيه الحضور: تم تسجيل ياسمين غائبة في الرياضيات اليوم"
        let encoded = MIMEMessage.encodeHeader(subject)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = ""
        for word in words {
            #expect(word.count <= 75, "\(word)")
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let base64 = String(word.dropFirst(10).dropLast(2))
            decoded += String(decoding: Data(base64Encoded: base64)!, as: UTF8.self)
        }
        #expect(decoded == subject, "split on character boundaries only")
        #expect(MIMEMessage.encodeHeader("Plain subject") == "Plain subject")
    }

    @Test func dotStuffing() {
        #expect(MIMEMessage.dotStuff("a\r\n.b\r\n..c\r\n.") == "a\r\n..b\r\n...c\r\n..")
    }

    @Test func multipartAlternativeWithBothPartsInBase64() {
        let message = MIMEMessage(from: "hub@school.ma", fromName: "مدرسة", to: "parent@school.ma", subject: "غياب",
                                  text: "نص", html: "<p>نص</p>", messageID: "id-1@school.ma")
        let rendered = message.render()
        #expect(rendered.contains("Content-Type: multipart/alternative; boundary="))
        #expect(rendered.contains("Content-Type: text/plain; charset=UTF-8"))
        #expect(rendered.contains("Content-Type: text/html; charset=UTF-8"))
        #expect(rendered.contains("Message-ID: <id-1@school.ma>"))
        #expect(rendered.contains("Subject: =?UTF-8?B?"))
        #expect(rendered.split(separator: "\r\n", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 998 })
        #expect(!rendered.contains("\n.") || rendered.contains("\r\n."), "lines end in CRLF")
    }
}

@Suite struct DriverConfigurationTests {
    @Test func smtpURLs() throws {
        let config = try SMTPConfiguration(url: "smtp://user%40x:p%3Ass@mail.example:2525?starttls=required&ca_file=/ca.pem",
                                           from: "hub@school.ma")
        #expect(config.host == "mail.example" && config.port == 2525)
        #expect(config.username == "user@x" && config.password == "p:ss")
        #expect(config.startTLS == .required && config.tls.caFile == "/ca.pem" && !config.tls.allowSelfSigned)
        let implicit = try SMTPConfiguration(url: "smtps://mail.example", from: "hub@school.ma")
        #expect(implicit.implicitTLS && implicit.port == 465 && implicit.startTLS == .never)
        #expect(throws: (any Error).self) { try SMTPConfiguration(url: "http://mail.example", from: "hub@school.ma") }
        #expect(throws: (any Error).self) { try SMTPConfiguration(url: "smtp://m?starttls=maybe", from: "hub@school.ma") }
    }

    @Test func e164() {
        #expect(SMSDriver.isE164("+998901234567"))
        #expect(!SMSDriver.isE164("0612345678"))
        #expect(!SMSDriver.isE164("+0612345678"))
    }
}
