import Foundation

/// The languages a notification is written in (every catalogue template has all three).
public enum Language: String, Sendable, CaseIterable {
    case en, ar, fr

    /// A stored BCP 47 tag, by its primary subtag (`ar-MA` is Arabic); a language without
    /// templates (`uz`, `tr`) reads as English.
    public init(code: String?) {
        // The codes stored by the hub itself, without splitting a string (once per notification).
        if let code, let exact = Language(rawValue: code) {
            self = exact
            return
        }
        let primary = code.map { $0.split(separator: "-").first.map { $0.lowercased() } ?? "" }
        self = primary.flatMap(Language.init(rawValue:)) ?? .en
    }

    /// A well-formed BCP 47 tag (`uz`, `ar-MA`, `zh-Hant-TW`): a 2-8 letter language, then
    /// subtags of 1-8 letters or digits, 35 characters at most.
    public static func isTag(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count <= 35, let first = parts.first, (2...8).contains(first.count),
              first.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return parts.dropFirst().allSatisfy { (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    /// The first language of an `Accept-Language` header (highest `q`, then order) that has
    /// templates; nil when it names none of them (the profile's language applies then).
    public static func preferred(acceptLanguage header: String?) -> Language? {
        guard let header else { return nil }
        var best: (Language, Double)?
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first, isTag(tag) else { continue }
            let q = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            let primary = tag.split(separator: "-").first.map { $0.lowercased() } ?? ""
            guard q > 0, let language = Language(rawValue: primary) else { continue }
            if best == nil || q > best!.1 { best = (language, q) }
        }
        return best?.0
    }

    /// The error detail of a malformed tag.
    public static let tagProblem = "Give a BCP 47 language tag such as en, ar, ar-MA, fr, uz or tr."
}

/// One text in each language.
public struct Localized: Sendable, Equatable {
    public var en: String
    public var ar: String
    public var fr: String

    public init(en: String, ar: String, fr: String) {
        self.en = en
        self.ar = ar
        self.fr = fr
    }

    public subscript(language: Language) -> String {
        switch language {
        case .en: en
        case .ar: ar
        case .fr: fr
        }
    }
}
