import Foundation
import Hub
import Testing
@testable import NotifyDrivers

@Suite struct WebPushDriverTests {
    private func response(_ status: Int, _ headers: [(String, String)] = [], body: String = "") -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: HTTPHeaders(headers), body: Array(body.utf8))
    }

    /// The push service's answer, as issue 18's table gives it.
    @Test func answersBecomeOutcomes() {
        #expect(WebPushDriver.outcome(of: response(201, [("Location", "https://push.example/m/1")]))
            == .delivered(providerID: "https://push.example/m/1"))
        #expect(WebPushDriver.outcome(of: response(202)) == .delivered(providerID: nil))
        #expect(WebPushDriver.outcome(of: response(404)) == .failed(reason: "gone"))
        #expect(WebPushDriver.outcome(of: response(410)) == .failed(reason: "gone"))
        #expect(WebPushDriver.outcome(of: response(413)) == .failed(reason: "push service answered 413: payload too large"))
        #expect(WebPushDriver.outcome(of: response(429, [("Retry-After", "2")]))
            == .retry(afterSeconds: 2, reason: "push service answered 429"))
        #expect(WebPushDriver.outcome(of: response(503)) == .retry(afterSeconds: 0, reason: "push service answered 503"))
        #expect(WebPushDriver.outcome(of: response(403, body: "VAPID mismatch"))
            == .failed(reason: "push service answered 403: VAPID mismatch"))
        #expect(WebPushDriver.outcome(of: response(400, body: "bad TTL")) == .failed(reason: "push service answered 400: bad TTL"))
    }

    /// A message too long for one record is shortened to fit, whole characters and "…"; the JSON
    /// around it stays whole and parses.
    @Test func payloadFitsOneRecord() throws {
        let long = String(repeating: "ب", count: 4000)
        let bytes = WebPushMessage.payload(id: 7, type: "t", title: "عنوان", message: long, url: nil, priority: "HIGH",
                                           timestamp: "2026-12-03T10:00:00Z", collapseKey: "k")
        #expect(bytes.count <= WebPushEncryption.maxPlaintext && bytes.count > WebPushEncryption.maxPlaintext - 8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect((json["message"] as? String)?.hasSuffix("…") == true)
        #expect(json["title"] as? String == "عنوان" && json["collapse_key"] as? String == "k" && json["url"] is NSNull)
        let short = WebPushMessage.payload(id: 7, type: "t", title: "x", message: "hello", url: "/a", priority: "LOW",
                                           timestamp: "")
        #expect(String(decoding: short, as: UTF8.self)
            == #"{"id":7,"type":"t","title":"x","message":"hello","url":"/a","priority":"LOW","timestamp":""}"#)
    }

    @Test func headersFromPriorityAndCollapseKey() {
        #expect(WebPushMessage.ttl(priority: "LOW", override: nil) == 86_400)
        #expect(WebPushMessage.ttl(priority: "URGENT", override: 600) == 600)
        #expect(WebPushMessage.urgency(priority: "URGENT") == "high" && WebPushMessage.urgency(priority: "MEDIUM") == "normal")
        #expect(WebPushMessage.topic(collapseKey: "absence-7") == "absence-7")
        let hashed = WebPushMessage.topic(collapseKey: "absence of Yasmine, 3 Dec")
        #expect(hashed?.count == 32 && hashed == WebPushMessage.topic(collapseKey: "absence of Yasmine, 3 Dec"))
        #expect(WebPushMessage.topic(collapseKey: nil) == nil && WebPushMessage.topic(collapseKey: "") == nil)
    }
}
