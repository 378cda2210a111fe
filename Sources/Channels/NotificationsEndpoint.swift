import Hub

/// Registers `/ws/notifications/` and `/ws/notifications/{user_id}/`. A token in the
/// `Authorization: Bearer` header or `?token=` is checked before the upgrade (401 if bad, 403 if
/// the path names another user); without one the upgrade succeeds and the first message must be
/// `auth`. `?last_id=` asks for a replay right after `connected`. A browser page whose `Origin`
/// `origins` does not allow is refused with 403 before anything else. The token may also come
/// from the cookie named `cookie` (`access_token`: TuranTalim's front end stores it there and
/// opens the socket with no token at all); it is read only after the Origin check, so a page of
/// another origin cannot ride a signed-in user's cookie.
public enum NotificationsEndpoint {
    public static func register(on router: inout Router, hub: ChannelHub, origins: OriginAllowList = .any,
                                cookie: String? = "access_token")
    {
        var options = WebSocketOptions()
        options.maxMessageBytes = hub.configuration.maxMessageBytes
        // A client that follows the protocol sends `heartbeat` every interval, which proves it is
        // there: the WebSocket ping is for silent ones, so it waits half an interval longer (a
        // ping at exactly the interval crossed most heartbeats, and pinged ten thousand sessions
        // that connected together in one sweep) and still comes before the timeout.
        let interval = hub.configuration.heartbeatIntervalMillis, timeout = hub.configuration.heartbeatTimeoutMillis
        options.pingIntervalMillis = min(interval * 3 / 2, (interval + timeout) / 2)
        options.timeoutMillis = hub.configuration.heartbeatTimeoutMillis
        options.timeoutCloseCode = CloseCode.heartbeatTimeout.rawValue
        options.slowConsumerCloseCode = CloseCode.slowConsumer.rawValue
        options.outboundLimit = 1 << 20
        for path in ["/ws/notifications/", "/ws/notifications/{user_id}/"] {
            // Checked here rather than in `options.originAllowed`, which sees no `Host` (same-origin pages pass).
            router.webSocket(path, options: options) { request, acceptor in
                guard origins.allows(origin: request.headers["Origin"], host: request.headers["Host"]) else {
                    return acceptor.reject(.error(.forbidden, code: "ORIGIN_NOT_ALLOWED", message: "Origin not allowed"))
                }
                accept(request, acceptor, hub: hub, cookie: cookie)
            }
        }
    }

    private static func accept(_ request: HTTPRequest, _ acceptor: WebSocketAcceptor, hub: ChannelHub, cookie: String?) {
        let pathText = request.parameter("user_id")
        let pathUserID = pathText.flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
        if pathText != nil && pathUserID == nil {
            return acceptor.reject(.error(.notFound, code: "NOT_FOUND", message: "Unknown user id in path"))
        }
        let query = request.query
        let resume = query["last_id"].flatMap { Int64($0) }
        if query["last_id"] != nil && resume == nil {
            return acceptor.reject(.error(.badRequest, code: "VALIDATION_ERROR", message: "last_id must be an integer",
                                          details: [("last_id", ["A valid integer is required."])]))
        }
        var token: String?
        if let header = request.headers["Authorization"], header.lowercased().hasPrefix("bearer ") {
            token = String(header.dropFirst(7)).trimmingSpaces
        } else if let fromQuery = query["token"], !fromQuery.isEmpty {
            token = fromQuery
        } else if let cookie, let header = request.headers["Cookie"] {
            token = Self.cookie(cookie, in: header)
        }
        guard let token else {
            acceptor.accept { Session(hub: hub, user: nil, pathUserID: pathUserID, resumeFrom: resume) }
            return
        }
        let generation = hub.publishGeneration
        let finish: @Sendable (Result<ChannelUser, TokenRejection>) -> Void = { result in
            switch result {
            case .failure(.unavailable):
                acceptor.reject(.error(.serviceUnavailable, code: "DATABASE_UNAVAILABLE", message: "Try again shortly",
                                       headers: HTTPHeaders([("Retry-After", "2")])))
            case .failure(let rejection):
                let message = if case .invalid(let why) = rejection { why } else { "Token has expired" }
                acceptor.reject(.error(.unauthorized, code: "AUTHENTICATION_REQUIRED", message: message))
            case .success(let user):
                if let pathUserID, pathUserID != user.id {
                    acceptor.reject(.error(.forbidden, code: "PERMISSION_DENIED", message: "The path names another user"))
                    return
                }
                acceptor.accept {
                    Session(hub: hub, user: user, pathUserID: pathUserID, resumeFrom: resume, verifiedAtGeneration: generation)
                }
            }
        }
        if let verifyNow = hub.dependencies.verifyTokenNow {
            verifyNow(token, finish)
        } else {
            let verify = hub.dependencies.verifyToken
            Task { finish(await verify(token)) }
        }
    }

    /// The value of cookie `name` in a `Cookie` header (`a=1; access_token=eyJ…`), if not empty.
    static func cookie(_ name: String, in header: String) -> String? {
        for pair in header.split(separator: ";") {
            let trimmed = pair.trimmingSpaces
            guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
            let value = String(trimmed[trimmed.index(after: equals)...])
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
