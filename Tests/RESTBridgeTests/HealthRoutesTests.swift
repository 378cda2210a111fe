import Foundation
import Testing
import Hub
@testable import RESTBridge

@Suite struct HealthRoutesTests {
    @Test func unavailableDatabaseMakesHealth503() async throws {
        var router = Router()
        HealthRoutes.register(on: &router, database: { "unavailable" })
        guard case .found = router.match(.GET, path: "/api/health/") else {
            Issue.record("health route missing"); return
        }
        var healthy = Router()
        HealthRoutes.register(on: &healthy)
        guard case .found = healthy.match(.HEAD, path: "/api/health") else {
            Issue.record("HEAD and no trailing slash should reach health"); return
        }
    }
}
