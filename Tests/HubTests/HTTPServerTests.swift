import Foundation
import Testing
import HubTestSupport
@testable import Hub

/// The HTTP server over real sockets: pipelining, keep-alive, and every row of the limits table.
@Suite struct HTTPServerTests {
    /// `manualClock`: the server's loops read a clock that moves only by `advanceTime(byMillis:)`.
    private func withServer(_ configure: (inout HTTPServer.Configuration) -> Void = { _ in }, maxConnections: Int = 1000,
                            manualClock: Bool = false, _ body: (RunningServer) throws -> Void) throws
    {
        var configuration = HTTPServer.Configuration()
        configuration.cors = CORSPolicy("https://app.example")
        configure(&configuration)
        let running = try RunningServer(http: HTTPServer(router: .testRoutes(), configuration: configuration),
                                        maxConnections: maxConnections, clock: manualClock ? ManualClock() : nil)
        defer { running.stop() }
        try body(running)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withServer(manualClock: true) { server in
            let client = try BlockingClient(port: server.port)
            // /slow/ answers later from a timer and /later/ from another thread; order must still hold.
            client.send("GET /slow/150/ HTTP/1.1\r\nHost: t\r\n\r\nGET /items/1/?q=a HTTP/1.1\r\nHost: t\r\n\r\n"
                + "GET /later/third/ HTTP/1.1\r\nHost: t\r\n\r\nPOST /echo/ HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nfour"
                + "GET /hello/ HTTP/1.1\r\nHost: t\r\n\r\n")
            server.settle()
            #expect(client.nothingReceived, "nothing overtakes the first answer, still on its timer")
            server.advanceTime(byMillis: 150)
            let bodies = try (0..<5).map { _ in try client.readResponse().text }
            #expect(bodies == ["slow 150", "item 1 q=a", "third", "four", "hello"])
        }
    }

    @Test func keepAliveAndClose() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            let first = try client.request("GET /hello/ HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(first.header("Connection") == "keep-alive")
            #expect(first.header("Date") != nil)
            let second = try client.request("GET /hello/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(second.header("Connection") == "close")
            #expect(client.waitForClose())
            let old = try BlockingClient(port: server.port)
            #expect(try old.request("GET /hello/ HTTP/1.0\r\n\r\n").status == 200)
            #expect(old.waitForClose())
        }
    }

    @Test func headHasLengthButNoBody() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            client.send("HEAD /hello/ HTTP/1.1\r\nHost: t\r\n\r\nGET /hello/ HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try client.readResponse(headOnly: true)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "5")
            #expect(try client.readResponse().text == "hello", "the next response starts right after the head")
        }
    }

    @Test func chunkedAndExpectContinue() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            let chunked = try client.request(
                "POST /echo/ HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nمر\r\n2\r\nhi\r\n0\r\n\r\n")
            #expect(chunked.text == "مرhi")
            client.send("POST /echo/ HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            client.send("hello")
            #expect(try client.readResponse().text == "hello")
        }
    }

    // MARK: The limits table

    @Test func malformedRequestIs400AndClosed() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            let response = try client.request("GET /hello/ HTTP/1.1\r\nHost t\r\n\r\n")
            #expect(response.status == 400)
            #expect(response.json?["error_code"] as? String == "BAD_REQUEST")
            #expect(response.json?["timestamp"] is String)
            #expect(client.waitForClose())
        }
    }

    @Test func smugglingFramingIs400() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            let response = try client.request(
                "POST /echo/ HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect(response.status == 400)
            #expect(client.waitForClose())
        }
    }

    @Test func headersOver16KiBAre431() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            let response = try client.request("GET /hello/ HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "b", count: 17_000)
                + "\r\n\r\n")
            #expect(response.status == 431)
            #expect(client.waitForClose())
        }
    }

    @Test func bodyOverTheLimitIs413() throws {
        try withServer({ $0.limits.maxBodyBytes = 1000 }) { server in
            let declared = try BlockingClient(port: server.port)
            let response = try declared.request("POST /echo/ HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n")
            #expect(response.status == 413)
            #expect(declared.waitForClose())

            let chunked = try BlockingClient(port: server.port)
            let chunk = String(repeating: "x", count: 600)
            let answer = try chunked.request("POST /echo/ HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n")
            #expect(answer.status == 413)
        }
    }

    @Test func incompleteHeadersAre408() throws {
        try withServer({ $0.headerTimeoutMillis = 10_000 }, manualClock: true) { server in
            let client = try BlockingClient(port: server.port)
            client.send("GET /hello/ HTTP/1.1\r\nHost: t\r\n")
            server.settle()
            server.advanceTime(byMillis: 9_950)
            #expect(client.nothingReceived, "50 ms before the header deadline")
            server.advanceTime(byMillis: 50)
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(response.json?["error_code"] as? String == "REQUEST_TIMEOUT")
            #expect(client.waitForClose())
        }
    }

    @Test func idleKeepAliveConnectionIsClosedQuietly() throws {
        try withServer({ $0.idleTimeoutMillis = 60_000 }, manualClock: true) { server in
            let client = try BlockingClient(port: server.port)
            #expect(try client.request("GET /hello/ HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
            server.advanceTime(byMillis: 59_950)
            #expect(client.nothingReceived, "still open 50 ms before the idle deadline")
            server.advanceTime(byMillis: 50)
            #expect(try client.readToEnd().isEmpty, "closed without a 408")
        }
    }

    @Test func unknownRouteIs404AndWrongMethodIs405WithAllow() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            let missing = try client.request("GET /nothing/here/ HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(missing.status == 404)
            #expect(missing.json?["error_code"] as? String == "NOT_FOUND")
            let wrong = try client.request("DELETE /echo/ HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(wrong.status == 405)
            #expect(wrong.header("Allow") == "OPTIONS, POST")
            #expect(wrong.header("Connection") == "keep-alive", "a 405 does not cost the connection")
        }
    }

    @Test func corsPreflightAndSimpleRequests() throws {
        try withServer { server in
            let client = try BlockingClient(port: server.port)
            let preflight = try client.request("OPTIONS /echo/ HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n"
                + "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n\r\n")
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "https://app.example")
            #expect(preflight.header("Access-Control-Allow-Methods") == "OPTIONS, POST")
            #expect(preflight.header("Access-Control-Allow-Headers") == "authorization, content-type")
            let simple = try client.request("GET /hello/ HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n\r\n")
            #expect(simple.header("Access-Control-Allow-Origin") == "https://app.example")
            let foreign = try client.request("OPTIONS /echo/ HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\n"
                + "Access-Control-Request-Method: POST\r\n\r\n")
            #expect(foreign.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test func connectionsPastTheLimitGet503() throws {
        try withServer(maxConnections: 2) { server in
            let first = try BlockingClient(port: server.port)
            let second = try BlockingClient(port: server.port)
            #expect(try first.request("GET /hello/ HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
            #expect(try second.request("GET /hello/ HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
            let third = try BlockingClient(port: server.port)
            #expect(try third.readResponse().status == 503)
        }
    }

    @Test func clientThatHalfClosesStillGetsItsAnswer() throws {
        try withServer(manualClock: true) { server in
            let client = try BlockingClient(port: server.port)
            client.send("GET /slow/50/ HTTP/1.1\r\nHost: t\r\n\r\n")
            client.shutdownWrite()
            server.settle()
            #expect(client.nothingReceived, "the half-close is not taken as the end of the connection")
            server.advanceTime(byMillis: 50)
            #expect(try client.readResponse().text == "slow 50")
        }
    }
}
