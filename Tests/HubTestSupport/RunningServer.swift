import Foundation
import Hub

/// A real server on an ephemeral port of 127.0.0.1, for tests over real sockets.
public final class RunningServer: Sendable {
    public let server: Server
    public var port: Int { server.port }

    public init(http: HTTPServer, threads: Int = 2, maxConnections: Int = 1000, sweepIntervalMillis: Int64 = 50) throws {
        var configuration = Server.Configuration(host: "127.0.0.1", port: 0, threads: threads, maxConnections: maxConnections)
        configuration.sweepIntervalMillis = sweepIntervalMillis
        server = try Server(configuration: configuration, makeHandler: { _ in http.makeConnectionHandler() })
        server.start()
    }

    public func stop() { server.stop(graceMillis: 2000) }
}

extension Router {
    /// Routes for server tests: `/echo` answers with the request's body and selected facts.
    public static func testRoutes() -> Router {
        var router = Router()
        router.get("/hello/") { _, responder in responder.respond(.text(.ok, "hello")) }
        router.post("/echo/") { request, responder in
            responder.respond(HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]),
                                           body: request.body))
        }
        router.get("/items/{id}/") { request, responder in
            responder.respond(.text(.ok, "item \(request.parameter("id") ?? "?") q=\(request.query["q"] ?? "")"))
        }
        router.get("/slow/{millis}/") { request, responder in
            let millis = Int64(request.parameter("millis") ?? "0") ?? 0
            let loop = responder.loop
            loop.execute {
                loop.schedule(afterMillis: millis) { responder.respond(.text(.ok, "slow \(millis)")) }
            }
        }
        router.get("/later/{text}/") { request, responder in
            let text = request.parameter("text") ?? ""
            // A plain thread: tests block the cooperative pool with blocking sockets.
            Thread.detachNewThread { responder.respond(.text(.ok, text)) }
        }
        return router
    }
}
