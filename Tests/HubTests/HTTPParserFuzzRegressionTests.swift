import Hub
import Testing

/// Inputs the fuzzer (Tests/Fuzz) found to crash an HTTP parser, kept against the codec.
@Suite struct HTTPParserFuzzRegressionTests {
    /// FuzzHTTPResponse, on the drivers' former response parser: `Int("-1", radix: 16)` took the
    /// sign, and `buffer[offset..<offset - 1]` trapped ("Range requires lowerBound <= upperBound"),
    /// so one gateway answer could bring hubd down. The codec must refuse it as a malformed chunk.
    @Test func negativeChunkSizeIsRefused() {
        var reader = HTTPResponseReader(limits: .init())
        let input = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc".utf8)
        #expect(throws: HTTPParseError.self) {
            _ = try input.withUnsafeBytes { try reader.read($0) }
            _ = try reader.finish()
        }
    }
}
