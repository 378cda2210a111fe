import Foundation
import Hub
import NotifyDrivers

/// Everything `hubd` reads at start-up, from `HUB_*` environment variables or the matching flags
/// (`HUB_PORT` ⇔ `--port`). A flag wins over the environment. A missing required setting or a
/// malformed one is a `ConfigurationError` whose message names it, in one line.
struct HubConfiguration {
    var host = "0.0.0.0"
    var port = 8000
    var threads = System.coreCount
    var databaseURL: String?
    var jwtSecret = ""
    var accessTTL = 15 * 60
    var refreshTTL = 7 * 24 * 3600
    var heartbeatInterval = 30
    var heartbeatTimeout = 75
    var maxMessageBytes = 1024 * 1024
    var maxBodyBytes = 1024 * 1024
    var maxConnections = 100_000
    var corsOrigins = ""
    /// Browser origins that may open WebSockets; the CORS list unless set.
    var wsOrigins = ""
    var smtpURL: String?
    var smtpFrom: String?
    var telegramBotToken: String?
    var telegramAPIBase = "https://api.telegram.org"
    var smsURL: String?
    /// PEM CA file the HTTP drivers trust instead of the system's (a private gateway).
    var tlsCAFile: String?
    var serviceKeys: [String] = []
    var enableEcho = false
    var logLevel = Logger.Level.info
    var databasePoolSize = 4
    var rateLimitAnonymous = 100
    var rateLimitUser = 1000
    var rateLimitService = 100_000
    var rateLimitLogin = 10
    var presenceGraceMillis = 5000
    var authTimeout = 10
    var staticDirectory: String?
    var outboxRetryBaseMillis = 5000
    var outboxLeaseMillis = 120_000
    var outboxMaxAttempts = 8
    var smsDailyCap = 10
    var digestWindowSeconds = 0
    var trustedProxies = TrustedProxies.none
    var adminEmail: String?
    var adminPasswordFile: String?
    var deliveryTimeout = 10
    /// Web Push: the VAPID key pair and contact; without them push is off (routes answer 503).
    var vapidKey: P256Key?
    var vapidSubject: String?
    var pushAllowHTTP = false
    /// Webhooks: accept http:// endpoints; accept private/loopback addresses (tests); shrink the
    /// retry schedule by this factor (tests).
    var webhookAllowHTTP = false
    var webhookAllowPrivate = false
    var webhookRetryScale = 1.0
    /// The cross-node bus: "postgres" (the default with a database) or "memory" (one node).
    var bus = "postgres"
    /// This node's name in the cluster: host name plus pid unless set.
    var nodeID = "\(ProcessInfo.processInfo.hostName)-\(getpid())"
    var nodeLeaseMillis = 15_000
    var busPollMillis = 1_000
    var busListen = true
    /// The hub's public base URL (absolute links in paginated lists); the request's Host without it.
    var publicURL: String?
    var refreshRotation = false
    var selfRegistrationRoles = "STUDENT"
    /// Cookie a WebSocket upgrade may carry its access token in (after the Origin check).
    var authCookie = "access_token"

    struct ConfigurationError: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads flags (which win) and environment variables into a configuration.
    static func load(environment: [String: String], arguments: [String]) throws(ConfigurationError) -> HubConfiguration {
        var values = environment.filter { $0.key.hasPrefix("HUB_") }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else { throw ConfigurationError(description: "unexpected argument \(argument)") }
            var flag = argument, value: String?
            if let equals = argument.firstIndex(of: "=") {
                flag = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let setting = settings.first(where: { $0.flag == flag }) else {
                throw ConfigurationError(description: "unknown flag \(flag) (see --help)")
            }
            if value == nil {
                guard index < arguments.count else { throw ConfigurationError(description: "\(flag) needs a value") }
                value = arguments[index]
                index += 1
            }
            values[setting.name] = value
        }

        var config = HubConfiguration()
        let reader = Reader(values: values)
        config.host = reader.string("HUB_HOST") ?? config.host
        config.port = try reader.int("HUB_PORT", 0...65535) ?? config.port
        config.threads = try reader.int("HUB_THREADS", 1...64) ?? config.threads
        config.databaseURL = reader.string("HUB_DATABASE_URL")
        if let url = config.databaseURL, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") || url.contains("=")) {
            throw ConfigurationError(description: "HUB_DATABASE_URL must be a postgresql:// URL or a libpq key=value string")
        }
        guard let secret = reader.string("HUB_JWT_SECRET") else {
            throw ConfigurationError(description: "HUB_JWT_SECRET is required (at least 32 bytes; --jwt-secret)")
        }
        guard secret.utf8.count >= 32 else {
            throw ConfigurationError(description: "HUB_JWT_SECRET must be at least 32 bytes long")
        }
        config.jwtSecret = secret
        config.accessTTL = try reader.int("HUB_ACCESS_TTL", 10...86_400) ?? config.accessTTL
        config.refreshTTL = try reader.int("HUB_REFRESH_TTL", 60...31_536_000) ?? config.refreshTTL
        config.heartbeatInterval = try reader.int("HUB_HEARTBEAT_INTERVAL", 1...3600) ?? config.heartbeatInterval
        config.heartbeatTimeout = try reader.int("HUB_HEARTBEAT_TIMEOUT", 2...7200) ?? config.heartbeatTimeout
        guard config.heartbeatTimeout > config.heartbeatInterval else {
            throw ConfigurationError(description: "HUB_HEARTBEAT_TIMEOUT must be longer than HUB_HEARTBEAT_INTERVAL")
        }
        config.maxMessageBytes = try reader.int("HUB_MAX_MESSAGE_BYTES", 125...(1 << 30)) ?? config.maxMessageBytes
        config.maxBodyBytes = try reader.int("HUB_MAX_BODY_BYTES", 1024...(1 << 30)) ?? config.maxBodyBytes
        config.maxConnections = try reader.int("HUB_MAX_CONNECTIONS", 1...10_000_000) ?? config.maxConnections
        config.corsOrigins = reader.string("HUB_CORS_ORIGINS") ?? ""
        if let origins = reader.string("HUB_WS_ORIGINS"), let item = OriginAllowList.malformedItem(in: origins) {
            throw ConfigurationError(description: "HUB_WS_ORIGINS must list origins like https://app.example, or *, not \"\(item)\"")
        }
        config.wsOrigins = reader.string("HUB_WS_ORIGINS") ?? config.corsOrigins
        config.smtpURL = reader.string("HUB_SMTP_URL")
        config.smtpFrom = reader.string("HUB_SMTP_FROM")
        config.telegramBotToken = reader.string("HUB_TELEGRAM_BOT_TOKEN")
        config.telegramAPIBase = reader.string("HUB_TELEGRAM_API_BASE") ?? config.telegramAPIBase
        config.smsURL = reader.string("HUB_SMS_URL")
        config.tlsCAFile = reader.string("HUB_TLS_CA_FILE")
        if let file = config.tlsCAFile, !FileManager.default.isReadableFile(atPath: file) {
            throw ConfigurationError(description: "HUB_TLS_CA_FILE \"\(file)\" is not a readable file")
        }
        config.serviceKeys = (reader.string("HUB_SERVICE_KEYS") ?? "").split(separator: ",").map { $0.trimmingSpaces }
            .filter { !$0.isEmpty }
        config.enableEcho = try reader.bool("HUB_ENABLE_ECHO") ?? false
        if let level = reader.string("HUB_LOG_LEVEL") {
            guard let parsed = Logger.Level(name: level) else {
                throw ConfigurationError(description: "HUB_LOG_LEVEL must be debug, info, warning or error, not \"\(level)\"")
            }
            config.logLevel = parsed
        }
        config.databasePoolSize = try reader.int("HUB_DATABASE_POOL", 1...64) ?? config.databasePoolSize
        config.rateLimitAnonymous = try reader.int("HUB_RATE_LIMIT_ANON", 1...10_000_000) ?? config.rateLimitAnonymous
        config.rateLimitUser = try reader.int("HUB_RATE_LIMIT_USER", 1...10_000_000) ?? config.rateLimitUser
        config.rateLimitService = try reader.int("HUB_RATE_LIMIT_SERVICE", 1...100_000_000) ?? config.rateLimitService
        config.staticDirectory = reader.string("HUB_STATIC_DIR")
        config.outboxRetryBaseMillis = try reader.int("HUB_OUTBOX_RETRY_BASE_MS", 10...3_600_000) ?? config.outboxRetryBaseMillis
        config.outboxLeaseMillis = try reader.int("HUB_OUTBOX_LEASE_MS", 500...3_600_000) ?? config.outboxLeaseMillis
        config.deliveryTimeout = try reader.int("HUB_DELIVERY_TIMEOUT", 1...300) ?? config.deliveryTimeout
        config.outboxMaxAttempts = try reader.int("HUB_OUTBOX_MAX_ATTEMPTS", 1...100) ?? config.outboxMaxAttempts
        config.smsDailyCap = try reader.int("HUB_SMS_DAILY_CAP_PER_USER", 0...1_000_000) ?? config.smsDailyCap
        config.digestWindowSeconds = try reader.int("HUB_DIGEST_WINDOW_SECONDS", 0...604_800) ?? config.digestWindowSeconds
        config.adminEmail = reader.string("HUB_ADMIN_EMAIL")
        config.adminPasswordFile = reader.string("HUB_ADMIN_PASSWORD_FILE")
        if config.adminEmail != nil {
            guard let file = config.adminPasswordFile, let text = try? String(contentsOfFile: file, encoding: .utf8),
                  text.trimmingCharacters(in: .whitespacesAndNewlines).count >= 8
            else { throw ConfigurationError(description: "HUB_ADMIN_EMAIL needs HUB_ADMIN_PASSWORD_FILE: a readable file with a password of 8 characters or more") }
        }
        if let proxies = reader.string("HUB_TRUSTED_PROXIES") {
            guard let parsed = TrustedProxies(parsing: proxies) else {
                throw ConfigurationError(description: "HUB_TRUSTED_PROXIES must be IP addresses or CIDR networks, comma-separated, not \"\(proxies)\"")
            }
            config.trustedProxies = parsed
        }
        if let url = config.smtpURL {
            guard let from = config.smtpFrom else {
                throw ConfigurationError(description: "HUB_SMTP_FROM is required with HUB_SMTP_URL")
            }
            do {
                _ = try SMTPConfiguration(url: url, from: from)
            } catch {
                throw ConfigurationError(description: "\(error)")
            }
        }
        if let sms = config.smsURL, URL(string: sms)?.host == nil {
            throw ConfigurationError(description: "HUB_SMS_URL must be an http(s) URL")
        }
        config.authTimeout = try reader.int("HUB_AUTH_TIMEOUT", 1...300) ?? config.authTimeout
        config.presenceGraceMillis = try reader.int("HUB_PRESENCE_GRACE_MS", 0...600_000) ?? config.presenceGraceMillis
        config.rateLimitLogin = try reader.int("HUB_RATE_LIMIT_LOGIN", 1...10_000_000) ?? config.rateLimitLogin
        try readPush(reader, into: &config)
        try readWebhooks(reader, into: &config)
        try readBus(reader, into: &config)
        if let url = reader.string("HUB_PUBLIC_URL") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
                throw ConfigurationError(description: "HUB_PUBLIC_URL must be an http(s) URL such as https://hub.example")
            }
            config.publicURL = url
        }
        config.refreshRotation = try reader.bool("HUB_REFRESH_ROTATION") ?? false
        if let cookie = reader.string("HUB_AUTH_COOKIE") {
            guard cookie.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
                throw ConfigurationError(description: "HUB_AUTH_COOKIE must be a cookie name (letters, digits, _ - .)")
            }
            config.authCookie = cookie
        }
        if let roles = reader.string("HUB_SELF_REGISTRATION_ROLES") {
            let names = roles.split(separator: ",").map { $0.trimmingSpaces.uppercased() }
            let known = ["ADMIN", "STAFF", "TEACHER", "STUDENT", "PARENT", "DRIVER"]
            guard names.allSatisfy(known.contains) else {
                throw ConfigurationError(description: "HUB_SELF_REGISTRATION_ROLES must list roles among \(known.joined(separator: ", "))")
            }
            config.selfRegistrationRoles = names.joined(separator: ",")
        }
        do {
            _ = try SocketAddress.resolve(host: config.host, port: config.port)
        } catch {
            throw ConfigurationError(description: "HUB_HOST must be a numeric IPv4 or IPv6 address, not \"\(config.host)\"")
        }
        return config
    }

    /// HUB_VAPID_PRIVATE_KEY (checked: a malformed key stops hubd with one line), HUB_VAPID_SUBJECT
    /// and HUB_PUSH_ALLOW_HTTP.
    private static func readPush(_ reader: Reader, into config: inout HubConfiguration) throws(ConfigurationError) {
        if let text = reader.string("HUB_VAPID_PRIVATE_KEY") {
            do {
                config.vapidKey = try VAPID.parseKey(text)
            } catch {
                throw ConfigurationError(description: "HUB_VAPID_PRIVATE_KEY \(error)")
            }
        }
        if let subject = reader.string("HUB_VAPID_SUBJECT") {
            guard VAPID.isValidSubject(subject) else {
                throw ConfigurationError(description: "HUB_VAPID_SUBJECT must start with mailto: or https://, not \"\(subject)\"")
            }
            config.vapidSubject = subject
        }
        if config.vapidKey != nil && config.vapidSubject == nil {
            throw ConfigurationError(description: "HUB_VAPID_SUBJECT (mailto: or https:) is required with HUB_VAPID_PRIVATE_KEY")
        }
        config.pushAllowHTTP = try reader.bool("HUB_PUSH_ALLOW_HTTP") ?? false
    }

    /// HUB_WEBHOOK_ALLOW_HTTP, HUB_WEBHOOK_ALLOW_PRIVATE and HUB_WEBHOOK_RETRY_SCALE (0 < scale ≤ 1).
    private static func readWebhooks(_ reader: Reader, into config: inout HubConfiguration) throws(ConfigurationError) {
        config.webhookAllowHTTP = try reader.bool("HUB_WEBHOOK_ALLOW_HTTP") ?? false
        config.webhookAllowPrivate = try reader.bool("HUB_WEBHOOK_ALLOW_PRIVATE") ?? false
        if let text = reader.string("HUB_WEBHOOK_RETRY_SCALE") {
            guard let scale = Double(text), scale > 0, scale <= 1 else {
                throw ConfigurationError(description: "HUB_WEBHOOK_RETRY_SCALE must be a number above 0 and at most 1, not \"\(text)\"")
            }
            config.webhookRetryScale = scale
        }
    }

    /// HUB_BUS, HUB_NODE_ID, HUB_NODE_LEASE_MS, HUB_BUS_POLL_MS, HUB_BUS_LISTEN.
    private static func readBus(_ reader: Reader, into config: inout HubConfiguration) throws(ConfigurationError) {
        if let bus = reader.string("HUB_BUS") {
            guard bus == "postgres" || bus == "memory" else {
                throw ConfigurationError(description: "HUB_BUS must be postgres or memory, not \"\(bus)\"")
            }
            config.bus = bus
        }
        if let node = reader.string("HUB_NODE_ID") {
            guard node.utf8.count <= 100, node.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
                throw ConfigurationError(description: "HUB_NODE_ID must be 1 to 100 printable ASCII characters without spaces")
            }
            config.nodeID = node
        }
        config.nodeLeaseMillis = try reader.int("HUB_NODE_LEASE_MS", 300...600_000) ?? config.nodeLeaseMillis
        config.busPollMillis = try reader.int("HUB_BUS_POLL_MS", 10...60_000) ?? config.busPollMillis
        config.busListen = try reader.bool("HUB_BUS_LISTEN") ?? true
    }

    private struct Reader {
        let values: [String: String]

        func string(_ name: String) -> String? {
            guard let value = values[name], !value.isEmpty else { return nil }
            return value
        }

        func int(_ name: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let text = string(name) else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError(description:
                    "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(text)\"")
            }
            return value
        }

        func bool(_ name: String) throws(ConfigurationError) -> Bool? {
            guard let text = string(name) else { return nil }
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigurationError(description: "\(name) must be 1 or 0 (true/false), not \"\(text)\"")
            }
        }
    }
}
