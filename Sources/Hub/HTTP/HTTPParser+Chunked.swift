/// Chunked transfer coding (RFC 9112 §7.1), one framing byte at a time; chunk data itself is
/// copied in bulk by `parse`. Sizes are bounded by the body limit before any data is buffered.
extension HTTPParser {
    mutating func chunkStep(_ byte: UInt8) -> HTTPParseError? {
        switch state {
        case .chunkSize(let value, let digits):
            if let digit = PercentDecoding.hexValue(byte) {
                let next = value &* 16 &+ Int(digit)
                guard digits < 15, next <= limits.maxBodyBytes else {
                    return digits < 15 ? .bodyTooLarge : .invalidChunk
                }
                state = .chunkSize(value: next, digits: digits + 1)
            } else if digits > 0 && byte == UInt8(ascii: ";") {
                state = .chunkExtension(value: value, length: 0)
            } else if digits > 0 && byte == 0x0D {
                state = .chunkSizeLF(value: value)
            } else {
                return .invalidChunk
            }
        case .chunkExtension(let value, let length):
            if byte == 0x0D {
                state = .chunkSizeLF(value: value)
            } else if byte == 0x0A || length >= 1024 {
                return .invalidChunk
            } else {
                state = .chunkExtension(value: value, length: length + 1)
            }
        case .chunkSizeLF(let value):
            guard byte == 0x0A else { return .invalidChunk }
            if value == 0 {
                state = .trailer(lineLength: 0)
            } else {
                guard body.count + value <= limits.maxBodyBytes else { return .bodyTooLarge }
                state = .chunkData(remaining: value)
            }
        case .chunkDataCR:
            guard byte == 0x0D else { return .invalidChunk }
            state = .chunkDataLF
        case .chunkDataLF:
            guard byte == 0x0A else { return .invalidChunk }
            state = .chunkSize(value: 0, digits: 0)
        case .trailer(let lineLength):
            trailerBytes += 1
            if trailerBytes > limits.maxHeaderBytes { return .headersTooLarge }
            if byte == 0x0D {
                state = .trailerLF(lineLength: lineLength)
            } else if byte == 0x0A {
                return .invalidChunk
            } else {
                state = .trailer(lineLength: lineLength + 1)
            }
        case .trailerLF(let lineLength):
            guard byte == 0x0A else { return .invalidChunk }
            state = lineLength == 0 ? .head(scanned: 0) : .trailer(lineLength: 0)
        default:
            preconditionFailure("chunkStep in a non-chunk state")
        }
        return nil
    }
}
