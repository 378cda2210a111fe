import Foundation
import Hub

/// Who is calling.
public enum Caller: Sendable {
    case anonymous(ip: String)
    case user(User)
    case service(name: String)

    public var user: User? { if case .user(let user) = self { user } else { nil } }
    public var isService: Bool { if case .service = self { true } else { false } }
    public var isStaffOrService: Bool { isService || user?.role.isStaff == true }
}

/// A request after authentication, as API handlers see it.
public struct APIRequest: Sendable {
    public let http: HTTPRequest
    public let caller: Caller

    public func body() throws(APIError) -> JSONBody { try JSONBody(http) }

    /// The language asked in `Accept-Language`, if it has templates.
    public var acceptedLanguage: Language? { Language.preferred(acceptLanguage: http.headers["Accept-Language"]) }

    /// The signed-in user, or 401.
    public func requireUser() throws(APIError) -> User {
        guard let user = caller.user else { throw APIError.unauthorized() }
        return user
    }
}

/// Who may call a route.
public enum Access: Sendable {
    case anyone, user, staffOrService, userOrService
}

/// Which bucket a route draws from; `login` is stricter to slow password guessing.
public enum RateClass: Sendable {
    case standard, login
}

/// Limits per caller class, per period (seeds: 100/hour anonymous, 1000/hour per user).
public struct RateLimits: Sendable {
    public var anonymousPerHour = 100
    public var userPerHour = 1000
    public var servicePerHour = 100_000
    /// Failed logins per minute per account and address.
    public var loginPerMinute = 10
    /// Login and register requests per minute per address: this many times `loginPerMinute`.
    public var loginAddressFactor = 30

    public init() {}
}

extension RateLimiter.Decision {
    /// The 429 of a bucket that is empty.
    var refusal: APIError {
        APIError.rateLimited(limit: limit, window: window, resetEpoch: resetEpoch, retryAfter: retryAfter)
    }
}

/// Behaviour switches of the API, from hubd's configuration.
public struct APISettings: Sendable {
    /// `HUB_PUBLIC_URL` (`https://hub.example`): the base of absolute links (`next`, `previous`);
    /// without it they are built from the request's `Host`.
    public var publicURL: String?
    /// `HUB_REFRESH_ROTATION`: a refresh answers a new refresh token and revokes the used one.
    /// Off by default, as simplejwt's `ROTATE_REFRESH_TOKENS=False`.
    public var refreshRotation = false
    /// `HUB_SELF_REGISTRATION_ROLES`: roles anyone may register as; other roles need staff or a service key.
    public var selfRegistrationRoles: Set<Role> = [.STUDENT]

    public init() {}

    /// The absolute URL of `path` (with its query) as the caller reached it.
    public func absoluteURL(_ pathAndQuery: String, host: String?) -> String {
        if let publicURL {
            return (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL) + pathAndQuery
        }
        let host = host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        return "http://" + host + pathAndQuery
    }
}

/// Everything API routes share: store, tokens, keys, limits, logs. `route` wraps a handler with
/// authentication, rate limiting, error mapping and the rate-limit headers on every response.
public final class APIContext: Sendable {
    public let pool: DatabasePool
    public let users: UserStore
    public let tokens: TokenService
    public let serviceKeys: ServiceKeys
    public let passwords: PasswordHasher
    public let limiter = RateLimiter()
    public let limits: RateLimits
    public let settings: APISettings
    let logger: Logger

    public init(pool: DatabasePool, jwt: JWT, serviceKeys: [String], limits: RateLimits, logger: Logger,
                passwords: PasswordHasher = PasswordHasher(), settings: APISettings = APISettings())
    {
        self.settings = settings
        self.pool = pool
        users = UserStore(pool: pool)
        tokens = TokenService(jwt: jwt, pool: pool)
        self.serviceKeys = ServiceKeys(keys: serviceKeys, pool: pool)
        self.limits = limits
        self.logger = logger
        self.passwords = passwords
    }

    public typealias Handler = @Sendable (APIRequest) async throws -> HTTPResponse

    /// Registers `handler` for `method` on every path in `paths` (canonical path and aliases).
    public func route(_ router: inout Router, _ method: HTTPMethod, _ paths: [String], access: Access = .user,
                      rate: RateClass = .standard, _ handler: @escaping Handler)
    {
        for path in paths {
            router.add(method, path) { [self] request, responder in
                Task {
                    let response = await handle(request, access: access, rate: rate, handler)
                    responder.respond(response)
                }
            }
        }
    }

    func handle(_ request: HTTPRequest, access: Access, rate: RateClass, _ handler: Handler) async -> HTTPResponse {
        var decision: RateLimiter.Decision?
        var response: HTTPResponse
        do {
            let caller = try await authenticate(request)
            try authorize(caller, access)
            let current = takeToken(caller, rate: rate, ip: request.clientHost)
            decision = current
            guard current.allowed else { throw current.refusal }
            response = try await handler(APIRequest(http: request, caller: caller))
        } catch let error as APIError {
            response = error.response
        } catch let error as DatabaseError {
            switch error {
            case .unavailable, .overloaded:
                logger.warning("database unavailable", [("error", .string(error.description))])
                response = APIError.databaseUnavailable.response
            case .query(let state, _) where state.hasPrefix("22"):
                // A data exception (a value PostgreSQL cannot take) is the caller's input, not our fault.
                response = APIError(.badRequest, code: "INVALID_VALUE", message: "A value is out of range or malformed").response
            case .query:
                response = internalError(error)
            }
        } catch {
            response = internalError(error)
        }
        if let decision {
            response.headers.set("X-RateLimit-Limit", String(decision.limit))
            response.headers.set("X-RateLimit-Remaining", String(decision.remaining))
            response.headers.set("X-RateLimit-Reset", String(decision.resetEpoch))
            response.headers.set("X-RateLimit-Window", String(decision.window))
        }
        return response
    }

    private func internalError(_ error: any Error) -> HTTPResponse {
        let id = Crypto.hex(Crypto.randomBytes(6))
        logger.error("internal error", [("error_id", .string(id)), ("error", .string(String(describing: error)))])
        return APIError(.internalServerError, code: "INTERNAL_ERROR", message: "Internal server error",
                        details: [("error_id", [id])]).response
    }

    /// Bearer JWT → user (active, existing); `Api-Key` → service; nothing → anonymous. A bad
    /// credential is a 401 even on routes that allow anonymous callers.
    func authenticate(_ request: HTTPRequest) async throws -> Caller {
        guard let header = request.headers["Authorization"]?.trimmingSpaces, !header.isEmpty else {
            return .anonymous(ip: request.clientHost)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { throw APIError.unauthorized("Malformed Authorization header") }
        let scheme = parts[0].lowercased(), credential = String(parts[1]).trimmingSpaces
        switch scheme {
        case "bearer", "jwt":
            let claims: JWT.Claims
            do {
                claims = try tokens.jwt.verify(credential, as: .access)
            } catch {
                if error == .expired { throw APIError.tokenExpired(at: tokens.jwt.expiry(of: credential)) }
                throw APIError.unauthorized(error.message, code: "TOKEN_INVALID")
            }
            guard let user = try await users.find(id: claims.userID), user.isActive else {
                throw APIError.unauthorized("User not found or inactive", code: "TOKEN_INVALID")
            }
            return .user(user)
        case "api-key":
            guard let name = try await serviceKeys.authenticate(credential) else {
                throw APIError.unauthorized("Invalid API key", code: "INVALID_API_KEY")
            }
            return .service(name: name)
        default:
            throw APIError.unauthorized("Unsupported authorization scheme")
        }
    }

    private func authorize(_ caller: Caller, _ access: Access) throws(APIError) {
        switch (access, caller) {
        case (.anyone, _), (.user, .user), (.userOrService, .user), (.userOrService, .service), (.staffOrService, .service):
            return
        case (.staffOrService, .user(let user)):
            if !user.role.isStaff { throw .forbidden() }
        case (_, .anonymous):
            throw .unauthorized()
        case (.user, .service):
            throw .forbidden("This endpoint is for signed-in users")
        }
    }

    private func takeToken(_ caller: Caller, rate: RateClass, ip: String) -> RateLimiter.Decision {
        if rate == .login {
            // Every attempt from an address: generous, so a classroom behind one NAT signs in
            // together; failed attempts per account and address are counted by the login itself.
            return limiter.take("login:\(ip)", limit: limits.loginPerMinute * limits.loginAddressFactor, period: 60)
        }
        switch caller {
        case .anonymous(let ip): return limiter.take("ip:\(ip)", limit: limits.anonymousPerHour, period: 3600)
        case .user(let user): return limiter.take("user:\(user.id)", limit: limits.userPerHour, period: 3600)
        case .service(let name): return limiter.take("service:\(name)", limit: limits.servicePerHour, period: 3600)
        }
    }
}
