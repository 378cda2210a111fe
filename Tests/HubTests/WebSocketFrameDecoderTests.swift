import Testing
@testable import Hub

private func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").map { UInt8($0, radix: 16)! }
}

/// Decodes `input` fed in the given pieces; returns the events and the error, if any.
private func decode(_ input: [UInt8], splits: [Int] = [], masked: Bool = true, maxMessage: Int = 1 << 20)
    -> (events: [WebSocketEvent], error: WebSocketError?)
{
    var decoder = WebSocketFrameDecoder(configuration: .init(maxMessageBytes: maxMessage, expectMasked: masked))
    var events: [WebSocketEvent] = []
    var cursor = 0
    for end in splits.filter({ $0 <= input.count }) + [input.count] where end >= cursor {
        let failure: WebSocketError? = input[cursor..<end].withUnsafeBytes { bytes -> WebSocketError? in
            do throws(WebSocketError) {
                try decoder.decode(bytes) { events.append($0) }
                return nil
            } catch {
                return error
            }
        }
        if let failure { return (events, failure) }
        cursor = end
    }
    return (events, nil)
}

@Suite struct WebSocketFrameDecoderTests {
    // RFC 6455 §5.7 examples.
    @Test func rfcUnmaskedText() {
        #expect(decode(hex("81 05 48 65 6c 6c 6f"), masked: false).events == [.text(Array("Hello".utf8))])
    }

    @Test func rfcMaskedText() {
        let frame = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58")
        #expect(decode(frame).events == [.text(Array("Hello".utf8))])
        for split in 0...frame.count {
            #expect(decode(frame, splits: [split]).events == [.text(Array("Hello".utf8))], "split \(split)")
        }
    }

    @Test func rfcFragmentedText() {
        #expect(decode(hex("01 03 48 65 6c 80 02 6c 6f"), masked: false).events == [.text(Array("Hello".utf8))])
    }

    @Test func rfcPingAndMaskedPong() {
        #expect(decode(hex("89 05 48 65 6c 6c 6f"), masked: false).events == [.ping(Array("Hello".utf8))])
        #expect(decode(hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58")).events == [.pong(Array("Hello".utf8))])
    }

    @Test func rfc16And64BitLengths() {
        let payload256 = (0..<256).map { UInt8($0) }
        #expect(decode(hex("82 7E 01 00") + payload256, masked: false).events == [.binary(payload256)])
        let payload64k = [UInt8](repeating: 7, count: 65536)
        #expect(decode(hex("82 7F 00 00 00 00 00 01 00 00") + payload64k, masked: false).events == [.binary(payload64k)])
    }

    @Test func tooBigIsRefusedFromTheHeaderAlone() {
        // 81 FE 40 01: a masked text frame announcing 16385 bytes, with a 16 KiB limit.
        #expect(decode(hex("81 FE 40 01"), maxMessage: 16384).error == nil, "the mask key is not in yet")
        #expect(decode(hex("81 FE 40 01 00 00 00 00"), maxMessage: 16384).error == .messageTooBig)
        #expect(WebSocketFrameEncoder.close(code: 1009).array == hex("88 02 03 F1"))
    }

    @Test func protocolViolations() {
        let cases: [([UInt8], WebSocketError)] = [
            (hex("81 05 48 65 6c 6c 6f"), .protocolError("unmasked client frame")),
            (hex("C1 80 00 00 00 00"), .protocolError("reserved bits set without an extension")),
            (hex("83 80 00 00 00 00"), .protocolError("reserved opcode")),
            (hex("09 80 00 00 00 00"), .protocolError("fragmented control frame")),
            (hex("89 FE 00 7E 00 00 00 00"), .protocolError("control frame over 125 bytes")),
            (hex("80 80 00 00 00 00"), .protocolError("continuation without a message")),
            (hex("01 80 00 00 00 00 01 80 00 00 00 00"), .protocolError("new message inside a fragmented one")),
            (hex("88 81 00 00 00 00 03"), .protocolError("close payload of one byte")),
            (hex("88 82 00 00 00 00 03 ED"), .protocolError("invalid close code 1005")),
            (hex("81 82 00 00 00 00 C0 AF"), .invalidUTF8),
            (hex("88 84 00 00 00 00 03 E8 C0 AF"), .invalidUTF8),
        ]
        for (bytes, error) in cases {
            #expect(decode(bytes).error == error, "\(bytes)")
            for split in 0...bytes.count { #expect(decode(bytes, splits: [split]).error == error) }
        }
    }

    @Test func utf8FailsAtTheFirstBadByteBeforeTheFrameEnds() {
        // A 200-byte text frame whose second byte is invalid: the error comes with the first 8 bytes.
        var frame = hex("81 FE 00 C8 00 00 00 00")
        frame += [0x61, 0xFF] + [UInt8](repeating: 0x61, count: 198)
        #expect(decode(Array(frame.prefix(10))).error == .invalidUTF8)
    }

    @Test func closeFramesCarryCodeAndReason() {
        let reason = Array("وداعا".utf8)
        let frame = WebSocketFrameEncoder.frame(.close, payload: [0x03, 0xE8] + reason, maskKey: (1, 2, 3, 4)).array
        #expect(decode(frame).events == [.close(code: 1000, reason: "وداعا")])
        #expect(decode(hex("88 80 00 00 00 00")).events == [.close(code: nil, reason: "")])
    }

    @Test func roundTripRandomMessagesFragmentsAndSplits() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let isText = Bool.random(using: &generator)
            let length = [0, 1, 125, 126, 127, 65535, 65536, Int.random(in: 0...5000, using: &generator)].randomElement()!
            let payload: [UInt8] = isText
                ? Array((0..<length / 4).map { _ in ["a", "م", "é", "📚"].randomElement()! }.joined().utf8)
                : (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let fragments = Int.random(in: 1...5, using: &generator)
            var wire: [UInt8] = []
            var expected: [WebSocketEvent] = []
            let cuts = ([0, payload.count] + (1..<fragments).map { _ in Int.random(in: 0...payload.count, using: &generator) }).sorted()
            for index in 0..<(cuts.count - 1) {
                let opcode: WebSocketOpcode = index == 0 ? (isText ? .text : .binary) : .continuation
                let key = (UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255))
                wire += WebSocketFrameEncoder.frame(opcode, payload: Array(payload[cuts[index]..<cuts[index + 1]]),
                                                    fin: index == cuts.count - 2, maskKey: key).array
                if index < cuts.count - 2 && Bool.random(using: &generator) {
                    wire += WebSocketFrameEncoder.frame(.ping, payload: [UInt8(index)], maskKey: key).array
                    expected.append(.ping([UInt8(index)]))
                }
            }
            expected.append(isText ? .text(payload) : .binary(payload))
            let splits = (0..<Int.random(in: 0...6, using: &generator)).map { _ in Int.random(in: 0...wire.count, using: &generator) }.sorted()
            let result = decode(wire, splits: splits)
            #expect(result.error == nil)
            #expect(result.events == expected)
        }
    }
}

@Suite struct UTF8ValidatorTests {
    @Test func acceptsValidAndRejectsInvalid() {
        #expect(UTF8Validator.isValid(Array("السلام عليكم 📚 élève".utf8)))
        #expect(UTF8Validator.isValid([0xF4, 0x8F, 0xBF, 0xBF]))
        for bad: [UInt8] in [[0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                             [0xFE], [0xE2, 0x82]]
        {
            #expect(!UTF8Validator.isValid(bad), "\(bad)")
        }
    }

    @Test func stateCarriesAcrossChunks() {
        let bytes = Array("a📚b".utf8)
        for split in 0...bytes.count {
            var validator = UTF8Validator()
            let first = bytes[0..<split].withUnsafeBytes { validator.validate($0) }
            let second = bytes[split...].withUnsafeBytes { validator.validate($0) }
            #expect(first && second && validator.isComplete)
        }
    }
}

@Suite struct WebSocketHandshakeTests {
    private func request(_ headers: [(String, String)]) -> HTTPRequest {
        HTTPRequest(method: .GET, target: "/ws/echo/", headers: HTTPHeaders([("Host", "h")] + headers))
    }

    private let valid = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                         ("Sec-WebSocket-Version", "13")]

    @Test func rfcAcceptValue() {
        #expect(WebSocketHandshake.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func subprotocolNegotiation() {
        guard case .accept(let response) = WebSocketHandshake.response(
            to: request(valid + [("Sec-WebSocket-Protocol", "chat, hub.v1")]), subprotocols: ["hub.v1", "chat"])
        else { Issue.record("refused"); return }
        #expect(response.headers["Sec-WebSocket-Protocol"] == "chat", "the client's preference order wins")
        guard case .accept(let none) = WebSocketHandshake.response(
            to: request(valid + [("Sec-WebSocket-Protocol", "mqtt")]), subprotocols: ["hub.v1"])
        else { Issue.record("refused"); return }
        #expect(none.headers["Sec-WebSocket-Protocol"] == nil)
    }

    @Test func originHookCanRefuse() {
        guard case .refuse(let response) = WebSocketHandshake.response(
            to: request(valid + [("Origin", "https://evil.example")]), originAllowed: { $0 == "https://app.example" })
        else { Issue.record("accepted"); return }
        #expect(response.status.code == 403)
    }
}
