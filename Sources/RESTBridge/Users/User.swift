import Hub

/// The roles of the platforms (Madrasti's list).
public enum Role: String, CaseIterable, Sendable {
    case ADMIN, STAFF, TEACHER, STUDENT, PARENT, DRIVER

    public var isStaff: Bool { self == .ADMIN || self == .STAFF }

    /// What the role may do, after Madrasti's permission matrix (shown in the user object).
    public var permissions: [String] {
        switch self {
        case .ADMIN:
            ["can_manage_users", "can_manage_school", "can_manage_attendance", "can_create_homework",
             "can_create_exercises", "can_grade_homework", "can_manage_rewards", "can_view_attendance", "can_clear_flags"]
        case .STAFF:
            ["can_manage_users", "can_manage_school", "can_manage_attendance", "can_manage_rewards", "can_view_attendance",
             "can_clear_flags"]
        case .TEACHER:
            ["can_manage_attendance", "can_create_homework", "can_create_exercises", "can_grade_homework",
             "can_view_attendance"]
        case .STUDENT: ["can_submit_homework", "can_attempt_exercises", "can_view_own_attendance"]
        case .PARENT: ["can_view_children_attendance", "can_view_children_homework"]
        case .DRIVER: []
        }
    }
}

/// A person who can sign in.
public struct User: Sendable {
    public var id: Int64
    public var email: String
    public var username: String?
    public var firstName: String
    public var lastName: String
    public var phone: String?
    public var role: Role
    public var language: String
    public var gender: String?
    public var isActive: Bool
    public var createdAt: String
    public var updatedAt: String
    var passwordHash: String

    public var fullName: String { [firstName, lastName].filter { !$0.isEmpty }.joined(separator: " ") }

    /// The columns every user query selects, in the order `init(row:)` reads them.
    static let columns = """
        id, email, username, password, first_name, last_name, phone, role, language, gender, is_active,
        hub_iso(created_at) AS created_at, hub_iso(updated_at) AS updated_at
        """

    init?(row: QueryResult.Row) {
        guard let id = row.int("id"), let email = row.string("email"), let role = row.string("role").flatMap(Role.init)
        else { return nil }
        self.id = Int64(id)
        self.email = email
        username = row.string("username")
        passwordHash = row.string("password") ?? ""
        firstName = row.string("first_name") ?? ""
        lastName = row.string("last_name") ?? ""
        phone = row.string("phone")
        self.role = role
        language = row.string("language") ?? "en"
        gender = row.string("gender")
        isActive = row.bool("is_active") ?? false
        createdAt = row.string("created_at") ?? ""
        updatedAt = row.string("updated_at") ?? ""
    }

    /// The user as the API shows it (Madrasti's `full_name`, Khatma's `fullname`, TuranTalim's names).
    public func write(to json: inout JSONWriter) {
        json.beginObject()
        writeMembers(to: &json)
        json.endObject()
    }

    /// The members of the user object, without its braces (a register answer has them at its top).
    public func writeMembers(to json: inout JSONWriter) {
        json.field("id", Int(id))
        json.field("email", email)
        json.key("username"); if let username { json.string(username) } else { json.null() }
        json.field("first_name", firstName)
        json.field("last_name", lastName)
        json.field("full_name", fullName)
        json.field("fullname", fullName)
        json.key("phone"); if let phone { json.string(phone) } else { json.null() }
        json.field("role", role.rawValue)
        json.field("language", language)
        json.field("is_active", isActive)
        json.field("created_at", createdAt)
        json.field("date_joined", createdAt)
        json.field("updated_at", updatedAt)
        json.key("gender"); if let gender { json.string(gender) } else { json.null() }
        json.key("permissions")
        json.beginArray()
        for permission in role.permissions { json.string(permission) }
        json.endArray()
    }

    /// What a new password is compared with (Django's similarity validator).
    var passwordAttributes: PasswordRules.Attributes {
        PasswordRules.Attributes(username: username, firstName: firstName, lastName: lastName, email: email)
    }

    public var json: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }
}
