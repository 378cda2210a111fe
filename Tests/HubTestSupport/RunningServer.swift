import Dispatch
import Foundation
import Hub

/// A real server on an ephemeral port of 127.0.0.1, for tests over real sockets. With a
/// `ManualClock`, its loops see time move only through `advanceTime(byMillis:)`, so a test of a
/// server-side deadline advances time instead of sleeping.
public final class RunningServer: Sendable {
    public let server: Server
    public let clock: ManualClock?
    public var port: Int { server.port }

    public init(http: HTTPServer, threads: Int = 2, maxConnections: Int = 1000, sweepIntervalMillis: Int64 = 50,
                clock: ManualClock? = nil) throws
    {
        var configuration = Server.Configuration(host: "127.0.0.1", port: 0, threads: threads, maxConnections: maxConnections)
        configuration.sweepIntervalMillis = sweepIntervalMillis
        if let clock { configuration.clock = .manual(clock) }
        self.clock = clock
        server = try Server(configuration: configuration, makeHandler: { _ in http.makeConnectionHandler() })
        server.start()
    }

    /// Returns once every loop has taken three turns: a connection the client opened before the
    /// call is accepted (first turn), bytes it sent are read (second), and whatever a turn does
    /// after its tasks (timers, the sweep) is done for the turn that first saw the time (third).
    public func settle() {
        for _ in 0..<3 {
            for loop in server.loops {
                let done = DispatchSemaphore(value: 0)
                loop.execute { done.signal() }
                done.wait()
            }
        }
    }

    /// Moves the manual clock and returns once every loop has read the new time and swept its
    /// connections' deadlines. Steps should be at least the sweep interval (the sweep's resolution).
    public func advanceTime(byMillis millis: Int64) {
        guard let clock else { preconditionFailure("advanceTime needs a server made with a ManualClock") }
        settle()
        clock.advance(byMillis: millis)
        settle()
    }

    /// Stops the loops. With a manual clock no grace period would ever pass, so what is left
    /// open is closed at once.
    public func stop() {
        server.stop(graceMillis: clock == nil ? 2000 : 0)
    }
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
