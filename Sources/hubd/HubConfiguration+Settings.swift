import Foundation

/// Every setting `hubd` reads, with its help line and default: the table behind `--help` and
/// the flag names (`HUB_PORT` ⇔ `--port`). HubConfiguration.swift parses them.
extension HubConfiguration {
    struct Setting {
        let name: String
        let help: String
        let defaultText: String
        var flag: String { "--" + name.dropFirst(4).lowercased().replacingOccurrences(of: "_", with: "-") }
    }

    static let settings: [Setting] = [
        Setting(name: "HUB_HOST", help: "address to listen on (numeric IPv4/IPv6)", defaultText: "0.0.0.0"),
        Setting(name: "HUB_PORT", help: "TCP port (0: any free port)", defaultText: "8000"),
        Setting(name: "HUB_THREADS", help: "event-loop threads", defaultText: "number of cores"),
        Setting(name: "HUB_DATABASE_URL", help: "PostgreSQL URL (postgresql://user@host/db)", defaultText: "unset"),
        Setting(name: "HUB_JWT_SECRET", help: "HS256 secret for tokens, at least 32 bytes", defaultText: "required"),
        Setting(name: "HUB_ACCESS_TTL", help: "access token lifetime, seconds", defaultText: "900"),
        Setting(name: "HUB_REFRESH_TTL", help: "refresh token lifetime, seconds", defaultText: "604800"),
        Setting(name: "HUB_HEARTBEAT_INTERVAL", help: "WebSocket heartbeat interval, seconds", defaultText: "30"),
        Setting(name: "HUB_HEARTBEAT_TIMEOUT", help: "close 4000 after this many silent seconds", defaultText: "75"),
        Setting(name: "HUB_MAX_MESSAGE_BYTES", help: "largest WebSocket message", defaultText: "1048576"),
        Setting(name: "HUB_MAX_BODY_BYTES", help: "largest HTTP request body", defaultText: "1048576"),
        Setting(name: "HUB_MAX_CONNECTIONS", help: "open connections at most", defaultText: "100000"),
        Setting(name: "HUB_CORS_ORIGINS", help: "allowed browser origins, comma-separated, or *", defaultText: "none"),
        Setting(name: "HUB_WS_ORIGINS", help: "origins that may open WebSockets (same-origin and no Origin always may), or *",
                defaultText: "HUB_CORS_ORIGINS"),
        Setting(name: "HUB_SMTP_URL", help: "smtp://user:pass@host:587?starttls=required", defaultText: "unset"),
        Setting(name: "HUB_SMTP_FROM", help: "sender address of emails", defaultText: "unset"),
        Setting(name: "HUB_TELEGRAM_BOT_TOKEN", help: "Telegram bot token", defaultText: "unset"),
        Setting(name: "HUB_TELEGRAM_API_BASE", help: "Telegram Bot API base URL", defaultText: "https://api.telegram.org"),
        Setting(name: "HUB_SMS_URL", help: "SMS gateway URL", defaultText: "unset"),
        Setting(name: "HUB_TLS_CA_FILE", help: "PEM CAs the Telegram/SMS HTTPS client trusts", defaultText: "the system's"),
        Setting(name: "HUB_SERVICE_KEYS", help: "API keys of platform backends, comma-separated", defaultText: "none"),
        Setting(name: "HUB_ENABLE_ECHO", help: "serve /ws/echo for conformance tests (1/0)", defaultText: "0"),
        Setting(name: "HUB_LOG_LEVEL", help: "debug, info, warning or error", defaultText: "info"),
        Setting(name: "HUB_DATABASE_POOL", help: "PostgreSQL connections (worker threads)", defaultText: "4"),
        Setting(name: "HUB_RATE_LIMIT_ANON", help: "requests per hour per IP without a token", defaultText: "100"),
        Setting(name: "HUB_RATE_LIMIT_USER", help: "requests per hour per signed-in user", defaultText: "1000"),
        Setting(name: "HUB_RATE_LIMIT_SERVICE", help: "requests per hour per service key (a bulk request is one)", defaultText: "100000"),
        Setting(name: "HUB_OUTBOX_RETRY_BASE_MS", help: "first retry delay of a failed delivery, ms (doubles)", defaultText: "5000"),
        Setting(name: "HUB_OUTBOX_LEASE_MS", help: "how long a worker holds a claimed delivery, ms", defaultText: "120000"),
        Setting(name: "HUB_DELIVERY_TIMEOUT", help: "connect and I/O timeout of SMTP/HTTP deliveries, seconds", defaultText: "10"),
        Setting(name: "HUB_OUTBOX_MAX_ATTEMPTS", help: "attempts before a delivery fails for good", defaultText: "8"),
        Setting(name: "HUB_ADMIN_EMAIL", help: "a staff account created at start if missing (make run: admin@localhost)",
                defaultText: "unset"),
        Setting(name: "HUB_ADMIN_PASSWORD_FILE", help: "file holding that account's first password", defaultText: "unset"),
        Setting(name: "HUB_TRUSTED_PROXIES",
                help: "proxies (addresses, CIDR networks) whose X-Forwarded-For names the client", defaultText: "none"),
        Setting(name: "HUB_DIGEST_WINDOW_SECONDS", help: "digest windows this many seconds wide instead of hour/day/week (tests)",
                defaultText: "0"),
        Setting(name: "HUB_SMS_DAILY_CAP_PER_USER", help: "SMS per user per 24 h; past it non-URGENT SMS are dropped (capped)",
                defaultText: "10"),
        Setting(name: "HUB_STATIC_DIR", help: "folder with js/hub-client.js and demo/ (served at /static/, /demo/)",
                defaultText: "./clients"),
        Setting(name: "HUB_AUTH_TIMEOUT", help: "seconds to send the first-message auth, else 4401", defaultText: "10"),
        Setting(name: "HUB_PRESENCE_GRACE_MS", help: "delay before a room leave is announced, ms", defaultText: "5000"),
        Setting(name: "HUB_RATE_LIMIT_LOGIN", help: "failed logins per minute per account and address (all attempts per address: 30x)",
                defaultText: "10"),
        Setting(name: "HUB_VAPID_PRIVATE_KEY", help: "Web Push P-256 key: PEM, or base64url of the raw 32 bytes",
                defaultText: "unset (push off)"),
        Setting(name: "HUB_VAPID_SUBJECT", help: "Web Push contact, mailto: or https: (needed with the key)",
                defaultText: "unset"),
        Setting(name: "HUB_PUSH_ALLOW_HTTP", help: "accept http:// push endpoints (tests only) (1/0)", defaultText: "0"),
        Setting(name: "HUB_WEBHOOK_ALLOW_HTTP", help: "accept http:// webhook endpoints (1/0)", defaultText: "0"),
        Setting(name: "HUB_WEBHOOK_ALLOW_PRIVATE", help: "let webhooks reach loopback/private addresses (tests only) (1/0)",
                defaultText: "0"),
        Setting(name: "HUB_WEBHOOK_RETRY_SCALE", help: "factor on the webhook retry schedule 5 s … 10 h (tests: 0.001)",
                defaultText: "1"),
        Setting(name: "HUB_BUS", help: "cross-node bus: postgres (several nodes on one database) or memory (one node)",
                defaultText: "postgres with a database"),
        Setting(name: "HUB_NODE_ID", help: "this node's name in the cluster", defaultText: "host name-pid"),
        Setting(name: "HUB_NODE_LEASE_MS", help: "a node silent this long is gone (its presence ends), ms", defaultText: "15000"),
        Setting(name: "HUB_BUS_POLL_MS", help: "bus poll backstop while LISTEN works, ms", defaultText: "1000"),
        Setting(name: "HUB_BUS_LISTEN", help: "LISTEN for bus wake-ups (0: poll only, behind a transaction pooler) (1/0)",
                defaultText: "1"),
        Setting(name: "HUB_PUBLIC_URL", help: "public base URL of links in lists (https://hub.example)",
                defaultText: "http://<Host>"),
        Setting(name: "HUB_REFRESH_ROTATION", help: "a refresh answers a new refresh token and revokes the used one (1/0)",
                defaultText: "0"),
        Setting(name: "HUB_AUTH_COOKIE", help: "cookie holding the access token of a WebSocket upgrade (allowed Origin only)",
                defaultText: "access_token"),
        Setting(name: "HUB_SELF_REGISTRATION_ROLES", help: "roles anyone may register as, comma-separated",
                defaultText: "STUDENT"),
    ]

    static var helpText: String {
        var lines = [
            "hubd: the real-time notification and presence hub.",
            "",
            "Usage: hubd [--flag value | --flag=value]...   (each flag also read from its environment variable)",
            "",
        ]
        for setting in settings {
            let left = "  \(setting.flag) (\(setting.name))"
            lines.append(left.padding(toLength: 44, withPad: " ", startingAt: 0) + setting.help + " [\(setting.defaultText)]")
        }
        lines.append("  --help" .padding(toLength: 44, withPad: " ", startingAt: 0) + "show this text")
        return lines.joined(separator: "\n")
    }
}
