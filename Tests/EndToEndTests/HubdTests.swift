import Foundation
import Testing
import HubTestSupport

/// `hubd` as a user runs it: configuration, health, logs, signals.
@Suite struct HubdTests {
    @Test func healthAnswersInTheMadrastiShape() throws {
        let hubd = try HubdProcess()
        defer { hubd.stop() }
        let client = try BlockingClient(port: hubd.port)
        let response = try client.request("GET /api/health/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let json = try #require(response.json)
        #expect(json["status"] as? String == "healthy")
        #expect(json["version"] as? String != nil)
        #expect(json["database"] as? String == "not_configured")
        let timestamp = try #require(json["timestamp"] as? String)
        #expect(timestamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
    }

    @Test func metricsInPrometheusText() throws {
        let hubd = try HubdProcess()
        defer { hubd.stop() }
        let client = try BlockingClient(port: hubd.port)
        _ = try client.request("GET /api/health/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let metrics = try client.request("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(metrics.text.contains("hub_http_requests_total{method=\"GET\",status=\"200\"} 1"))
        #expect(metrics.text.contains("hub_connections 1"))
    }

    @Test func everyRequestIsLoggedAsOneJSONLine() throws {
        let hubd = try HubdProcess()
        let client = try BlockingClient(port: hubd.port)
        _ = try client.request("GET /api/health/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        _ = try client.request("GET /missing/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(hubd.stop() == 0)
        let requests = hubd.logObjects.filter { $0["msg"] as? String == "request" }
        #expect(requests.count == 2)
        #expect(requests.first?["method"] as? String == "GET")
        #expect(requests.first?["path"] as? String == "/api/health/")
        #expect(requests.first?["status"] as? Int == 200)
        #expect(requests.last?["status"] as? Int == 404)
        #expect(requests.allSatisfy { $0["duration_ms"] is Double && $0["level"] as? String == "info" })
        #expect(hubd.lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }

    @Test func sigtermDrainsAndExitsCleanly() throws {
        let hubd = try HubdProcess()
        let client = try BlockingClient(port: hubd.port)
        _ = try client.request("GET /api/health/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(hubd.stop(signal: SIGTERM) == 0)
        #expect(client.waitForClose(), "idle keep-alive connections are closed on shutdown")
        #expect(hubd.lines.contains { $0.contains("\"hubd stopped\"") })
        #expect(throws: (any Error).self) { _ = try BlockingClient(port: hubd.port) }
    }

    @Test func flagsOverrideTheEnvironment() throws {
        let hubd = try HubdProcess(environment: ["HUB_LOG_LEVEL": "info"], arguments: ["--log-level", "warning"],
                                   fixedPort: try HubdProcess.freePort())
        let client = try BlockingClient(port: hubd.port)
        _ = try client.request("GET /api/health/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        hubd.stop()
        #expect(!hubd.lines.contains { $0.contains("\"msg\":\"request\"") }, "info lines are off at warning level")
    }

    @Test func missingSecretStopsStartUpWithOneLine() throws {
        let (status, output) = try HubdProcess.runToExit(environment: ["HUB_PORT": "0"])
        #expect(status == 2)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(output.contains("HUB_JWT_SECRET"))
    }

    @Test(arguments: [
        (["HUB_PORT": "eighty"], "HUB_PORT"),
        (["HUB_PORT": "70000"], "HUB_PORT"),
        (["HUB_THREADS": "0"], "HUB_THREADS"),
        (["HUB_ENABLE_ECHO": "maybe"], "HUB_ENABLE_ECHO"),
        (["HUB_LOG_LEVEL": "loud"], "HUB_LOG_LEVEL"),
        (["HUB_DATABASE_URL": "mysql://x"], "HUB_DATABASE_URL"),
        (["HUB_HOST": "example.com"], "HUB_HOST"),
        (["HUB_JWT_SECRET": "short"], "HUB_JWT_SECRET"),
        (["HUB_BUS": "redis"], "HUB_BUS"),
        (["HUB_NODE_ID": "two words"], "HUB_NODE_ID"),
        (["HUB_NODE_LEASE_MS": "100"], "HUB_NODE_LEASE_MS"),
        (["HUB_BUS_POLL_MS": "0"], "HUB_BUS_POLL_MS"),
        (["HUB_BUS_LISTEN": "perhaps"], "HUB_BUS_LISTEN"),
    ])
    func malformedSettingIsNamed(_ environment: [String: String], _ name: String) throws {
        var full = ["HUB_JWT_SECRET": HubdProcess.testSecret, "HUB_PORT": "0"]
        for (key, value) in environment { full[key] = value }
        let (status, output) = try HubdProcess.runToExit(environment: full)
        #expect(status == 2)
        #expect(output.split(separator: "\n").count == 1)
        #expect(output.contains(name))
    }

    @Test func unknownFlagIsRefused() throws {
        let (status, output) = try HubdProcess.runToExit(environment: ["HUB_JWT_SECRET": HubdProcess.testSecret],
                                                         arguments: ["--colour", "blue"])
        #expect(status == 2)
        #expect(output.contains("--colour"))
    }

    @Test func helpListsEverySetting() throws {
        let (status, output) = try HubdProcess.runToExit(environment: [:], arguments: ["--help"])
        #expect(status == 0)
        for name in ["HUB_HOST", "HUB_PORT", "HUB_THREADS", "HUB_DATABASE_URL", "HUB_JWT_SECRET", "HUB_CORS_ORIGINS",
                     "HUB_ENABLE_ECHO", "--max-connections", "--log-level", "HUB_BUS", "--node-id", "HUB_NODE_LEASE_MS",
                     "HUB_BUS_POLL_MS", "HUB_BUS_LISTEN"]
        {
            #expect(output.contains(name), "\(name)")
        }
    }
}
