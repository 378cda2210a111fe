/// Decodes client frames into messages and control frames. A pure state machine over bytes: feed
/// it any split of the input and it produces the same events. Sizes, masking, reserved bits,
/// opcodes and control-frame rules are checked from the header, before any payload is buffered;
/// text is validated as it arrives, so a bad byte fails the connection without waiting for the
/// end of the frame or the message.
public struct WebSocketFrameDecoder {
    public struct Configuration: Sendable {
        public var maxMessageBytes: Int
        /// Clients must mask (servers decode with true; a client decoding a server uses false).
        public var expectMasked: Bool

        public init(maxMessageBytes: Int = 1 << 20, expectMasked: Bool = true) {
            self.maxMessageBytes = maxMessageBytes
            self.expectMasked = expectMasked
        }
    }

    private enum State {
        case header
        case payload(remaining: Int)
    }

    public let configuration: Configuration
    private var state = State.header
    private var header: [UInt8] = []
    private var frameOpcode = WebSocketOpcode.continuation
    private var frameFin = false
    private var mask: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
    private var maskOffset = 0
    /// The data message being assembled across fragments, and its type (nil between messages).
    private var message: [UInt8] = []
    private var messageOpcode: WebSocketOpcode?
    private var utf8 = UTF8Validator()
    private var control: [UInt8] = []
    private var failed = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Bytes of a message still being assembled (for memory accounting).
    public var bufferedBytes: Int { message.count + control.count }

    /// Consumes all of `input`, calling `emit` for each event; throws at the first violation.
    public mutating func decode(_ input: UnsafeRawBufferPointer, _ emit: (WebSocketEvent) -> Void) throws(WebSocketError) {
        precondition(!failed, "decoder used after it failed")
        var offset = 0
        do {
            while offset < input.count {
                switch state {
                case .header:
                    offset += try readHeader(UnsafeRawBufferPointer(rebasing: input[offset...]), emit)
                case .payload(let remaining):
                    let take = min(remaining, input.count - offset)
                    try appendPayload(UnsafeRawBufferPointer(rebasing: input[offset..<offset + take]))
                    offset += take
                    state = .payload(remaining: remaining - take)
                    if remaining - take == 0 { try finishFrame(emit) }
                }
            }
        } catch {
            failed = true
            throw error
        }
    }

    /// Collects header bytes; once complete, checks it and moves to the payload. Returns bytes used.
    private mutating func readHeader(_ input: UnsafeRawBufferPointer, _ emit: (WebSocketEvent) -> Void) throws(WebSocketError) -> Int {
        var used = 0
        while used < input.count {
            header.append(input[used])
            used += 1
            guard let needed = headerLength(), header.count >= needed else { continue }
            try startFrame()
            header.removeAll(keepingCapacity: true)
            if case .payload(0) = state { try finishFrame(emit) }
            return used
        }
        return used
    }

    /// The full header length once the first two bytes are in (nil before).
    private func headerLength() -> Int? {
        guard header.count >= 2 else { return nil }
        let masked = header[1] & 0x80 != 0
        let base: Int
        switch header[1] & 0x7F {
        case 126: base = 4
        case 127: base = 10
        default: base = 2
        }
        return base + (masked ? 4 : 0)
    }

    private mutating func startFrame() throws(WebSocketError) {
        let first = header[0], second = header[1]
        guard first & 0x70 == 0 else { throw .protocolError("reserved bits set without an extension") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .protocolError("reserved opcode") }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        guard masked == configuration.expectMasked else {
            throw .protocolError(masked ? "masked server frame" : "unmasked client frame")
        }
        var length = 0
        var cursor = 2
        switch second & 0x7F {
        case 126:
            length = Int(header[2]) << 8 | Int(header[3])
            cursor = 4
        case 127:
            guard header[2] & 0x80 == 0 else { throw .protocolError("64-bit length with the high bit set") }
            var value: UInt64 = 0
            for index in 2..<10 { value = value << 8 | UInt64(header[index]) }
            guard value <= UInt64(Int.max / 2) else { throw .messageTooBig }
            length = Int(value)
            cursor = 10
        default:
            length = Int(second & 0x7F)
        }
        if masked {
            mask = (header[cursor], header[cursor + 1], header[cursor + 2], header[cursor + 3])
        }
        maskOffset = 0
        if opcode.isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            guard length <= 125 else { throw .protocolError("control frame over 125 bytes") }
            control.removeAll(keepingCapacity: true)
        } else if opcode == .continuation {
            guard messageOpcode != nil else { throw .protocolError("continuation without a message") }
            guard message.count + length <= configuration.maxMessageBytes else { throw .messageTooBig }
        } else {
            guard messageOpcode == nil else { throw .protocolError("new message inside a fragmented one") }
            guard length <= configuration.maxMessageBytes else { throw .messageTooBig }
            messageOpcode = opcode
            utf8 = UTF8Validator()
            message = []
            message.reserveCapacity(min(length, 1 << 20))
        }
        frameOpcode = opcode
        frameFin = fin
        state = .payload(remaining: length)
    }

    private mutating func appendPayload(_ bytes: UnsafeRawBufferPointer) throws(WebSocketError) {
        guard bytes.count > 0 else { return }
        let isControl = frameOpcode.isControl
        let start = isControl ? control.count : message.count
        if isControl { control.append(contentsOf: bytes) } else { message.append(contentsOf: bytes) }
        if configuration.expectMasked {
            let key = [mask.0, mask.1, mask.2, mask.3]
            var phase = maskOffset
            if isControl {
                for index in start..<control.count { control[index] ^= key[phase & 3]; phase += 1 }
            } else {
                message.withUnsafeMutableBytes { raw in
                    Self.unmask(UnsafeMutableRawBufferPointer(rebasing: raw[start...]), key: key, phase: phase)
                }
                phase += bytes.count
            }
            maskOffset = phase & 3
        }
        if !isControl && messageOpcode == .text {
            let valid = message.withUnsafeBytes { utf8.validate(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            guard valid else { throw .invalidUTF8 }
        }
    }

    /// XOR with the 4-byte key, eight bytes at a time where possible.
    private static func unmask(_ bytes: UnsafeMutableRawBufferPointer, key: [UInt8], phase: Int) {
        var index = 0
        let rotated = (0..<4).map { key[($0 + phase) & 3] }
        let word32 = UInt32(rotated[0]) | UInt32(rotated[1]) << 8 | UInt32(rotated[2]) << 16 | UInt32(rotated[3]) << 24
        let word64 = UInt64(word32) | UInt64(word32) << 32
        while index + 8 <= bytes.count {
            let value = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            bytes.storeBytes(of: value ^ word64, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            bytes[index] ^= rotated[index & 3]
            index += 1
        }
    }

    private mutating func finishFrame(_ emit: (WebSocketEvent) -> Void) throws(WebSocketError) {
        state = .header
        switch frameOpcode {
        case .ping:
            emit(.ping(control))
        case .pong:
            emit(.pong(control))
        case .close:
            emit(try Self.parseClose(control))
        case .text, .binary, .continuation:
            guard frameFin else { return }
            let opcode = messageOpcode!
            messageOpcode = nil
            let payload = message
            message = []
            if opcode == .text {
                guard utf8.isComplete else { throw .invalidUTF8 }
                emit(.text(payload))
            } else {
                emit(.binary(payload))
            }
        }
    }

    private static func parseClose(_ payload: [UInt8]) throws(WebSocketError) -> WebSocketEvent {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else { throw .protocolError("close payload of one byte") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCodes.isValidOnTheWire(code) else { throw .protocolError("invalid close code \(code)") }
        let reason = Array(payload[2...])
        guard UTF8Validator.isValid(reason) else { throw .invalidUTF8 }
        return .close(code: code, reason: String(decoding: reason, as: UTF8.self))
    }
}
