/// The languages a notification is written in (every catalogue template has all three).
public enum Language: String, Sendable, CaseIterable {
    case en, ar, fr

    /// A stored language code; anything unknown reads as English.
    public init(code: String?) { self = code.flatMap(Language.init(rawValue:)) ?? .en }
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
