import Channels
import Foundation
import Hub
import Synchronization

/// The cluster's `ChannelBus` on PostgreSQL (docs/bus.md). What a node shares is queued and
/// written by a writer thread (`BusWriter`, one transaction per flush: a burst costs one statement,
/// not one per message); event batches write their own row inside the event statement. Each node
/// reads the other nodes' rows on a thread of its own (`BusReader`) over a direct connection that
/// LISTENs for an empty NOTIFY, in commit order, with a poll backstop. The writer also keeps this
/// node's lease on PostgreSQL's clock and ends the leases of dead nodes.
public final class PostgresBus: ChannelBus, Sendable {
    public struct Settings: Sendable {
        public var url: String
        public var nodeID: String
        /// A node whose lease is not renewed for this long is gone (its presence ends).
        public var leaseMillis: Int64 = 15_000
        /// The poll backstop while LISTEN works (a missed wake-up waits at most this long).
        public var pollMillis: Int64 = 1_000
        /// False: never LISTEN, poll every `fallbackPollMillis` (behind a transaction-mode pooler).
        public var listen = true
        public var fallbackPollMillis: Int64 = 100
        /// Rows older than this are pruned (a node away longer catches up from notifications'
        /// history when its clients resume, not from the bus).
        public var retentionSeconds = 600
        /// Items waiting for PostgreSQL at most (while it is down); the oldest go first past it.
        public var maxQueued = 200_000
        /// This node's hubd version, written with its lease (the console's nodes).
        public var version = ""

        public init(url: String, nodeID: String) {
            self.url = url
            self.nodeID = nodeID
        }
    }

    public enum Mode: String, Sendable {
        case starting, listening, polling, disconnected, stopped
    }

    /// A node holding a lease, as of its last renewal (every third of a lease).
    public struct Peer: Sendable {
        public let nodeID: String
        public let address: String?
        public let leaseLeftMillis: Int64
        public var version = ""
        public var sessions = 0
        public var busLagMillis: Int64 = 0
    }

    public struct Status: Sendable {
        public let nodeID: String
        public let mode: Mode
        public let lagMillis: Int64
        public let messagesIn: Int
        public let messagesOut: Int
        public let peers: [Peer]
    }

    public let settings: Settings
    let logger: Logger
    private let receiver = Locked<(@Sendable (BusItem) -> Void)?>(nil)
    private let queue = Locked<(items: [BusItem], count: Int, stopped: Bool)>(([], 0, false))
    let wake = DispatchSemaphore(value: 0)
    let stopping = Atomic<Bool>(false)
    private let counters = Locked<(into: Int, out: Int, lag: Int64, mode: Mode, peers: [Peer])>((0, 0, 0, .starting, []))
    /// The seam for per-cluster presence hooks (webhooks): called on the one node whose statement
    /// made a user come online (first node) or go offline (last node) for the whole cluster.
    public let onTransitions = Locked<(@Sendable (_ online: [Int64], _ offline: [Int64]) -> Void)?>(nil)
    private let running = Atomic<Int>(0)
    private let hubBox = Locked<ChannelHub?>(nil)
    /// How operators reach this node (host:port, shown in the peers of health).
    let address = Locked<String?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    // MARK: ChannelBus

    public func share(_ item: BusItem) {
        let dropped = queue.withLock { state -> Int in
            guard !state.stopped else { return 0 }
            state.items.append(item)
            state.count += 1
            var dropped = 0
            while state.count > settings.maxQueued, !state.items.isEmpty {
                state.items.removeFirst()
                state.count -= 1
                dropped += 1
            }
            return dropped
        }
        if dropped > 0 { logger.warning("bus queue full: oldest entries dropped", [("dropped", .int(Int64(dropped)))]) }
        wake.signal()
    }

    public func attach(_ receive: @escaping @Sendable (BusItem) -> Void) {
        receiver.withLock { $0 = receive }
    }

    /// Hands what another node shared (or what this node decided for the cluster) to the hub.
    func deliver(_ items: [BusItem]) {
        guard let receive = receiver.withLock({ $0 }) else { return }
        for item in items { receive(item) }
    }

    /// What waits to be written, taken by the writer (put back in front when the write failed).
    func takeQueued() -> [BusItem] {
        queue.withLock { state in
            defer { state.items = []; state.count = 0 }
            return state.items
        }
    }

    func putBack(_ items: [BusItem]) {
        queue.withLock { state in
            state.items = items + state.items
            state.count += items.count
        }
    }

    // MARK: Status

    public var status: Status {
        counters.withLock { counters in
            Status(nodeID: settings.nodeID, mode: counters.mode, lagMillis: counters.lag, messagesIn: counters.into,
                   messagesOut: counters.out, peers: counters.peers)
        }
    }

    func counted(in rows: Int = 0, out: Int = 0, lag: Int64? = nil) {
        counters.withLock { counters in
            counters.into += rows
            counters.out += out
            if let lag { counters.lag = lag }
        }
    }

    /// An event batch wrote its bus row (inside the event statement).
    public func countEventBatch() { counted(out: 1) }

    func set(mode: Mode) { counters.withLock { $0.mode = mode } }
    func set(peers: [Peer]) { counters.withLock { $0.peers = peers } }

    // MARK: Life

    /// Registers the node (after the migrations), learns the other nodes' presence, and starts
    /// the writer and the reader. Throws when PostgreSQL cannot be reached.
    public func start(hub: ChannelHub, address: String? = nil) throws {
        hubBox.withLock { $0 = hub }
        self.address.withLock { $0 = address }
        let writer = BusWriter(bus: self)
        let horizon = try writer.register()
        let reader = BusReader(bus: self, horizon: horizon)
        let threads = [Thread { writer.run() }, Thread { reader.run() }]
        threads[0].name = "hub-bus-writer"
        threads[1].name = "hub-bus-reader"
        running.store(threads.count, ordering: .sequentiallyConsistent)
        for thread in threads { thread.start() }
    }

    /// SIGTERM: writes what is queued, says this node is gone (its presence ends at once on the
    /// other nodes), and stops the threads. Nothing shared afterwards is written.
    public func stop() {
        queue.withLock { $0.stopped = true }
        let running = running.load(ordering: .sequentiallyConsistent)
        guard running > 0 else { return }
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
        for _ in 0..<running { _ = finished.wait(timeout: .now() + 3) }
        set(mode: .stopped)
    }

    func threadFinished() { finished.signal() }

    /// Does this node have sessions for `target` (the reader builds pushes only for those)?
    func hasSessions(for target: ChannelTarget) -> Bool {
        hubBox.withLock { $0 }?.hasSessions(for: target) ?? false
    }

    /// This node's sessions now (written with its lease).
    var sessionCount: Int { hubBox.withLock { $0 }?.sessionCount ?? 0 }

    /// This node's lease had ended while it was alive: its presence was removed, so it says it
    /// all again.
    func shareAllPresence() {
        hubBox.withLock { $0 }?.shareAllPresence(node: settings.nodeID)
    }

    /// Calls the presence hook, if any, with a statement's transitions.
    func transitions(online: [Int64], offline: [Int64]) {
        guard !online.isEmpty || !offline.isEmpty, let hook = onTransitions.withLock({ $0 }) else { return }
        hook(online, offline)
    }
}
