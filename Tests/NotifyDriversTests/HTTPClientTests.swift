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
            // Split by bytes, in the middle of a UTF-8 character if it falls there.
            for piece in [body[..<(body.count / 2)], body[(body.count / 2)...]] {
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
        let answers = Mutex<[Int]>([])
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

    @Test func aSilentServerTimesOut() throws {
        let server = try ScriptedHTTPServer { peer in
            _ = peer.readRequest()
            usleep(1_500_000)
        }
        defer { server.stop() }
        #expect { try client(responseMillis: 300).requestAndWait("GET", url(server)) } throws: { error in
            "\(error)".contains("no answer")
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
        let client = client(idleMillis: 100)
        #expect(try client.requestAndWait("POST", url(server), body: [65]).status == 200)
        usleep(400_000)
        #expect(try client.requestAndWait("POST", url(server), body: [66]).status == 200)
        #expect(server.accepted == 2)
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
