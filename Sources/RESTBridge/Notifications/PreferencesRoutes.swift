import Foundation
import Hub

/// `GET/PUT/PATCH /api/v1/notifications/preferences/me/`: TuranTalim's switches and destinations,
/// plus in-app, language, time zone, quiet hours and a switch for every category of the seeds.
/// A user who never saved any gets the defaults (external channels off until they opt in).
public enum PreferencesRoutes {
    enum Kind: Equatable { case bool, chatID, phone, language, timezone, time, choice([String]), readOnly }

    static let digestChoices = ["off", "hourly", "daily", "weekly"]

    /// Every field: its column (also its JSON name), kind and default. The column names are
    /// constants of this list, never request data.
    static let fields: [(name: String, kind: Kind, defaultValue: String?)] = [
        ("in_app_enabled", .bool, "true"), ("email_enabled", .bool, "false"), ("sms_enabled", .bool, "false"),
        ("telegram_enabled", .bool, "false"), ("push_enabled", .bool, "true"),
        ("telegram_chat_id", .chatID, nil), ("phone_number", .phone, nil),
        ("payment_notifications", .bool, "true"), ("homework_notifications", .bool, "true"),
        ("lesson_notifications", .bool, "true"), ("attendance_notifications", .bool, "true"),
        ("gamification_notifications", .bool, "true"), ("grades_notifications", .bool, "true"),
        ("khatma_notifications", .bool, "true"), ("halaka_notifications", .bool, "true"),
        ("course_notifications", .bool, "true"), ("system_notifications", .bool, "true"),
        ("language", .language, nil), ("timezone", .timezone, "UTC"), ("quiet_hours_enabled", .bool, "false"),
        ("quiet_hours_start", .time, "22:00"), ("quiet_hours_end", .time, "07:00"),
        ("email_digest", .choice(digestChoices), "off"), ("telegram_digest", .choice(digestChoices), "off"),
        ("digest_time", .time, "18:00"), ("digest_day", .choice(LocalDate.weekdayNames), "sunday"),
        ("telegram_disabled_reason", .readOnly, nil),
    ]

    static let paths = ["/api/v1/notifications/preferences/me/", "/api/notifications/preferences/me/",
                        "/api/v1/preferences/me/"]

    public static func register(on router: inout Router, context: APIContext) {
        let pool = context.pool
        context.route(&router, .GET, paths) { request in
            let user = try request.requireUser()
            return .json(.ok, render(try await load(pool, user.id), userID: user.id))
        }
        // PUT, like PATCH, leaves the fields it does not carry unchanged (DRF's serializers do):
        // TuranTalim's front end PUTs its ten switches and must not wipe language or quiet hours.
        for method in [HTTPMethod.PATCH, .PUT] {
            context.route(&router, method, paths) { request in
                let user = try request.requireUser()
                let body = try request.body()
                var values = try await load(pool, user.id)
                var errors = FieldErrors()
                for key in body.object.keys where !fields.contains(where: { $0.name == key }) && key != "user" && key != "updated_at" {
                    errors.add(key, "Unknown preference.")
                }
                for field in fields where field.kind != .readOnly {
                    guard let raw = body.object[field.name] else { continue }
                    if isJSONNull(raw) {
                        if field.defaultValue == nil { values[field.name] = .some(nil) } else { errors.add(field.name, "May not be null.") }
                        continue
                    }
                    switch validate(raw, field.kind) {
                    case .success(let value): values[field.name] = .some(value)
                    case .failure(let message): errors.add(field.name, message.text)
                    }
                }
                if values["telegram_enabled"] == "true", (values["telegram_chat_id"] ?? nil) == nil {
                    errors.add("telegram_chat_id", "Needed to turn Telegram on.")
                }
                if values["sms_enabled"] == "true", (values["phone_number"] ?? nil) == nil {
                    errors.add("phone_number", "Needed to turn SMS on.")
                }
                try errors.throwIfAny()
                if values["telegram_enabled"] == "true" { values["telegram_disabled_reason"] = .some(nil) }
                let saved = try await save(pool, user.id, values)
                return .json(.ok, render(saved, userID: user.id))
            }
        }
    }

    static func defaults() -> [String: String?] {
        Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.defaultValue) })
    }

    static func load(_ pool: DatabasePool, _ userID: Int64) async throws -> [String: String?] {
        let columns = fields.map { field in field.kind == .time ? "to_char(\(field.name), 'HH24:MI') AS \(field.name)" : field.name }
            .joined(separator: ", ")
        let row = try await pool.run { connection in
            try connection.executePrepared("SELECT \(columns) FROM notification_preferences WHERE user_id = $1",
                                           [String(userID)]).first
        }
        guard let row else { return defaults() }
        return Dictionary(uniqueKeysWithValues: fields.map { field in
            let value = row.string(field.name)
            return (field.name, field.kind == .bool ? value.map { $0 == "t" ? "true" : "false" } : value)
        })
    }

    static func save(_ pool: DatabasePool, _ userID: Int64, _ values: [String: String?]) async throws -> [String: String?] {
        let names = fields.map(\.name)
        let placeholders = fields.enumerated().map { index, field in
            "$\(index + 2)" + (field.kind == .bool ? "::boolean" : field.kind == .time ? "::time" : "")
        }
        let sql = """
            INSERT INTO notification_preferences (user_id, \(names.joined(separator: ", ")), updated_at)
            VALUES ($1, \(placeholders.joined(separator: ", ")), now())
            ON CONFLICT (user_id) DO UPDATE SET \(names.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")), updated_at = now()
            """
        let parameters: [String?] = [String(userID)] + fields.map { values[$0.name] ?? nil }
        _ = try await pool.run { connection in try connection.executePrepared(sql, parameters) }
        return try await load(pool, userID)
    }

    static func validate(_ raw: Any, _ kind: Kind) -> Result<String, ValidationMessage> {
        switch kind {
        case .bool:
            guard let flag = JSONNumber.bool(raw) else { return .failure("Must be a boolean.") }
            return .success(flag ? "true" : "false")
        case .chatID:
            let text = (raw as? String) ?? (raw as? NSNumber).map { $0.stringValue }
            guard let text, text.range(of: #"^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$"#, options: .regularExpression) != nil else {
                return .failure("A Telegram chat id (digits) or @channel name.")
            }
            return .success(text)
        case .phone:
            guard let text = raw as? String, let phone = Validators.normalizedPhone(text) else {
                return .failure("Enter a phone number in international format, such as +998901234567.")
            }
            return .success(phone)
        case .language:
            guard let text = raw as? String, Language.isTag(text) else { return .failure(ValidationMessage(text: Language.tagProblem)) }
            return .success(text)
        case .timezone:
            guard let text = raw as? String, text.count <= 64, TimeZone(identifier: text) != nil,
                  text.contains("/") || text == "UTC"
            else { return .failure("Must be an IANA time zone name, such as Africa/Casablanca.") }
            return .success(text)
        case .time:
            guard let text = raw as? String, text.range(of: #"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"#, options: .regularExpression) != nil
            else { return .failure("Use HH:MM, 24-hour.") }
            return .success(String(text.prefix(5)))
        case .choice(let choices):
            guard let text = raw as? String, choices.contains(text) else {
                return .failure(ValidationMessage(text: "Must be one of: \(choices.joined(separator: ", ")).")) }
            return .success(text)
        case .readOnly:
            return .failure("Read-only.")
        }
    }

    struct ValidationMessage: Error, ExpressibleByStringLiteral {
        let text: String
        init(stringLiteral value: String) { text = value }
        init(text: String) { self.text = text }
    }

    static func render(_ values: [String: String?], userID: Int64) -> [UInt8] {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.field("user", Int(userID))
        for field in fields {
            json.key(field.name)
            guard let value = values[field.name] ?? nil else { json.null(); continue }
            if field.kind == .bool { json.bool(value == "true") } else { json.string(value) }
        }
        json.endObject()
        return json.bytes
    }
}

extension Result where Failure == PreferencesRoutes.ValidationMessage {
    var message: String? { if case .failure(let error) = self { error.text } else { nil } }
}
