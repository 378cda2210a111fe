import Testing

@testable import RESTBridge

/// Every catalogue template renders without a literal `{…}`: with the payloads the seeds document
/// (Madrasti's WebSocket examples), with every placeholder given, and with no data at all.
@Suite struct EventCatalogueTests {
    let catalogue: EventCatalogue

    /// A catalogue that does not load (a template without its fallback) fails the suite, not the process.
    init() throws { catalogue = try EventCatalogue.bundled() }

    /// Madrasti's documented `data` objects (003, "Message Types"), as strings the parser would keep.
    static let madrastiExamples: [String: [String: String]] = [
        "attendance_alert": ["student_id": "25", "student_name": "Sara Alami", "class": "1ère Année A",
                             "subject": "Mathématiques", "session_date": "2024-01-15", "session_time": "09:00",
                             "status": "absent", "flag_created": "1", "priority": "medium"],
        "grade_published": ["homework_id": "25", "homework_title": "Math Quiz 1", "student_id": "25", "score": "85",
                            "score_percentage": "85", "points_earned": "42", "feedback_available": "1"],
        "badge_earned": ["student_id": "25", "badge_id": "5", "badge_name": "Math Champion", "badge_icon": "🏆",
                         "points_awarded": "100", "rarity": "EPIC"],
        "system_alert": ["alert_type": "maintenance", "title": "System Maintenance",
                         "message": "System will be down for maintenance at 23:00", "priority": "high",
                         "expires_at": "2024-01-15T23:00:00Z"],
    ]

    @Test func noLiteralPlaceholders() throws {
        #expect(catalogue.entries.count >= 32)
        for (type, entry) in catalogue.entries {
            let every = Dictionary(uniqueKeysWithValues: Set(
                (Array(entry.title.values) + Array(entry.message.values)).flatMap(EventCatalogue.placeholders)).map { ($0, "x") })
            for data in [[:], every, Self.madrastiExamples[type] ?? [:]] {
                for text in [entry.renderTitle(data), entry.renderMessage(data)] {
                    for language in Language.allCases {
                        #expect(!text[language].contains("{") && !text[language].isEmpty, "\(type) \(language) \(data)")
                    }
                }
            }
        }
    }

    @Test func seedFieldsFillTheTemplates() {
        let alert = catalogue.entries["attendance_alert"]!.renderMessage(Self.madrastiExamples["attendance_alert"]!)
        #expect(alert.en == "Sara Alami was marked absent in Mathématiques (1ère Année A, 2024-01-15 09:00).")
        let grade = catalogue.entries["grade_published"]!.renderMessage(Self.madrastiExamples["grade_published"]!)
        #expect(grade.en == "\"Math Quiz 1\" was graded: 85%.")
        let system = catalogue.entries["system_alert"]!
        #expect(system.renderTitle(Self.madrastiExamples["system_alert"]!).fr == "System Maintenance")
        #expect(system.renderTitle([:]).fr == "Annonce du système")
        // A missing field gives the fallback wording, never a half-filled sentence.
        #expect(catalogue.entries["attendance_alert"]!.renderMessage(["student_name": "Sara"]).en
            == "An attendance record needs your attention.")
    }

    @Test func languagesByPrimarySubtag() {
        #expect(Language(code: "ar-MA") == .ar)
        #expect(Language(code: "FR-ca") == .fr)
        #expect(Language(code: "uz") == .en)
        #expect(Language(code: nil) == .en)
        for tag in ["en", "uz", "tr", "ar-MA", "zh-Hant-TW"] { #expect(Language.isTag(tag), "\(tag)") }
        for bad in ["", "a", "ar_MA", "ar-", "toolonglanguage", "ar-MA-!"] { #expect(!Language.isTag(bad), "\(bad)") }
        #expect(Language.preferred(acceptLanguage: "ar-MA,fr;q=0.8") == .ar)
        #expect(Language.preferred(acceptLanguage: "uz, fr;q=0.9, ar;q=0.5") == .fr)
        #expect(Language.preferred(acceptLanguage: "en;q=0.1, ar;q=0.9") == .ar)
        #expect(Language.preferred(acceptLanguage: "de, *;q=0.5") == nil)
        #expect(Language.preferred(acceptLanguage: nil) == nil)
    }
}
