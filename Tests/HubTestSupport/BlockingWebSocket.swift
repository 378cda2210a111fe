import Foundation
import Hub

/// A blocking WebSocket client for tests, over `BlockingClient`; frames are built with random masks.
public final class BlockingWebSocket {
    public let client: BlockingClient

    public init(port: Int, path: String, headers: [String] = []) throws {
        client = try BlockingClient(port: port)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let extra = headers.map { $0 + "\r\n" }.joined()
        client.send("GET \(path) HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n")
        let response = try client.readResponse()
        guard response.status == 101 else { throw BlockingClient.ClientError.malformed("status \(response.status)") }
    }

    public func send(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) {
        let key = (UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255))
        client.send(WebSocketFrameEncoder.frame(opcode, payload: payload, fin: fin, maskKey: key).array)
    }

    public func send(text: String) { send(.text, Array(text.utf8)) }

    /// The next frame: opcode and payload.
    public func readFrame() throws -> (opcode: UInt8, payload: [UInt8]) {
        let head = try client.take(2)
        var length = Int(head[1] & 0x7F)
        if length == 126 {
            let bytes = try client.take(2)
            length = Int(bytes[0]) << 8 | Int(bytes[1])
        } else if length == 127 {
            length = try client.take(8).reduce(0) { $0 << 8 | Int($1) }
        }
        return (head[0] & 0x0F, try client.take(length))
    }

    public func readText() throws -> String {
        let frame = try readFrame()
        return String(decoding: frame.payload, as: UTF8.self)
    }

    /// Reads frames until a close frame; returns its code.
    public func readCloseCode() throws -> UInt16? {
        while true {
            let frame = try readFrame()
            if frame.opcode == 0x8 {
                return frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : nil
            }
        }
    }
}
