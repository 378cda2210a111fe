import Hub
import Testing

/// `HUB_WS_ORIGINS`: which pages may open a WebSocket.
@Suite struct OriginAllowListTests {
    let list = OriginAllowList("https://app.example, http://localhost:3000/ ,")

    @Test func listedOriginsPassWithoutCaseOrTrailingSlash() {
        #expect(list.allows(origin: "https://app.example", host: "hub.example"))
        #expect(list.allows(origin: "HTTPS://App.Example/", host: "hub.example"))
        #expect(list.allows(origin: "http://localhost:3000", host: "hub.example"))
    }

    @Test func othersAreRefused() {
        for origin in ["https://evil.example", "http://app.example", "https://app.example:8443",
                       "https://app.example.evil.example", "null", "", "hub.example"] {
            #expect(!list.allows(origin: origin, host: "hub.example"), "\(origin)")
        }
    }

    @Test func noOriginIsANonBrowserClient() {
        #expect(list.allows(origin: nil, host: "hub.example"))
        #expect(OriginAllowList("").allows(origin: nil, host: nil))
    }

    @Test func theHubsOwnOriginPasses() {
        #expect(OriginAllowList("").allows(origin: "http://127.0.0.1:8000", host: "127.0.0.1:8000"))
        #expect(OriginAllowList("").allows(origin: "https://Hub.Example", host: "hub.example"))
        #expect(!OriginAllowList("").allows(origin: "http://127.0.0.1:8001", host: "127.0.0.1:8000"))
        #expect(!OriginAllowList("").allows(origin: "ftp://hub.example", host: "hub.example"))
        #expect(!OriginAllowList("").allows(origin: "https://hub.example", host: nil))
    }

    @Test func starAllowsAny() {
        #expect(OriginAllowList.any.allows(origin: "null", host: nil))
        #expect(OriginAllowList("https://a.example,*").allows(origin: "https://b.example", host: "hub.example"))
    }

    @Test func malformedItemsAreNamed() {
        #expect(OriginAllowList.malformedItem(in: "https://a.example, http://localhost:3000/, null, *") == nil)
        #expect(OriginAllowList.malformedItem(in: "https://a.example,app.example") == "app.example")
        #expect(OriginAllowList.malformedItem(in: "https://a.example/path") == "https://a.example/path")
        #expect(OriginAllowList.malformedItem(in: "://x") == "://x")
    }
}
