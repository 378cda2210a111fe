import Foundation

/// Django's default `AUTH_PASSWORD_VALIDATORS`, with its messages: at least 8 characters, not
/// entirely numeric, not one of its 20,000 common passwords (`common-passwords.txt` is Django's
/// own list), not too similar to the username, names or email (`quick_ratio` >= 0.7). Madrasti's
/// stricter letters-and-digits rule is added only on Madrasti's paths (`madrasti: true`).
public enum PasswordRules {
    /// What the password is compared with, by Django's verbose names.
    public struct Attributes: Sendable {
        public var username: String?
        public var firstName: String?
        public var lastName: String?
        public var email: String?

        public init(username: String? = nil, firstName: String? = nil, lastName: String? = nil, email: String? = nil) {
            self.username = username
            self.firstName = firstName
            self.lastName = lastName
            self.email = email
        }
    }

    public static func problems(_ password: String, user: Attributes, madrasti: Bool = false) -> [String] {
        var problems: [String] = []
        let lower = password.lowercased()
        for (name, value) in [("username", user.username), ("first name", user.firstName), ("last name", user.lastName),
                              ("email address", user.email)]
        {
            guard let value, !value.isEmpty else { continue }
            let valueLower = value.lowercased()
            let parts = valueLower.split(omittingEmptySubsequences: false,
                                         whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init) + [valueLower]
            if parts.contains(where: { isSimilar(lower, $0) }) {
                problems.append("The password is too similar to the \(name).")
                break
            }
        }
        if password.count < 8 { problems.append("This password is too short. It must contain at least 8 characters.") }
        if common.contains(lower.trimmingCharacters(in: .whitespacesAndNewlines)) {
            problems.append("This password is too common.")
        }
        if !password.isEmpty && password.allSatisfy(\.isNumber) { problems.append("This password is entirely numeric.") }
        if madrasti && (!password.contains(where: \.isLetter) || !password.contains(where: \.isNumber)) {
            problems.append("The password must contain both letters and digits.")
        }
        return problems
    }

    /// difflib's `SequenceMatcher.quick_ratio() >= 0.7`, skipped (as Django does) when the
    /// value is far shorter than the password.
    static func isSimilar(_ password: String, _ value: String) -> Bool {
        let a = Array(password), b = Array(value)
        if a.count >= 10 * b.count && Double(b.count) < 0.7 / 2 * Double(a.count) { return false }
        guard a.count + b.count > 0 else { return false }
        var available: [Character: Int] = [:]
        for character in b { available[character, default: 0] += 1 }
        var matches = 0
        for character in a where (available[character] ?? 0) > 0 {
            available[character]! -= 1
            matches += 1
        }
        return 2.0 * Double(matches) / Double(a.count + b.count) >= 0.7
    }

    /// Django's list, lowercased, loaded once.
    static let common: Set<String> = {
        guard let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt"),
              let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        return Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    }()
}
