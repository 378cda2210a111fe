import Foundation
import Hub

/// Registration, login, token refresh and verification, the signed-in user, password changes:
/// canonical paths under `/api/v1/auth/` and the seeds' aliases on the same handlers.
public enum AuthRoutes {
    static let registerPaths = ["/api/v1/auth/register/", "/api/auth/register/", "/api/users/register/"]
    static let loginPaths = ["/api/v1/auth/login/", "/api/auth/login/", "/api/users/login/", "/api/token/"]
    static let refreshPaths = ["/api/v1/auth/refresh/", "/api/auth/refresh/", "/api/token/refresh/",
                               "/api/v1/auth/token/refresh/"]
    static let verifyPaths = ["/api/v1/auth/verify/", "/api/token/verify/", "/api/v1/auth/token/verify/"]
    static let mePaths = ["/api/v1/auth/me/", "/api/v1/auth/users/me/", "/api/v1/users/me/", "/api/users/me/",
                          "/api/users/profile/"]
    static let passwordPaths = ["/api/v1/auth/change-password/", "/api/v1/users/me/change-password/",
                                "/api/auth/change-password/", "/api/users/change-password/"]
    /// Madrasti's own paths, where its stricter password rule (letters and digits) applies.
    static let madrastiPaths: Set<String> = ["/api/users/register/", "/api/users/change-password/"]

    public static func register(on router: inout Router, context: APIContext) {
        context.route(&router, .POST, registerPaths, access: .anyone, rate: .login) { request in
            try await registerUser(request, context: context, role: nil)
        }
        for role in ["teacher", "student", "parent"] {
            context.route(&router, .POST, ["/api/v1/auth/register/\(role)/"], access: .anyone, rate: .login) { request in
                try await registerUser(request, context: context, role: Role(rawValue: role.uppercased()))
            }
        }
        context.route(&router, .POST, loginPaths, access: .anyone, rate: .login) { request in
            try await login(request, context: context)
        }
        context.route(&router, .POST, refreshPaths, access: .anyone) { request in
            var errors = FieldErrors()
            let body = try request.body()
            let refresh = body.string("refresh", &errors, required: true, maxLength: 8192)
            try errors.throwIfAny()
            let access: String, newRefresh: String?, userID: Int64
            if context.settings.refreshRotation {
                let (pair, id) = try await context.tokens.rotate(refresh!)
                (access, newRefresh, userID) = (pair.access, pair.refresh, id)
            } else {
                (access, userID) = try await context.tokens.access(for: refresh!)
                newRefresh = nil
            }
            guard let user = try await context.users.find(id: userID), user.isActive else {
                throw APIError.unauthorized("User not found or inactive", code: "TOKEN_INVALID")
            }
            var json = JSONWriter()
            json.beginObject()
            json.field("access", access)
            if let newRefresh { json.field("refresh", newRefresh) }
            json.endObject()
            return .json(.ok, json.bytes)
        }
        context.route(&router, .POST, verifyPaths, access: .anyone) { request in
            var errors = FieldErrors()
            let token = try request.body().string("token", &errors, required: true, maxLength: 8192)
            try errors.throwIfAny()
            let claims = try await verifyAnyToken(token!, context: context)
            guard let user = try await context.users.find(id: claims.userID), user.isActive else {
                throw APIError.unauthorized("User not found or inactive", code: "TOKEN_INVALID")
            }
            return .json(.ok, Array("{}".utf8))
        }
        context.route(&router, .GET, mePaths) { request in
            .json(.ok, try request.requireUser().json)
        }
        context.route(&router, .PATCH, mePaths) { request in
            try await updateMe(request, context: context)
        }
        context.route(&router, .PUT, mePaths) { request in
            try await updateMe(request, context: context)
        }
        context.route(&router, .POST, passwordPaths) { request in
            let user = try request.requireUser()
            var errors = FieldErrors()
            let body = try request.body()
            let old = body.string("old_password", &errors, maxLength: 4096)
                ?? body.string("current_password", &errors, maxLength: 4096)
            if old == nil && errors.isEmpty { errors.add("current_password", "This field is required.") }
            let new = body.string("new_password", &errors, required: true, maxLength: 4096)
            let confirm = body.string("new_password_confirm", &errors, maxLength: 4096)
                ?? body.string("confirm_password", &errors, maxLength: 4096)
            if let confirm, let new, confirm != new { errors.add("new_password_confirm", "The two passwords do not match.") }
            try errors.throwIfAny()
            let passwords = context.passwords
            let stored = user.passwordHash
            guard await PasswordHasher.offload({ passwords.verify(old!, against: stored) }) else {
                throw APIError.validation([("old_password", ["Your old password was entered incorrectly."])])
            }
            for problem in PasswordRules.problems(new!, user: user.passwordAttributes,
                                                  madrasti: madrastiPaths.contains(request.http.path)) {
                errors.add("new_password", problem)
            }
            try errors.throwIfAny()
            let hash = await PasswordHasher.offload { passwords.hash(new!) }
            try await context.users.setPassword(id: user.id, hash: hash)
            return .json(.ok, Array(#"{"detail":"Password updated."}"#.utf8))
        }
    }

    // MARK: Handlers

    /// simplejwt's verify accepts any valid token: access, or refresh that is not revoked.
    private static func verifyAnyToken(_ token: String, context: APIContext) async throws -> JWT.Claims {
        let jwt = context.tokens.jwt
        do {
            return try jwt.verify(token, as: .access)
        } catch let failure where failure != .wrongType {
            if failure == .expired { throw APIError.tokenExpired(at: jwt.expiry(of: token)) }
            throw APIError.unauthorized(failure.message, code: "TOKEN_INVALID")
        } catch {}
        let claims: JWT.Claims
        do {
            claims = try jwt.verify(token, as: .refresh)
        } catch {
            if error == .expired { throw APIError.tokenExpired(at: jwt.expiry(of: token)) }
            throw APIError.unauthorized(error.message, code: "TOKEN_INVALID")
        }
        if try await context.tokens.isRevoked(claims.jti) {
            throw APIError.unauthorized("Token is blacklisted", code: "TOKEN_INVALID")
        }
        return claims
    }

    private static func registerUser(_ request: APIRequest, context: APIContext, role fixedRole: Role?) async throws
        -> HTTPResponse
    {
        var errors = FieldErrors()
        let body = try request.body()
        let email = body.string("email", &errors, required: true, maxLength: 254)?.trimmingCharacters(in: .whitespaces)
        let password = body.string("password", &errors, required: true, maxLength: 4096)
        let username = body.string("username", &errors, maxLength: 150)
        var firstName = body.string("first_name", &errors, maxLength: 150) ?? ""
        var lastName = body.string("last_name", &errors, maxLength: 150) ?? ""
        if let full = body.string("full_name", &errors, maxLength: 300) ?? body.string("fullname", &errors, maxLength: 300),
           firstName.isEmpty && lastName.isEmpty
        {
            let parts = full.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            firstName = parts.first.map(String.init) ?? ""
            lastName = parts.count > 1 ? String(parts[1]) : ""
        }
        let phoneInput = body.string("phone", &errors, maxLength: 32) ?? body.string("phone_number", &errors, maxLength: 32)
        let roleName = body.string("role", &errors, maxLength: 20)
        let language = body.string("language", &errors, maxLength: 35) ?? "en"
        let gender = body.string("gender", &errors, maxLength: 20)
        let confirm = body.string("password_confirm", &errors, maxLength: 4096)
            ?? body.string("confirm_password", &errors, maxLength: 4096)

        if let email, !Validators.isEmail(email) { errors.add("email", "Enter a valid email address.") }
        if let password {
            let attributes = PasswordRules.Attributes(username: username, firstName: firstName, lastName: lastName, email: email)
            for problem in PasswordRules.problems(password, user: attributes,
                                                  madrasti: madrastiPaths.contains(request.http.path)) {
                errors.add("password", problem)
            }
            if let confirm, confirm != password {
                errors.add(body.has("password_confirm") ? "password_confirm" : "confirm_password", "The two passwords do not match.")
            }
        }
        if let username, !Validators.isUsername(username) {
            errors.add("username", "Use 3 to 150 letters, digits and @/./+/-/_ only.")
        }
        var phone: String?
        if let phoneInput, !phoneInput.isEmpty {
            phone = Validators.normalizedPhone(phoneInput)
            if phone == nil { errors.add("phone", "Enter a phone number in international format, such as +212600000000.") }
        }
        var role = fixedRole ?? .STUDENT
        if let roleName {
            if let parsed = Role(rawValue: roleName.uppercased()) {
                role = parsed
            } else {
                errors.add("role", "Must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
        }
        if !Language.isTag(language) { errors.add("language", Language.tagProblem) }
        try errors.throwIfAny()
        if !context.settings.selfRegistrationRoles.contains(role) && !request.caller.isStaffOrService {
            throw APIError(.forbidden, code: "PERMISSION_DENIED", message: "Only staff may create \(role.rawValue) accounts",
                           details: [("role", ["Only staff or a platform backend may create this role."])])
        }
        if try await context.users.emailTaken(email!) { errors.add("email", "A user with this email already exists.") }
        if let username, try await context.users.usernameTaken(username) {
            errors.add("username", "A user with this username already exists.")
        }
        try errors.throwIfAny()

        let passwords = context.passwords
        let hash = await PasswordHasher.offload { passwords.hash(password!) }
        let user: User
        do {
            user = try await context.users.create(.init(email: email!, username: username, passwordHash: hash,
                                                        firstName: firstName, lastName: lastName, phone: phone, role: role,
                                                        language: language, gender: gender))
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw APIError.validation([("email", ["A user with this email or username already exists."])])
        }
        let pair = context.tokens.issuePair(for: user.id)
        return .json(.created, userWithTokens(user, pair, flat: true))
    }

    private static func login(_ request: APIRequest, context: APIContext) async throws -> HTTPResponse {
        var errors = FieldErrors()
        let body = try request.body()
        let identifier = body.string("email", &errors, maxLength: 254) ?? body.string("username", &errors, maxLength: 254)
            ?? body.string("login", &errors, maxLength: 254)
        let password = body.string("password", &errors, required: true, maxLength: 4096)
        if identifier == nil && errors.isEmpty { errors.add("email", "This field is required.") }
        try errors.throwIfAny()
        let account = identifier!.trimmingCharacters(in: .whitespaces)
        // Failed attempts per account and address (a wrong guess costs one, a success nothing).
        let failures = "login-failed:\(account.lowercased()):\(request.http.clientHost)"
        let limit = context.limits.loginPerMinute
        let before = context.limiter.peek(failures, limit: limit, period: 60)
        guard before.allowed else { throw before.refusal }
        let found = try await context.users.find(login: account)
        let passwords = context.passwords
        // Without a user, a hash is still computed so timing does not reveal which emails exist.
        let stored = found?.passwordHash ?? Self.decoyHash
        let matches = await PasswordHasher.offload { passwords.verify(password!, against: stored) }
        guard let user = found, matches, user.isActive else {
            _ = context.limiter.take(failures, limit: limit, period: 60)
            throw APIError(.unauthorized, code: "INVALID_CREDENTIALS", message: "No active account found with the given credentials",
                           details: [("credentials", ["Invalid email/username or password."])])
        }
        if passwords.needsUpgrade(user.passwordHash) {
            let upgraded = await PasswordHasher.offload { passwords.hash(password!) }
            try await context.users.setPassword(id: user.id, hash: upgraded)
        }
        try await context.users.recordLogin(id: user.id)
        return .json(.ok, userWithTokens(user, context.tokens.issuePair(for: user.id), flat: false))
    }

    private static let decoyHash = PasswordHasher().hash("decoy password, never matches", salt: "decoysaltdecoysalt")

    private static func updateMe(_ request: APIRequest, context: APIContext) async throws -> HTTPResponse {
        let user = try request.requireUser()
        var errors = FieldErrors()
        let body = try request.body()
        let email = body.string("email", &errors, maxLength: 254)?.trimmingCharacters(in: .whitespaces)
        let username = body.string("username", &errors, maxLength: 150)
        var firstName = body.string("first_name", &errors, maxLength: 150)
        var lastName = body.string("last_name", &errors, maxLength: 150)
        if let full = body.string("full_name", &errors, maxLength: 300) ?? body.string("fullname", &errors, maxLength: 300) {
            let parts = full.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            firstName = firstName ?? parts.first.map(String.init) ?? ""
            lastName = lastName ?? (parts.count > 1 ? String(parts[1]) : "")
        }
        let phoneInput = body.string("phone", &errors, maxLength: 32)
        let language = body.string("language", &errors, maxLength: 35)
        for forbidden in ["role", "is_active", "password", "id"] where body.has(forbidden) {
            errors.add(forbidden, "This field cannot be changed here.")
        }
        if let email, !Validators.isEmail(email) { errors.add("email", "Enter a valid email address.") }
        if let username, !Validators.isUsername(username) {
            errors.add("username", "Use 3 to 150 letters, digits and @/./+/-/_ only.")
        }
        var phone: String?
        if let phoneInput {
            phone = Validators.normalizedPhone(phoneInput)
            if phone == nil { errors.add("phone", "Enter a phone number in international format, such as +212600000000.") }
        }
        if let language, !Language.isTag(language) { errors.add("language", Language.tagProblem) }
        try errors.throwIfAny()
        if let email, try await context.users.emailTaken(email, except: user.id) {
            errors.add("email", "A user with this email already exists.")
        }
        if let username, try await context.users.usernameTaken(username, except: user.id) {
            errors.add("username", "A user with this username already exists.")
        }
        try errors.throwIfAny()
        guard let updated = try await context.users.update(id: user.id, email: email, username: username, firstName: firstName,
                                                           lastName: lastName, phone: phone, language: language)
        else { throw APIError.notFound("User") }
        return .json(.ok, updated.json)
    }

    /// `{access, refresh, user}`; with `flat`, the user's fields also at the top (the register answers
    /// of Khatma and Madrasti).
    private static func userWithTokens(_ user: User, _ pair: TokenService.Pair, flat: Bool) -> [UInt8] {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        if flat { user.writeMembers(to: &json) }
        json.field("access", pair.access)
        json.field("refresh", pair.refresh)
        json.key("user")
        user.write(to: &json)
        json.endObject()
        return json.bytes
    }
}

/// Field rules shared by registration and profile updates.
public enum Validators {
    public static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, text.count <= 254 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 }) else { return false }
        let localAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".!#$%&'*+/=?^_`{|}~-"))
        let domainAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-"))
        return parts[0].unicodeScalars.allSatisfy(localAllowed.contains) && domain.unicodeScalars.allSatisfy(domainAllowed.contains)
            && !text.contains(" ")
    }

    public static func isUsername(_ text: String) -> Bool {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "@.+-_"))
        return (3...150).contains(text.count) && text.unicodeScalars.allSatisfy(allowed.contains)
    }

    /// E.164 (`+` then 7 to 15 digits, no leading zero) after dropping spaces, dashes, dots and brackets.
    public static func normalizedPhone(_ text: String) -> String? {
        let compact = text.filter { !" -.()".contains($0) }
        guard compact.hasPrefix("+") else { return nil }
        let digits = compact.dropFirst()
        guard (7...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" else {
            return nil
        }
        return compact
    }
}
