/// How urgent a notification is. URGENT ignores quiet hours; later issues map it to push TTLs.
public enum Priority: String, Sendable, CaseIterable {
    case low = "LOW", medium = "MEDIUM", high = "HIGH", urgent = "URGENT"

    /// Accepts any case, as the seeds write both `high` and `HIGH`.
    public init?(parsing text: String) { self.init(rawValue: text.uppercased()) }

    static let choices = allCases.map(\.rawValue).joined(separator: ", ")
}
