import Foundation

/// A listening server: one event loop per thread, each with its own `SO_REUSEPORT` listener on the
/// same port, so the kernel spreads new connections across loops with no shared accept lock.
public final class Server: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var threads: Int
        public var maxConnections: Int
        /// Bytes a connection may have queued before its handler is told it is over the limit.
        public var outboundLimit: Int
        /// Resolution of connection timeouts (the loops' coarse sweep).
        public var sweepIntervalMillis: Int64 = 1000
        /// Where the loops read the time (a manual clock in deadline tests).
        public var clock: LoopClock = .monotonic

        public init(host: String = "0.0.0.0", port: Int = 8000, threads: Int = System.coreCount,
                    maxConnections: Int = 100_000, outboundLimit: Int = 4 * 1024 * 1024)
        {
            self.host = host
            self.port = port
            self.threads = threads
            self.maxConnections = maxConnections
            self.outboundLimit = outboundLimit
        }
    }

    public let loops: [EventLoop]
    /// The bound port (the kernel's choice when configured with port 0).
    public let port: Int
    public let limiter: ConnectionLimiter

    /// Binds every loop's listener; `makeHandler` runs on the accepting loop for each new connection.
    public init(configuration: Configuration,
                makeHandler: @escaping @Sendable (EventLoop) -> ConnectionHandler,
                onAcceptError: @escaping @Sendable (SystemError) -> Void = { _ in }) throws(SystemError)
    {
        let limiter = ConnectionLimiter(limit: configuration.maxConnections)
        var loops: [EventLoop] = []
        var port = configuration.port
        for index in 0..<max(1, configuration.threads) {
            let loop = try EventLoop(index: index, clock: configuration.clock)
            loop.sweepIntervalMillis = configuration.sweepIntervalMillis
            let socket = try Socket.listen(host: configuration.host, port: port)
            if port == 0 {
                do { port = try socket.localPort() } catch { socket.close(); throw error }
            }
            let listener = Listener(socket: socket, limiter: limiter, outboundLimit: configuration.outboundLimit,
                                    makeHandler: { [unowned loop] in makeHandler(loop) }, onAcceptError: onAcceptError)
            try loop.addListener(listener)
            loops.append(loop)
        }
        self.loops = loops
        self.port = port
        self.limiter = limiter
    }

    public func start() {
        for loop in loops { loop.start() }
    }

    /// Stops accepting, asks every connection to finish, and returns when all loops have stopped.
    public func stop(graceMillis: Int64 = 5000) {
        for loop in loops { loop.stop(graceMillis: graceMillis) }
        for loop in loops { loop.waitUntilStopped() }
    }
}

public enum System {
    /// Cores this process may run on.
    public static var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}
