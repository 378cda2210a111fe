import Foundation
import Testing
import Hub
@testable import RESTBridge

@Suite struct HealthRoutesTests {
    @Test func unavailableDatabaseMakesHealth503() async throws {
        #expect(HealthRoutes.body(database: "unavailable").status.code == 503)
        #expect(HealthRoutes.body(database: "connected").status.code == 200)
        #expect(HealthRoutes.body(database: "not_configured").status.code == 200)
        var healthy = Router()
        HealthRoutes.register(on: &healthy)
        guard case .found = healthy.match(.HEAD, path: "/api/health") else {
            Issue.record("HEAD and no trailing slash should reach health"); return
        }
    }
}
