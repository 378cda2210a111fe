import Foundation

/// The one message a digest sends for a user's held notifications, in their language: how many,
/// a count per category (most first), and the newest titles.
struct DigestMessage: Equatable {
    struct Item: Equatable {
        let title: String
        let category: String
    }

    let subject: String
    let text: String

    /// Titles listed at most; the counts cover everything.
    static let maxTitles = 10

    /// `items` newest first.
    init(items: [Item], language: String) {
        let words = Self.words[language] ?? Self.words["en"]!
        var counts: [String: Int] = [:]
        for item in items { counts[item.category, default: 0] += 1 }
        let categories = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        subject = words.subject.replacingOccurrences(of: "{n}", with: String(items.count))
        var lines = [words.heading.replacingOccurrences(of: "{n}", with: String(items.count)), ""]
        lines += categories.map { "- \($0.key): \($0.value)" }
        lines += ["", words.newest]
        lines += items.prefix(Self.maxTitles).map { "• \($0.title)" }
        if items.count > Self.maxTitles {
            lines.append(words.more.replacingOccurrences(of: "{n}", with: String(items.count - Self.maxTitles)))
        }
        text = lines.joined(separator: "\n")
    }

    private struct Words {
        let subject: String
        let heading: String
        let newest: String
        let more: String
    }

    private static let words: [String: Words] = [
        "en": Words(subject: "Your digest: {n} notifications", heading: "{n} notifications since your last digest, by category:",
                    newest: "Newest:", more: "… and {n} more"),
        "ar": Words(subject: "ملخّصك: {n} إشعارات", heading: "{n} إشعارات منذ ملخّصك السابق، حسب الفئة:",
                    newest: "الأحدث:", more: "… و{n} أخرى"),
        "fr": Words(subject: "Votre résumé : {n} notifications", heading: "{n} notifications depuis votre dernier résumé, par catégorie :",
                    newest: "Les plus récentes :", more: "… et {n} autres"),
    ]
}
