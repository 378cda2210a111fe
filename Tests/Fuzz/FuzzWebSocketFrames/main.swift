import FuzzSupport
import Hub

// WebSocketFrameDecoder with its UTF-8 validation. The first byte picks the side (a server
// decoding masked client frames, or a client decoding unmasked server frames); the rest is the
// byte stream. Nothing may crash; the events and the error must not depend on how the stream was
// cut; a text message or close reason is valid UTF-8 by the standard library's own decoder; and
// `UTF8Validator`, fed the raw stream in pieces, agrees with the standard library too.
Fuzzer.run { input in
    guard let first = input.first else { return }
    let bytes = Array(input.dropFirst())
    let configuration = WebSocketFrameDecoder.Configuration(maxMessageBytes: 1024, expectMasked: first & 1 == 0)
    let whole = decode([bytes], configuration)
    Fuzzer.requireSame(whole, decode(Splits.seeded(bytes), configuration), "events decoded at seeded splits")
    if bytes.count <= 2048 {
        Fuzzer.requireSame(whole, decode(Splits.oneByte(bytes), configuration), "events decoded one byte at a time")
    }

    var validator = UTF8Validator()
    var valid = true
    for piece in Splits.seeded(bytes) where valid { valid = piece.withUnsafeBytes { validator.validate($0) } }
    Fuzzer.requireSame(String(validating: bytes, as: UTF8.self) != nil, valid && validator.isComplete,
                       "UTF8Validator against String(validating:)")
}

/// Every event, then the error that failed the connection (with its close code), if any.
func decode(_ pieces: [[UInt8]], _ configuration: WebSocketFrameDecoder.Configuration) -> [String] {
    var decoder = WebSocketFrameDecoder(configuration: configuration)
    var seen: [String] = []
    do {
        for piece in pieces {
            try piece.withUnsafeBytes { bytes in
                try decoder.decode(bytes) { event in seen.append(check(event, configuration)) }
            }
        }
    } catch let error as WebSocketError {
        seen.append("error \(error) \(error.closeCode)")
    } catch {
        Fuzzer.require(false, "decoder threw \(error)")
    }
    return seen
}

func check(_ event: WebSocketEvent, _ configuration: WebSocketFrameDecoder.Configuration) -> String {
    switch event {
    case .text(let payload):
        Fuzzer.require(String(validating: payload, as: UTF8.self) != nil, "text message is not UTF-8: \(payload)")
        Fuzzer.require(payload.count <= configuration.maxMessageBytes, "message of \(payload.count) bytes")
    case .binary(let payload):
        Fuzzer.require(payload.count <= configuration.maxMessageBytes, "message of \(payload.count) bytes")
    case .ping(let payload), .pong(let payload):
        Fuzzer.require(payload.count <= 125, "control payload of \(payload.count) bytes")
    case .close(let code, let reason):
        Fuzzer.require(code.map { $0 >= 1000 && $0 < 5000 } ?? reason.isEmpty, "close \(String(describing: code))")
        Fuzzer.require(reason.utf8.count <= 123, "close reason of \(reason.utf8.count) bytes")
    }
    return "\(event)"
}
