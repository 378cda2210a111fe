import Foundation
import Hub
import Synchronization

/// The drivers' HTTP/1.1 client, non-blocking on an event loop of its own: TLS through OpenSSL
/// (chain and host name verified), keep-alive connections pooled per host, connect and response
/// timeouts, Content-Length, chunked and read-until-close bodies. Many requests are in flight at
/// once on one thread; completions run on that loop, so they must be short.
public final class HTTPClient: Sendable {
    public struct Timeouts: Sendable {
        /// TCP connect plus TLS handshake.
        public var connectMillis: Int64 = 5_000
        /// From the request's last byte to the response's last byte.
        public var responseMillis: Int64 = 10_000
        /// How long an unused keep-alive connection stays open.
        public var idleMillis: Int64 = 30_000

        public init(connectMillis: Int64 = 5_000, responseMillis: Int64 = 10_000, idleMillis: Int64 = 30_000) {
            self.connectMillis = connectMillis
            self.responseMillis = responseMillis
            self.idleMillis = idleMillis
        }
    }

    public typealias Completion = @Sendable (Result<HTTPClientResponse, TransportError>) -> Void
    public static let maxBody = 1 << 20
    /// What the client accepts from a provider: heads up to 64 KiB, bodies up to `maxBody`.
    static let responseLimits = HTTPParser.Limits(maxHeaderBytes: 64 * 1024, maxHeaderCount: 200, maxBodyBytes: maxBody)

    private let loop: EventLoop
    private let pools: HTTPPools
    private let resolver = HostResolver()

    /// `loop` must be running; its sweep interval is the resolution of the timeouts.
    public init(loop: EventLoop, tls: TLSOptions = .init(), timeouts: Timeouts = .init(), maxConnectionsPerHost: Int = 8) {
        self.loop = loop
        pools = HTTPPools(loop: loop, tls: tls, timeouts: timeouts, maxConnections: maxConnectionsPerHost)
    }

    /// Idle connections close with the client; requests in flight still finish.
    deinit {
        let pools = self.pools
        loop.execute { pools.shutDown() }
    }

    /// Sends one request; `completion` runs once, on the client's loop. Host names are resolved on
    /// the calling thread (getaddrinfo blocks), numeric addresses without a lookup. With
    /// `publicOnly` (URLs that API callers gave: webhooks) the address resolved now, the one the
    /// connection goes to, must be public (`PublicAddress`), so a name that re-resolves to a
    /// private address after it was checked (DNS rebinding) is refused; such requests use pools
    /// of their own, opened only to checked addresses. A `User-Agent` in `headers` replaces hubd's.
    public func request(_ method: String, _ url: URL, headers: [(String, String)] = [], body: [UInt8] = [],
                        publicOnly: Bool = false, completion: @escaping Completion)
    {
        let target: HTTPTarget
        do {
            target = try HTTPTarget(url: url, resolver: resolver, publicOnly: publicOnly)
        } catch {
            let failure = error as? TransportError ?? TransportError("\(error)")
            return loop.execute { completion(.failure(failure)) }
        }
        var head = "\(method) \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "user-agent" }) { head += "User-Agent: hubd\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + body
        let pools = self.pools
        loop.execute {
            let request = PendingHTTPRequest(bytes: bytes, expectsBody: method != "HEAD", completion: completion)
            pools.pool(for: target).enqueue(request)
        }
    }

    /// The same, for a caller that may block (tests, tools): waits for the completion.
    public func requestAndWait(_ method: String, _ url: URL, headers: [(String, String)] = [], body: [UInt8] = [])
        throws(TransportError) -> HTTPClientResponse
    {
        let done = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<HTTPClientResponse, TransportError>?>(nil)
        request(method, url, headers: headers, body: body) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}

/// Where a request goes: scheme, resolved address, and what the request line and Host header say.
struct HTTPTarget: Sendable {
    let key: String
    let host: String
    let hostHeader: String
    let address: SocketAddress
    let secure: Bool
    let path: String

    init(url: URL, resolver: HostResolver, publicOnly: Bool = false) throws {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw TransportError("unsupported URL \(url)")
        }
        secure = scheme == "https"
        let port = url.port ?? (secure ? 443 : 80)
        self.host = host
        hostHeader = url.port == nil ? host : "\(host):\(port)"
        key = "\(scheme)://\(host):\(port)" + (publicOnly ? " public" : "")
        address = try resolver.address(host: host, port: port)
        if publicOnly, let why = PublicAddress.refusal(address) {
            throw TransportError("refused: \(host) resolves to \(address.host), a \(why) address")
        }
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        self.path = path
    }
}

/// Every host's pool of the client. Touched only on the client's loop (reached through execute).
/// @unchecked Sendable: created on any thread, then used only on `loop`.
final class HTTPPools: @unchecked Sendable {
    let loop: EventLoop
    /// The TLS context for https targets, made with the client (or why it could not be).
    let tls: Result<TLSContext, TransportError>
    let timeouts: HTTPClient.Timeouts
    let maxConnections: Int
    private var pools: [String: HTTPHostPool] = [:]

    init(loop: EventLoop, tls: TLSOptions, timeouts: HTTPClient.Timeouts, maxConnections: Int) {
        self.loop = loop
        do {
            self.tls = .success(try TLSContext(options: tls))
        } catch {
            self.tls = .failure(error as? TransportError ?? TransportError("\(error)"))
        }
        self.timeouts = timeouts
        self.maxConnections = maxConnections
    }

    func pool(for target: HTTPTarget) -> HTTPHostPool {
        if let pool = pools[target.key] { return pool }
        let pool = HTTPHostPool(target: target, settings: self)
        pools[target.key] = pool
        return pool
    }

    /// The client is gone: idle connections close, and the host pools are let go (each holds its
    /// owner, so keeping them would keep everything, TLS context and CA store included: ASan's
    /// leak check found ~5 MB per client). Connections still busy keep their pool until they close.
    func shutDown() {
        for pool in pools.values { pool.closeIdle() }
        pools.removeAll()
    }
}

/// One host's connections: idle ones are reused (most recent first), at most `maxConnections`
/// open, and requests beyond that wait in order.
final class HTTPHostPool {
    private let target: HTTPTarget
    /// Loop, TLS, timeouts and limit (the pool outlives its client while connections are open).
    private let owner: HTTPPools
    private var idleConnections: [HTTPClientConnection] = []
    private var waiting: [PendingHTTPRequest] = []
    private var openCount = 0

    init(target: HTTPTarget, settings: HTTPPools) {
        self.target = target
        owner = settings
    }

    func closeIdle() {
        for connection in idleConnections { connection.close() }
    }

    var name: String { target.key }

    func enqueue(_ request: PendingHTTPRequest) {
        if let connection = idleConnections.popLast() {
            connection.start(request)
        } else if openCount < owner.maxConnections {
            open(with: request)
        } else {
            waiting.append(request)
        }
    }

    /// A connection finished its request and may serve another.
    func idle(_ connection: HTTPClientConnection) {
        if !waiting.isEmpty {
            connection.start(waiting.removeFirst())
        } else {
            idleConnections.append(connection)
        }
    }

    func closed(_ connection: HTTPClientConnection) {
        openCount -= 1
        idleConnections.removeAll { $0 === connection }
        if !waiting.isEmpty && openCount < owner.maxConnections { open(with: waiting.removeFirst()) }
    }

    private func open(with request: PendingHTTPRequest) {
        do {
            let session = try target.secure ? TLSSession(host: target.host, context: owner.tls.get()) : nil
            let handler = HTTPClientConnection(pool: self, tls: session, timeouts: owner.timeouts)
            handler.start(request)
            let (socket, _) = try Socket.connect(to: target.address)
            // Counted before adopting: a handshake that fails at once reports the close inside adopt.
            openCount += 1
            do {
                try owner.loop.adopt(socket, remote: target.address, outboundLimit: 4 << 20, handler: handler)
            } catch {
                openCount -= 1
                socket.close()
                throw error
            }
        } catch let error as TransportError {
            request.completion(.failure(error))
        } catch {
            request.completion(.failure(TransportError("cannot connect to \(target.key): \(error)")))
        }
    }
}
