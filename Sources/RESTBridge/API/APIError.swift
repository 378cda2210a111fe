import Hub

/// Every failure the API answers with: status, stable `error_code`, message, per-field details.
/// Anything thrown that is not an APIError (or a DatabaseError) becomes an opaque 500.
public struct APIError: Error, Sendable {
    public var status: HTTPStatus
    public var code: String
    public var message: String
    public var details: [(String, [String])]
    /// Details whose values are JSON of their own (`token_expired: true`, `limit: 100`).
    public var rawDetails: [(String, String)] = []
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, code: String, message: String, details: [(String, [String])] = [],
                headers: HTTPHeaders = HTTPHeaders())
    {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var response: HTTPResponse {
        .error(status, code: code, message: message, details: details, rawDetails: rawDetails, headers: headers)
    }

    public static func validation(_ details: [(String, [String])]) -> APIError {
        APIError(.badRequest, code: "VALIDATION_ERROR", message: "Validation failed", details: details)
    }

    public static func unauthorized(_ message: String = "Authentication required", code: String = "AUTHENTICATION_REQUIRED")
        -> APIError
    {
        APIError(.unauthorized, code: code, message: message, details: [("message", [message])],
                 headers: HTTPHeaders([("WWW-Authenticate", "Bearer")]))
    }

    /// An expired token, as Madrasti documents it: `AUTHENTICATION_REQUIRED` with
    /// `details: {message, token_expired: true, token_expired_at}`.
    public static func tokenExpired(at expiry: Int64?) -> APIError {
        var error = APIError(.unauthorized, code: "AUTHENTICATION_REQUIRED", message: "Token has expired",
                             headers: HTTPHeaders([("WWW-Authenticate", "Bearer error=\"invalid_token\"")]))
        error.rawDetails = [("message", "\"Token has expired\""), ("token_expired", "true"),
                            ("token_expired_at", expiry.map { "\"\(WallClock.iso8601(millis: $0 * 1000))\"" } ?? "null")]
        return error
    }

    /// A 429: `RATE_LIMIT_EXCEEDED` with `details: {limit, window, reset_at, retry_after}` and `Retry-After`.
    public static func rateLimited(limit: Int, window: Int, resetEpoch: Int64, retryAfter: Int) -> APIError {
        var error = APIError(.tooManyRequests, code: "RATE_LIMIT_EXCEEDED", message: "Too many requests",
                             headers: HTTPHeaders([("Retry-After", String(retryAfter))]))
        error.rawDetails = [("limit", String(limit)), ("window", String(window)),
                            ("reset_at", "\"\(WallClock.iso8601(millis: resetEpoch * 1000))\""),
                            ("retry_after", String(retryAfter))]
        return error
    }

    public static func forbidden(_ message: String = "You don't have permission to perform this action") -> APIError {
        APIError(.forbidden, code: "PERMISSION_DENIED", message: message)
    }

    public static func notFound(_ resource: String) -> APIError {
        APIError(.notFound, code: "RESOURCE_NOT_FOUND", message: "\(resource) not found")
    }

    public static let databaseUnavailable = APIError(.serviceUnavailable, code: "DATABASE_UNAVAILABLE",
                                                     message: "The database is unavailable; try again shortly",
                                                     headers: HTTPHeaders([("Retry-After", "2")]))
}

/// Collects per-field validation messages, then throws them all at once.
public struct FieldErrors {
    public private(set) var fields: [(String, [String])] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        if let index = fields.firstIndex(where: { $0.0 == field }) {
            fields[index].1.append(message)
        } else {
            fields.append((field, [message]))
        }
    }

    public var isEmpty: Bool { fields.isEmpty }

    public func throwIfAny() throws(APIError) {
        if !fields.isEmpty { throw .validation(fields) }
    }
}
