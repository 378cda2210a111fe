import Foundation
import Hub

/// One load-test WebSocket client on a Hub event loop: sends the handshake as soon as it can,
/// then decodes server frames and hands text messages to `onText`.
final class WebSocketClient: ConnectionHandler {
    private let path: String
    private let host: String
    /// Extra request headers (an `Authorization: Bearer` token).
    var headers: [String] = []
    private var handshakeDone = false
    /// The handshake's answer, read by the hub's HTTP codec.
    private var handshake = HTTPResponseReader(limits: .init(maxHeaderBytes: 16 * 1024))
    private var decoder = WebSocketFrameDecoder(configuration: .init(maxMessageBytes: 16 << 20, expectMasked: false))
    private(set) var connection: Connection?
    var onOpen: ((WebSocketClient) -> Void)?
    var onText: ((WebSocketClient, [UInt8]) -> Void)?
    var onClose: ((WebSocketClient) -> Void)?
    /// Called with each text message before `onText` decides what it is (the hub's envelope).
    var closeCode: UInt16?

    init(host: String, path: String) {
        self.host = host
        self.path = path
    }

    func connectionOpened(_ connection: Connection) {
        self.connection = connection
        let key = Self.keys[Int.random(in: 0..<Self.keys.count)]
        let extra = headers.map { $0 + "\r\n" }.joined()
        connection.send(Array(("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n").utf8))
    }

    /// Handshake keys made once: encoding a fresh one per connection was a tenth of the churn
    /// generator's time, and the server does not care which random key it gets.
    private static let keys = (0..<256).map { _ in
        Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    func send(text: [UInt8]) {
        let key = (UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255))
        connection?.send(WebSocketFrameEncoder.frame(.text, payload: text, maskKey: key))
    }

    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        if !handshakeDone {
            let response: HTTPClientResponse
            do {
                guard let answer = try handshake.read(bytes) else { return }
                response = answer
            } catch {
                FileHandle.standardError.write(Data("malformed upgrade response: \(error.message)\n".utf8))
                return connection.close()
            }
            guard response.status == 101 else {
                FileHandle.standardError.write(Data("upgrade refused: \(response.status) \(response.reason)\n".utf8))
                return connection.close()
            }
            handshakeDone = true
            let rest = handshake.leftover
            handshake = HTTPResponseReader(limits: .init(maxHeaderBytes: 0))
            onOpen?(self)
            if !rest.isEmpty { rest.withUnsafeBytes { decode($0, connection) } }
            return
        }
        decode(bytes, connection)
    }

    private func decode(_ bytes: UnsafeRawBufferPointer, _ connection: Connection) {
        do {
            try decoder.decode(bytes) { event in
                if case .text(let payload) = event { onText?(self, payload) }
                if case .close(let code, _) = event { closeCode = code }
                if case .ping(let payload) = event {
                    let key = (UInt8(1), UInt8(2), UInt8(3), UInt8(4))
                    connection.send(WebSocketFrameEncoder.frame(.pong, payload: payload, maskKey: key))
                }
            }
        } catch {
            connection.close()
        }
    }

    func connectionClosed(_ connection: Connection) {
        self.connection = nil
        onClose?(self)
    }
}

/// Starts client connections spread over the loops, from source addresses 127.x.0.2, 127.x.1.2, …
/// so that more than 64k connections fit (one address has about 28k ephemeral ports).
struct ClientFactory {
    /// Sessions per source address: within the kernel's ephemeral port range, with room to spare.
    static let perSourceAddress = max(1_000, min(25_000, WorkerFleet.ephemeralPorts() - 2_000))

    let loops: [EventLoop]
    let target: SocketAddress
    let host: String
    /// A second octet of 127.x.y.z chosen per run, so the ports left in TIME_WAIT by an earlier
    /// run on the same machine never collide with this one's.
    let sourceOctet = Int.random(in: 1...250)

    func connect(index: Int, path: String, headers: [String] = [], configure: @escaping @Sendable (WebSocketClient) -> Void) {
        let loop = loops[index % loops.count]
        let sourceHost = "127.\(sourceOctet).\((index / Self.perSourceAddress) % 250).2"
        let target = self.target, host = self.host
        loop.execute {
            do {
                let source = try SocketAddress.resolve(host: sourceHost, port: 0)
                let (socket, _) = try Socket.connect(to: target, from: source)
                let client = WebSocketClient(host: host, path: path)
                client.headers = headers
                configure(client)
                try loop.adopt(socket, remote: target, outboundLimit: 64 << 20, handler: client)
            } catch {
                FileHandle.standardError.write(Data("connect \(index) failed: \(error)\n".utf8))
            }
        }
    }
}
