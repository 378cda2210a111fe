import Testing
@testable import Hub

@Suite struct RouterTests {
    private func makeRouter() -> Router {
        var router = Router()
        let noop: HTTPHandler = { _, _ in }
        router.get("/api/health/", noop)
        router.get("/api/v1/notifications/", noop)
        router.post("/api/v1/notifications/", noop)
        router.get("/api/v1/notifications/unread-count/", noop)
        router.get("/api/v1/notifications/{id}/", noop)
        router.post("/api/v1/notifications/{id}/read/", noop)
        router.delete("/api/v1/rooms/{room}/members/{user_id}/", noop)
        router.get("/static/{path...}", noop)
        return router
    }

    private func parameters(_ match: Router.Match) -> [String: String]? {
        if case .found(_, let parameters) = match { return parameters }
        return nil
    }

    @Test func literalAndParameterSegments() {
        let router = makeRouter()
        #expect(parameters(router.match(.GET, path: "/api/health/")) == [:])
        #expect(parameters(router.match(.GET, path: "/api/health")) == [:], "trailing slash is optional")
        #expect(parameters(router.match(.GET, path: "/api/v1/notifications/42/")) == ["id": "42"])
        #expect(parameters(router.match(.GET, path: "/api/v1/notifications/unread-count/")) == [:], "literal wins")
        #expect(parameters(router.match(.POST, path: "/api/v1/notifications/7/read/")) == ["id": "7"])
        #expect(parameters(router.match(.DELETE, path: "/api/v1/rooms/class%3A5/members/9/")) == ["room": "class:5", "user_id": "9"])
        #expect(parameters(router.match(.GET, path: "/static/js/hub-client.js")) == ["path": "js/hub-client.js"])
    }

    @Test func headFallsBackToGet() {
        #expect(parameters(makeRouter().match(.HEAD, path: "/api/health/")) != nil)
    }

    @Test func unknownPathIsNotFound() {
        guard case .notFound = makeRouter().match(.GET, path: "/api/v2/nothing/") else { Issue.record("expected 404"); return }
    }

    @Test func wrongMethodListsTheAllowedOnes() {
        guard case .methodNotAllowed(let allowed) = makeRouter().match(.DELETE, path: "/api/v1/notifications/") else {
            Issue.record("expected 405"); return
        }
        #expect(allowed.map(\.description) == ["GET", "HEAD", "OPTIONS", "POST"])
    }
}

@Suite struct QueryParametersTests {
    @Test func percentDecodingAndPlus() {
        let query = QueryParameters("search=%D9%85%D8%AF%D8%B1%D8%B3%D8%A9&page=2&tag=a+b&tag=c&empty&bad=%zz")
        #expect(query["search"] == "مدرسة")
        #expect(query["page"] == "2")
        #expect(query["tag"] == "c")
        #expect(query.all("tag") == ["a b", "c"])
        #expect(query["empty"] == "")
        #expect(query["bad"] == "%zz")
        #expect(query["missing"] == nil)
    }
}

@Suite struct CORSPolicyTests {
    @Test func allowList() {
        let policy = CORSPolicy("https://app.madrasti.ma, http://localhost:3000/")
        #expect(policy.allows("https://app.madrasti.ma"))
        #expect(policy.allows("http://localhost:3000"))
        #expect(!policy.allows("https://evil.example"))
        #expect(CORSPolicy("*").allows("https://anything.example"))
        #expect(!CORSPolicy.none.allows("https://app.madrasti.ma"))
    }
}
