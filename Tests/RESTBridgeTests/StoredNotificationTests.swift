import Foundation
import Hub
import Testing
@testable import RESTBridge

/// The byte search that decides whether a push reads its data for the seeds' fields
/// (`student`, `auto_generated`): it must find a word anywhere and nothing else. The display
/// name written without Foundation, and pushes made from one template per event.
@Suite struct StoredNotificationTests {
    @Test func mentionsFindsAWordAnywhere() {
        #expect(StoredNotification.mentions(#"{"student_id": 7}"#, "student"))
        #expect(StoredNotification.mentions(#"{"a": 1, "auto_generated": false}"#, "auto_generated"))
        #expect(StoredNotification.mentions("student", "student"))
        #expect(StoredNotification.mentions("xx stustudent", "student"))
        #expect(StoredNotification.mentions(#"{"ا": "é", "student": 1}"#, "student"))
    }

    @Test func mentionsFindsNothingElse() {
        #expect(!StoredNotification.mentions("", "student"))
        #expect(!StoredNotification.mentions("stude", "student"))
        #expect(!StoredNotification.mentions(#"{"message": "load 7", "sent_ns": 123}"#, "student"))
        #expect(!StoredNotification.mentions("studen", "student"))
        #expect(!StoredNotification.mentions("tudent s", "student"))
    }

    @Test func displayMatchesFoundationsCapitalized() {
        for type in ["attendance_marked", "SYSTEM_ALERT", "halaka_session_cancelled", "level2_up", "_lead", "trail_",
                     "a__b", "x", "", "already Spaced", "check-in", "تنبيه_عام", "Mixed_CASE_words"] {
            let foundation = type.split(separator: "_").map { $0.capitalized }.joined(separator: " ")
            #expect(StoredNotification.display(type) == foundation, "\(type)")
        }
    }

    @Test func aPushFromTheTemplateIsThePushWrittenInFull() throws {
        var event = EventRequest(type: "session_cancelled", category: "halaka", priority: .high,
                                 title: Localized(en: "Cancelled \"today\"", ar: "أُلغيت", fr: "Annulée"),
                                 message: Localized(en: "No class", ar: "لا درس", fr: "Pas de cours"),
                                 data: #"{"halaka_name": "Bench", "n": -3}"#, recipients: Recipients(rooms: ["class:1"]))
        event.relatedObjectID = "42"
        let now: Int64 = 1_764_000_000_123
        // A template serves one event's notifications that are all personal, or all the announcement.
        for (id, recipient) in [(Int64(1), Int64?(7)), (9_007_199_254_740_993, 123_456_789), (77, nil)] {
            let prototype = StoredNotification(id: 0, recipientID: recipient == nil ? nil : 1, event: event, eventID: 9,
                                               language: .ar, deliveryMethod: "IN_APP,EMAIL", createdAt: "2026-12-03T21:00:00Z")
            let template = prototype.pushTemplate(now: now)
            let full = StoredNotification(id: id, recipientID: recipient, event: event, eventID: 9, language: .ar,
                                          deliveryMethod: "IN_APP,EMAIL", createdAt: "2026-12-03T21:00:00Z")
            let filled = StoredNotification.push(template, id: id, recipientID: recipient)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(filled)) as? [String: Any])
            let notification = try #require((object["data"] as? [String: Any])?["notification"] as? [String: Any])
            #expect((object["id"] as? NSNumber)?.int64Value == id)
            #expect((notification["id"] as? NSNumber)?.int64Value == id)
            #expect((notification["recipient"] as? NSNumber)?.int64Value == recipient)
            #expect(notification["title"] as? String == "أُلغيت")
            // The notification as REST writes it (no template) is the one pushed.
            let rest = try #require(try JSONSerialization.jsonObject(with: Data(full.json)) as? [String: Any])
            #expect(NSDictionary(dictionary: notification) == NSDictionary(dictionary: rest))
            #expect(object["type"] as? String == "session_cancelled")
            #expect((object["data"] as? [String: Any])?["halaka_name"] as? String == "Bench")
        }
    }
}
