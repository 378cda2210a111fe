import Foundation
import Synchronization
import Testing
import HubTestSupport
@testable import Hub

/// Records the close codes its sockets ended with, across loop threads.
final class CloseRecorder: Sendable {
    private let codes = Locked<[UInt16?]>([])
    private let recorded = DispatchSemaphore(value: 0)
    func record(_ code: UInt16?) {
        codes.withLock { $0.append(code) }
        recorded.signal()
    }
    var all: [UInt16?] { codes.withLock { $0 } }

    /// Waits until `count` closes are recorded (at most `seconds`, a safety net, not a deadline).
    func wait(for count: Int, seconds: Double = 10) -> [UInt16?] {
        let limit = DispatchTime.now() + seconds
        while all.count < count && recorded.wait(timeout: limit) == .success {}
        return all
    }
}

/// Sends 256 KiB to its client for every message it receives (a client that never reads drowns).
final class FloodDelegate: WebSocketDelegate {
    let recorder: CloseRecorder
    init(recorder: CloseRecorder) { self.recorder = recorder }
    func webSocket(_ socket: WebSocket, didReceiveText text: [UInt8]) {
        socket.send(binary: [UInt8](repeating: 0x42, count: 256 * 1024))
    }
    func webSocketDidClose(_ socket: WebSocket, code: UInt16?) { recorder.record(code) }
}

@Suite struct WebSocketServerTests {
    @Test func broadcastIsFramedOnceForEveryRecipient() throws {
        let group = BroadcastGroup(loopCount: 2)
        var router = Router()
        router.webSocket("/ws/b/") { _, acceptor in acceptor.accept { BroadcastDelegate(group: group) } }
        let running = try RunningServer(http: HTTPServer(router: router))
        defer { running.stop() }
        let clients = try (0..<40).map { _ in try BlockingWebSocket(port: running.port, path: "/ws/b/") }
        // Members join in webSocketDidOpen, on the loop, before the 101 is written: no wait needed.
        clients[0].send(text: "to everyone")
        for client in clients { #expect(try client.readText() == "to everyone") }
        #expect(group.encodeCount == 1, "one broadcast, one frame, whatever the audience")
        clients[1].send(text: "again")
        for client in clients { #expect(try client.readText() == "again") }
        #expect(group.encodeCount == 2)
    }

    /// More connections than one slice of writes, and a burst published from another thread while
    /// the loop writes: between slices the loop takes the next publishes in, and every client must
    /// still get every message once, in order.
    @Test func aBurstFromAnotherThreadArrivesWholeAndInOrderPastOneWriteSlice() throws {
        let group = BroadcastGroup(loopCount: 1)
        var router = Router()
        router.webSocket("/ws/b/") { _, acceptor in acceptor.accept { BroadcastDelegate(group: group) } }
        let running = try RunningServer(http: HTTPServer(router: router), threads: 1)
        defer { running.stop() }
        let clients = try (0..<(EventLoop.flushSlice + 44)).map { _ in
            try BlockingWebSocket(port: running.port, path: "/ws/b/")
        }
        let messages = (0..<60).map { "burst \($0) " + String(repeating: "x", count: $0 * 7) }
        for message in messages { group.broadcast(text: Array(message.utf8)) }
        for (index, client) in clients.enumerated() {
            for message in messages { #expect(try client.readText() == message, "client \(index)") }
        }
        #expect(group.encodeCount == messages.count)
    }

    @Test func clientThatStopsReadingIsClosedAsSlowConsumer() throws {
        let recorder = CloseRecorder()
        var router = Router()
        var options = WebSocketOptions()
        options.outboundLimit = 1 << 20
        options.maxMessageBytes = 64 * 1024
        router.webSocket("/ws/flood/", options: options) { _, acceptor in
            acceptor.accept { FloodDelegate(recorder: recorder) }
        }
        let running = try RunningServer(http: HTTPServer(router: router))
        defer { running.stop() }
        let client = try BlockingWebSocket(port: running.port, path: "/ws/flood/")
        var size: Int32 = 4096
        setsockopt(client.client.fd, SOL_SOCKET, SO_RCVBUF, &size, 4)
        for _ in 0..<200 { client.send(text: "more") }
        #expect(recorder.wait(for: 1) == [4001])
        // `Connection.close` releases the limiter before the delegate hears of the close.
        #expect(running.server.limiter.current == 0, "the connection and its queue are gone on the server")
    }

    @Test func shutdownClosesSessionsWith1001() throws {
        var router = Router()
        router.webSocket("/ws/echo/") { _, acceptor in acceptor.accept { EchoDelegate() } }
        let running = try RunningServer(http: HTTPServer(router: router))
        let client = try BlockingWebSocket(port: running.port, path: "/ws/echo/")
        client.send(text: "hi")
        #expect(try client.readText() == "hi")
        running.stop()
        #expect(try client.readCloseCode() == 1001)
        #expect(client.client.waitForClose())
    }

    @Test func asynchronousAcceptAndReject() throws {
        var router = Router()
        router.webSocket("/ws/auth/") { request, acceptor in
            let allowed = request.query["token"] == "good"
            Thread.detachNewThread {
                if allowed {
                    acceptor.accept { EchoDelegate() }
                } else {
                    acceptor.reject(.error(.unauthorized, code: "AUTHENTICATION_REQUIRED", message: "bad token"))
                }
            }
        }
        let running = try RunningServer(http: HTTPServer(router: router))
        defer { running.stop() }
        let good = try BlockingWebSocket(port: running.port, path: "/ws/auth/?token=good")
        good.send(text: "ok")
        #expect(try good.readText() == "ok")
        #expect(throws: (any Error).self) { _ = try BlockingWebSocket(port: running.port, path: "/ws/auth/?token=bad") }
    }
}
