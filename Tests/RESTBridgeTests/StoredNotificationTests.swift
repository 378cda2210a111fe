import Testing
@testable import RESTBridge

/// The byte search that decides whether a push reads its data for the seeds' fields
/// (`student`, `auto_generated`): it must find a word anywhere and nothing else.
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
}
