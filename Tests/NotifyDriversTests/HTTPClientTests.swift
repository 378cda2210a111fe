import Foundation
import Hub
import HubTestSupport
import Synchronization
import Testing
@testable import NotifyDrivers

/// The non-blocking client against real sockets: a blocking scripted server on the other side.
@Suite struct HTTPClientTests {
    static let loop: EventLoop = {
        let loop = try! EventLoop(index: 0, name: "http-client-tests")
        loop.sweepIntervalMillis = 50
        loop.start()
        return loop
    }()

    private func client(responseMillis: Int64 = 5_000, idleMillis: Int64 = 30_000, maxConnections: Int = 8) -> HTTPClient {
        HTTPClient(loop: Self.loop, timeouts: .init(connectMillis: 2_000, responseMillis: responseMillis, idleMillis: idleMillis),
                   maxConnectionsPerHost: maxConnections)
    }

    private func url(_ server: ScriptedHTTPServer, _ path: String = "/send") -> URL {
        URL(string: "http://127.0.0.1:\(server.port)\(path)")!
    }

    /// Answers every request on the connection with its body echoed, chunked in two pieces.
    static let echoChunked: @Sendable (ScriptedHTTPServer.Peer) -> Void = { peer in
        while let (head, body) = peer.readRequest() {
            let line = head.split(separator: "\r\n").first ?? ""
            peer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Line: \(line)\r\n\r\n")
            // Split by bytes, in the middle of a UTF-8 character if it falls there. An empty piece
            // is not written: a chunk of size 0 would end the body early.
            for piece in [body[..<(body.count / 2)], body[(body.count / 2)...]] where !piece.isEmpty {
                peer.write(Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece + Array("\r\n".utf8))
            }
            peer.write("0\r\n\r\n")
        }
    }

    @Test func keepAliveCarriesSequentialRequestsOnOneConnection() throws {
        let server = try ScriptedHTTPServer(script: Self.echoChunked)
        defer { server.stop() }
        let client = client()
        for number in 0..<5 {
            let response = try client.requestAndWait("POST", url(server, "/send?n=\(number)"), body: Array("سلام \(number)".utf8))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "سلام \(number)")
            #expect(response.headers["x-line"] == "POST /send?n=\(number) HTTP/1.1")
        }
        #expect(server.accepted == 1)
    }

    @Test func manyRequestsInFlightShareAtMostTheConnectionLimit() throws {
        let server = try ScriptedHTTPServer { peer in
            while peer.readRequest() != nil {
                usleep(50_000)
                peer.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        defer { server.stop() }
        let client = client(maxConnections: 4)
        let answers = Locked<[Int]>([])
        let done = DispatchGroup()
        for _ in 0..<20 {
            done.enter()
            client.request("POST", url(server)) { result in
                answers.withLock { $0.append((try? result.get())?.status ?? -1) }
                done.leave()
            }
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(answers.withLock { $0 } == Array(repeating: 200, count: 20))
        #expect(server.accepted == 4)
        #expect(server.maxOpen == 4)
    }

    /// A loop on a manual clock, turned by hand on the test's thread: a timeout fires when the test
    /// moves time past it, not after a sleep.
    /// The client made by `body` is released when it returns, and the loop turned until the
    /// client's connections closed, so nothing outlives the test (LeakSanitizer).
    private func withManualLoop(_ body: (EventLoop, ManualClock) throws -> Void) throws {
        let clock = ManualClock()
        let loop = try EventLoop(index: 0, name: "http-client-manual", clock: .manual(clock))
        loop.sweepIntervalMillis = 50
        try body(loop, clock)
        settle(loop)
    }

    /// Turns `loop` (waiting at most 5 ms each turn for sockets) until `done`, at most 2,000 turns.
    private func turn(_ loop: EventLoop, until done: () -> Bool) {
        for _ in 0..<2000 where !done() { loop.runOnce(timeoutMillis: 5) }
    }

    /// A few turns for what is already on its way (the scripted server's peers read with a
    /// timeout of their own, so the test does not idle in real time).
    private func settle(_ loop: EventLoop) {
        for _ in 0..<20 { loop.runOnce(timeoutMillis: 2) }
    }

    @Test func aSilentServerTimesOutWhenTimePassesTheResponseTimeout() throws {
        let heard = Atomic<Bool>(false), release = DispatchSemaphore(value: 0)
        let server = try ScriptedHTTPServer { peer in
            _ = peer.readRequest()
            heard.store(true, ordering: .relaxed)
            release.wait()
        }
        defer {
            release.signal()
            server.stop()
        }
        try withManualLoop { loop, clock in
            let client = HTTPClient(loop: loop, timeouts: .init(connectMillis: 2_000, responseMillis: 300, idleMillis: 30_000))
            let outcome = Locked<Result<HTTPClientResponse, TransportError>?>(nil)
            client.request("GET", url(server)) { result in outcome.withLock { $0 = result } }
            turn(loop) { heard.load(ordering: .relaxed) }
            let requestArrived = heard.load(ordering: .relaxed)
            #expect(requestArrived)
            clock.advance(byMillis: 290)
            settle(loop)
            let early = outcome.withLock { $0 == nil }
            #expect(early, "not before the timeout")
            clock.advance(byMillis: 60)
            turn(loop) { outcome.withLock { $0 } != nil }
            guard case .failure(let error) = outcome.withLock({ $0 }) else {
                Issue.record("expected a timeout, got \(String(describing: outcome.withLock { $0 }))")
                return
            }
            #expect("\(error)".contains("no answer"))
        }
    }

    @Test func aRefusedConnectionFailsWithAReason() throws {
        let server = try ScriptedHTTPServer { _ in }
        let port = server.port
        server.stop()
        #expect { try client().requestAndWait("GET", URL(string: "http://127.0.0.1:\(port)/")!) } throws: { error in
            "\(error)".contains("closed before an answer")
        }
    }

    @Test func aKeptAliveConnectionTheServerDropsIsRetriedOnceOnAFreshOne() throws {
        // Each connection answers its first request, then reads the second and hangs up unanswered.
        let server = try ScriptedHTTPServer { peer in
            guard peer.readRequest() != nil else { return }
            peer.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            _ = peer.readRequest()
        }
        defer { server.stop() }
        let client = client()
        #expect(try client.requestAndWait("GET", url(server)).status == 200)
        #expect(try client.requestAndWait("GET", url(server)).status == 200)
        #expect(server.accepted == 2)
    }

    @Test func idleConnectionsCloseAfterTheIdleTimeout() throws {
        let server = try ScriptedHTTPServer(script: Self.echoChunked)
        defer { server.stop() }
        try withManualLoop { loop, clock in
            let client = HTTPClient(loop: loop, timeouts: .init(connectMillis: 2_000, responseMillis: 5_000, idleMillis: 100))
            func post(_ byte: UInt8) -> Int? {
                let status = Locked<Int?>(nil)
                client.request("POST", url(server), body: [byte]) { result in status.withLock { $0 = (try? result.get())?.status ?? -1 } }
                turn(loop) { status.withLock { $0 } != nil }
                return status.withLock { $0 }
            }
            #expect(post(65) == 200)
            clock.advance(byMillis: 60)
            settle(loop)
            #expect(post(66) == 200)
            #expect(server.accepted == 1, "still within the idle timeout: the connection is reused")
            clock.advance(byMillis: 160)
            turn(loop) { server.openConnections == 0 }
            #expect(post(67) == 200)
            #expect(server.accepted == 2, "idle past the timeout: closed, and a new connection made")
        }
    }

    @Test func bodyUntilCloseAndOversizedBodies() throws {
        let server = try ScriptedHTTPServer { peer in
            guard let (head, _) = peer.readRequest() else { return }
            if head.hasPrefix("GET /big") {
                peer.write("HTTP/1.1 200 OK\r\nContent-Length: \(HTTPClient.maxBody + 1)\r\n\r\n")
            } else {
                peer.write("HTTP/1.1 200 OK\r\n\r\nuntil the end")
            }
        }
        defer { server.stop() }
        let client = client()
        #expect(String(decoding: try client.requestAndWait("GET", url(server, "/stream")).body, as: UTF8.self) == "until the end")
        #expect { try client.requestAndWait("GET", url(server, "/big")) } throws: { "\($0)".contains("too large") }
    }

    @Test func httpsToAPlainServerFailsTheHandshake() throws {
        // A plain server answers the ClientHello with plain text, as a misconfigured gateway would.
        let server = try ScriptedHTTPServer { peer in
            peer.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            usleep(500_000)
        }
        defer { server.stop() }
        #expect { try client().requestAndWait("GET", URL(string: "https://127.0.0.1:\(server.port)/")!) } throws: { error in
            "\(error)".contains("TLS")
        }
    }

    @Test func unsupportedSchemesAndUnknownHostsAreRefused() {
        #expect(throws: TransportError.self) { try client().requestAndWait("GET", URL(string: "ftp://127.0.0.1/")!) }
        #expect(throws: TransportError.self) { try client().requestAndWait("GET", URL(string: "http://no-such-host.invalid/")!) }
    }
}
