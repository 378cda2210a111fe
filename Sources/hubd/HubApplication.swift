import Channels
import Foundation
import Hub
import NotifyDrivers
import RESTBridge
import Synchronization

/// Wires the parts of the hub together from a configuration.
struct HubApplication {
    let configuration: HubConfiguration
    let logger: Logger
    let pool: DatabasePool?
    let catalogue: EventCatalogue
    let outbox: OutboxWorker?
    /// The cross-node bus (HUB_BUS=postgres with a database), started once the hub exists.
    let bus: PostgresBus?
    let hubBox = Locked<ChannelHub?>(nil)
    let metrics = Metrics()
    /// Set once the server exists (the /metrics route reads the connection count through it).
    let connectionCount = ConnectionCountBox()

    init(configuration: HubConfiguration, logger: Logger) throws {
        catalogue = try EventCatalogue.bundled()
        self.configuration = configuration
        self.logger = logger
        pool = configuration.databaseURL.map { DatabasePool(url: $0, workers: configuration.databasePoolSize) }
        outbox = try Self.makeOutbox(configuration, logger: logger)
        if let url = configuration.databaseURL, configuration.bus == "postgres" {
            var settings = PostgresBus.Settings(url: url, nodeID: configuration.nodeID)
            settings.leaseMillis = Int64(configuration.nodeLeaseMillis)
            settings.pollMillis = Int64(configuration.busPollMillis)
            settings.listen = configuration.busListen
            settings.version = HealthRoutes.version
            bus = PostgresBus(settings: settings, logger: logger)
        } else {
            bus = nil
        }
    }

    /// Joins the cluster: registers the node's lease, learns the other nodes' presence, starts
    /// reading the bus (after the migrations and the router, before serving).
    func startBus(address: String) throws {
        guard let bus, let hub = hubBox.withLock({ $0 }) else { return }
        try bus.start(hub: hub, address: address)
        logger.info("bus started", [("node", .string(configuration.nodeID)), ("address", .string(address)),
                                    ("listen", .bool(configuration.busListen))])
    }

    /// SIGTERM: the other nodes learn at once that this node's sessions are gone.
    func stopBus() {
        bus?.stop()
    }

    /// Applies the migrations, waiting up to 30 s for PostgreSQL to accept connections.
    func prepareDatabase() throws {
        guard let pool else {
            logger.warning("no HUB_DATABASE_URL: running without a store (health says not_configured)")
            return
        }
        var lastError: (any Error)?
        for attempt in 0..<60 {
            do {
                let applied = try pool.runBlocking { connection in try Migrations.apply(on: connection) }
                logger.info("migrations", [("applied", .string(applied.map(String.init).joined(separator: ","))),
                                           ("available", .int(Int64(Migrations.all.count)))])
                try ensureStaffAccount(pool)
                return
            } catch DatabaseError.unavailable(let message) {
                lastError = DatabaseError.unavailable(message)
                if attempt == 0 { logger.warning("waiting for PostgreSQL", [("error", .string(message))]) }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        throw lastError!
    }

    /// The first staff account (`HUB_ADMIN_EMAIL`), when asked for and missing.
    private func ensureStaffAccount(_ pool: DatabasePool) throws {
        guard let email = configuration.adminEmail, let file = configuration.adminPasswordFile else { return }
        let password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        if try pool.runBlocking({ connection in try StaffBootstrap.ensure(email: email, password: password, on: connection) }) {
            logger.info("staff account created", [("email", .string(email))])
        }
    }

    /// The delivery workers for the channels that are configured (none without a database).
    static func makeOutbox(_ configuration: HubConfiguration, logger: Logger) throws -> OutboxWorker? {
        guard let url = configuration.databaseURL else { return nil }
        var drivers: [(DeliveryChannel, OutboxWorker.DriverFactory)] = []
        let smtp = try configuration.smtpURL.flatMap { url in
            try configuration.smtpFrom.map { from in try SMTPConfiguration(url: url, from: from) }
        }
        let vapid = configuration.vapid
        // One delivery loop of its own carries every SMTP session and every Telegram and SMS request,
        // all non-blocking: a slow provider holds no thread and delays no other.
        let loop = try EventLoop(index: 0, name: "hub-delivery")
        loop.sweepIntervalMillis = 100
        loop.start()
        let timeout = Int64(configuration.deliveryTimeout) * 1000
        if var smtpSettings = smtp {
            smtpSettings.timeoutSeconds = Double(configuration.deliveryTimeout)
            let settings = smtpSettings
            drivers.append((.email, { EmailDriver(configuration: settings, loop: loop) }))
        }
        if configuration.telegramBotToken != nil || configuration.smsURL != nil {
            let client = HTTPClient(loop: loop, tls: TLSOptions(caFile: configuration.tlsCAFile),
                                    timeouts: .init(connectMillis: timeout, responseMillis: timeout))
            if let token = configuration.telegramBotToken {
                let driver = try TelegramDriver(apiBase: configuration.telegramAPIBase, token: token, client: client)
                drivers.append((.telegram, { driver }))
            }
            if let sms = configuration.smsURL {
                let driver = try SMSDriver(url: sms, client: client)
                drivers.append((.sms, { driver }))
            }
        }
        if let vapid {
            let client = HTTPClient(loop: loop, tls: TLSOptions(caFile: configuration.tlsCAFile),
                                    timeouts: .init(connectMillis: timeout, responseMillis: timeout))
            let driver = WebPushDriver(vapid: vapid, client: client)
            drivers.append((.push, { driver }))
        }
        // Webhooks are always on with a database: endpoints are registered through the API.
        let webhookClient = HTTPClient(loop: loop, timeouts: .init(connectMillis: timeout, responseMillis: timeout))
        let webhooks = WebhookDriver(client: webhookClient, userAgent: "hubd/\(HealthRoutes.version) (webhooks)",
                                     allowPrivate: configuration.webhookAllowPrivate)
        drivers.append((.webhook, { webhooks }))
        var settings = OutboxWorker.Configuration()
        settings.retrySchedules[.webhook] = OutboxWorker.webhookSchedule.map {
            Int64((Double($0) * configuration.webhookRetryScale).rounded())
        }
        settings.retryBaseMillis = Int64(configuration.outboxRetryBaseMillis)
        settings.leaseMillis = Int64(configuration.outboxLeaseMillis)
        settings.maxAttempts = configuration.outboxMaxAttempts
        settings.smsDailyCap = configuration.smsDailyCap
        return OutboxWorker(url: url, configuration: settings, drivers: drivers, logger: logger)
    }

    /// Starts sending deliveries (after the migrations).
    func startOutbox() {
        guard let outbox else { return }
        outbox.start()
        logger.info("outbox started", [("channels", .string(outbox.channels.map(\.rawValue).joined(separator: ",")))])
    }

    func makeRouter() -> Router {
        var router = Router()
        HealthRoutes.register(on: &router, probe: pool.map(DatabaseProbe.init),
                              cluster: pool.map { _ in HealthRoutes.Cluster(nodeID: configuration.nodeID, bus: bus) })
        if pool == nil {
            let counts = connectionCount
            MetricsRoutes.register(on: &router, sources: .init(metrics: metrics, connections: { counts.value }, hub: nil,
                                                               pool: nil, outboxOutcomes: { [:] }))
        }
        SchemaRoutes.register(on: &router)
        if let clients = Self.clientsDirectory(configuration.staticDirectory) {
            router.serve(StaticFiles(directory: clients.appendingPathComponent("js")), at: "/static/")
            for page in ["demo", "admin"] {
                let files = StaticFiles(directory: clients.appendingPathComponent(page))
                router.get("/\(page)/") { _, responder in
                    responder.respond(files.response(for: "index.html") ?? .error(.notFound, code: "NOT_FOUND", message: "Not found"))
                }
            }
        } else {
            logger.warning("clients/ not found: /static/ and /demo/ are not served (set HUB_STATIC_DIR)")
        }
        if let pool, let url = configuration.databaseURL {
            var limits = RateLimits()
            limits.anonymousPerHour = configuration.rateLimitAnonymous
            limits.userPerHour = configuration.rateLimitUser
            limits.servicePerHour = configuration.rateLimitService
            limits.loginPerMinute = configuration.rateLimitLogin
            var settings = APISettings()
            settings.publicURL = configuration.publicURL
            settings.refreshRotation = configuration.refreshRotation
            settings.selfRegistrationRoles = Set(configuration.selfRegistrationRoles.split(separator: ",")
                .compactMap { Role(rawValue: String($0)) })
            let context = APIContext(
                pool: pool,
                jwt: JWT(secret: configuration.jwtSecret, accessTTL: Int64(configuration.accessTTL),
                         refreshTTL: Int64(configuration.refreshTTL)),
                serviceKeys: configuration.serviceKeys, limits: limits, logger: logger, settings: settings)
            AuthRoutes.register(on: &router, context: context)
            let store = NotificationStore(pool: pool)
            var channel = ChannelConfiguration()
            channel.heartbeatIntervalMillis = Int64(configuration.heartbeatInterval) * 1000
            channel.heartbeatTimeoutMillis = Int64(configuration.heartbeatTimeout) * 1000
            channel.presenceGraceMillis = Int64(configuration.presenceGraceMillis)
            channel.authTimeoutMillis = Int64(configuration.authTimeout) * 1000
            channel.maxMessageBytes = min(configuration.maxMessageBytes, 1 << 20)
            let outbox = self.outbox
            var dependencies = ChannelWiring.dependencies(context: context, store: store)
            let presenceWebhooks = PresenceWebhooks(pool: pool, logger: logger, onQueued: { [outbox] in outbox?.wake() })
            dependencies.userPresenceChanged = { userID, online in presenceWebhooks.changed(userID: userID, online: online) }
            let hub = ChannelHub(loopCount: configuration.threads, configuration: channel, dependencies: dependencies,
                                 bus: bus ?? InProcessBus())
            hubBox.withLock { $0 = hub }
            // With several nodes PostgreSQL decides who came online or went offline for the whole
            // cluster, once (one node sees each transition); one node decides it itself (ChannelHub).
            bus?.onTransitions.withLock {
                $0 = { online, offline in
                    for userID in online { presenceWebhooks.changed(userID: userID, online: true) }
                    for userID in offline { presenceWebhooks.changed(userID: userID, online: false) }
                }
            }
            NotificationsEndpoint.register(on: &router, hub: hub, origins: OriginAllowList(configuration.wsOrigins),
                                          cookie: configuration.authCookie)
            outbox?.checkPresence { [hub] userID, since in hub.wasConnected(userID, sinceMillis: since) }
            let pipeline = EventPipeline(pool: pool, hub: hub, digestWindowSeconds: configuration.digestWindowSeconds, bus: bus,
                                         onQueued: { [outbox] in outbox?.wake() })
            NotificationRoutes.register(on: &router, context: context, store: store, hub: hub, pipeline: pipeline)
            InboxRoutes.register(on: &router, context: context, store: store, hub: hub)
            SnoozeWaker(store: store, hub: hub, logger: logger).start()
            RoomAndPresenceRoutes.register(on: &router, context: context, hub: hub)
            let counts = connectionCount
            var sources = MetricsRoutes.Sources(metrics: metrics, connections: { counts.value }, hub: hub, pool: pool,
                                                outboxOutcomes: { outbox?.outcomeCounts ?? [:] })
            sources.bus = bus
            sources.nodeID = configuration.nodeID
            MetricsRoutes.register(on: &router, sources: sources)
            PreferencesRoutes.register(on: &router, context: context)
            PushRoutes.register(on: &router, context: context, settings: configuration.vapid.map { vapid in
                PushSettings(publicKey: vapid.publicKeyBase64URL, allowHTTP: configuration.pushAllowHTTP)
            })
            GuardianRoutes.register(on: &router, context: context)
            AdminRoutes.register(on: &router, context: context, store: AdminStore(pool: pool), hub: hub,
                                 node: .init(id: configuration.nodeID, version: HealthRoutes.version,
                                             connections: { counts.value }, bus: { [bus] in bus?.status }),
                                 wakeOutbox: { outbox?.wake() })
            let parser = EventParser(catalogue: catalogue)
            let scheduled = ScheduledEventStore(pool: pool), reminders = ReminderStore(pool: pool)
            let scheduler = EventScheduler(url: url, pipeline: pipeline, parser: parser, logger: logger)
            scheduler.start()
            EventRoutes.register(on: &router, context: context, parser: parser, pipeline: pipeline,
                                 scheduled: scheduled, scheduler: scheduler)
            ScheduleRoutes.register(on: &router, context: context, store: scheduled, reminders: reminders)
            ReminderRoutes.register(on: &router, context: context, store: reminders, parser: parser, scheduler: scheduler)
            WebhookRoutes.register(on: &router, context: context,
                                   settings: WebhookSettings(allowHTTP: configuration.webhookAllowHTTP,
                                                             allowPrivate: configuration.webhookAllowPrivate),
                                   onQueued: { [outbox] in outbox?.wake() })
        }
        if configuration.enableEcho { registerConformanceEndpoints(on: &router) }
        return router
    }

    /// `/ws/echo` (echo) and `/ws/broadcast` (every message to every member), only with
    /// HUB_ENABLE_ECHO=1: they exist for conformance tests and benchmarks.
    private func registerConformanceEndpoints(on router: inout Router) {
        var options = WebSocketOptions()
        options.maxMessageBytes = configuration.maxMessageBytes
        options.pingIntervalMillis = Int64(configuration.heartbeatInterval) * 1000
        options.timeoutMillis = Int64(configuration.heartbeatTimeout) * 1000
        router.webSocket("/ws/echo/", options: options) { _, acceptor in acceptor.accept { EchoDelegate() } }
        let group = BroadcastGroup(loopCount: configuration.threads)
        router.webSocket("/ws/broadcast/", options: options) { _, acceptor in
            acceptor.accept { BroadcastDelegate(group: group) }
        }
    }

    /// The `clients/` folder: HUB_STATIC_DIR, else ./clients, else next to the repository the
    /// binary was built in (`.build/<config>/hubd` → `clients/`).
    static func clientsDirectory(_ configured: String?) -> URL? {
        var candidates: [URL] = []
        if let configured { candidates.append(URL(fileURLWithPath: configured)) }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("clients"))
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = binary.deletingLastPathComponent()
        for _ in 0..<4 {
            folder = folder.deletingLastPathComponent()
            candidates.append(folder.appendingPathComponent("clients"))
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("js/hub-client.js").path) }
    }

    func makeServer() throws(SystemError) -> Server {
        var httpConfiguration = HTTPServer.Configuration()
        httpConfiguration.limits.maxBodyBytes = configuration.maxBodyBytes
        httpConfiguration.cors = CORSPolicy(configuration.corsOrigins)
        httpConfiguration.trustedProxies = configuration.trustedProxies
        let logger = self.logger, metrics = self.metrics
        let http = HTTPServer(router: makeRouter(), configuration: httpConfiguration, accessLog: { record in
            metrics.record(record)
            guard logger.enabled(.info) else { return }
            logger.info("request", [
                ("method", .string(record.method.description)), ("path", .string(record.path)),
                ("status", .int(Int64(record.status))), ("duration_ms", .double(Double(record.durationMicros) / 1000)),
                ("remote", .string(record.remote.description)),
                ("client", .string(record.forwardedClient ?? record.remote.host)),
            ])
        })
        let serverConfiguration = Server.Configuration(
            host: configuration.host, port: configuration.port, threads: configuration.threads,
            maxConnections: configuration.maxConnections)
        let server = try Server(configuration: serverConfiguration, makeHandler: { _ in http.makeConnectionHandler() },
                                onAcceptError: { error in logger.warning("accept failed", [("error", .string("\(error)"))]) })
        connectionCount.limiter.withLock { $0 = server.limiter }
        return server
    }
}

extension HubConfiguration {
    /// The Web Push identity, when a key and subject are configured.
    var vapid: VAPID? {
        guard let key = vapidKey, let subject = vapidSubject else { return nil }
        return VAPID(key: key, subject: subject)
    }
}

/// The server's connection counter, known only once the server is built.
final class ConnectionCountBox: Sendable {
    let limiter = Locked<ConnectionLimiter?>(nil)
    var value: Int { limiter.withLock { $0?.current ?? 0 } }
}
