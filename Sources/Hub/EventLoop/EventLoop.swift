import Foundation
import Glibc
import Synchronization

/// One thread, one epoll instance, its own listeners and connections. Other threads reach it only
/// through `execute`, which queues a task and wakes the loop with an eventfd.
/// @unchecked Sendable: `inbox` is guarded by a Mutex and `wakeup` is thread-safe; every other
/// property is touched only by the loop's own thread.
public final class EventLoop: @unchecked Sendable {
    public let index: Int
    /// Monotonic milliseconds, read from `clock` once per wake-up.
    public private(set) var now: Int64
    /// Where `now` comes from: the monotonic clock, or a manual one in tests.
    public let clock: LoopClock
    /// Per-loop storage for the HTTP `Date` header, refreshed at most once a second.
    var dateCache = HTTPDateCache()

    let selector: SelectorEpoll
    private let wakeup: EventFD
    private let inbox = Locked<(tasks: [@Sendable () -> Void], wakePending: Bool)>(([], false))
    private var localTasks: [() -> Void] = []
    private var timers = TimerHeap()
    private var connections: [Connection?] = []
    private var active: [Connection] = []
    private var flushList: [Connection] = []
    private var listeners: [Listener] = []
    private var generation: UInt32 = 0
    private var nextSweep: Int64 = 0
    /// How often connection deadlines are checked: the resolution of every connection timeout.
    public var sweepIntervalMillis: Int64 = 1000
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// The loop thread's pthread id (0 before it runs). Atomic: `execute` reads it from any thread
    /// while the loop thread sets it as it starts (a data race TSan found when it was a plain var).
    private let threadID = Atomic<UInt>(0)
    private var stopping = false
    private var stopDeadline: Int64 = .max
    private let finished = DispatchSemaphore(value: 0)

    /// Tasks drained from the inbox per tick, so a flood of cross-thread work cannot starve I/O.
    static let tasksPerTick = 4096

    private let name: String

    /// `name` names the thread (default `hub-loop-<index>`); `clock` is where time is read.
    public init(index: Int, name: String? = nil, clock: LoopClock = .monotonic) throws(SystemError) {
        self.index = index
        self.name = name ?? "hub-loop-\(index)"
        self.clock = clock
        selector = try SelectorEpoll()
        wakeup = try EventFD()
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        now = clock.nowMillis()
        try selector.register(fd: wakeup.fd, id: RegistrationID(fd: wakeup.fd, generation: 0), interest: .read)
    }

    deinit { readBuffer.deallocate() }

    /// True on the loop's own thread.
    public var inEventLoop: Bool {
        let owner = threadID.load(ordering: .acquiring)
        return owner != 0 && pthread_equal(owner, pthread_self()) != 0
    }

    // MARK: Cross-thread work

    /// Runs `task` on the loop thread, soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        if inEventLoop {
            localTasks.append(task)
            return
        }
        let shouldWake = inbox.withLock { state -> Bool in
            state.tasks.append(task)
            if state.wakePending { return false }
            state.wakePending = true
            return true
        }
        if shouldWake { wakeup.signal() }
    }

    /// Loop thread only: runs `task` after the current batch of events, without any lock.
    public func enqueueLocal(_ task: @escaping () -> Void) {
        localTasks.append(task)
    }

    /// Loop thread only: runs `task` once, about `millis` from now. For rare timers (grace
    /// periods, retries), not per-message timeouts: those use connection deadlines and the sweep.
    @discardableResult
    public func schedule(afterMillis millis: Int64, _ task: @escaping () -> Void) -> TimerHeap.TimerID {
        timers.insert(deadline: now + millis, task)
    }

    public func cancel(_ timer: TimerHeap.TimerID) {
        timers.cancel(timer)
    }

    // MARK: Listeners and connections

    /// Adds a listener before `start()`; accepted sockets get the handler `makeHandler` builds.
    func addListener(_ listener: Listener) throws(SystemError) {
        try listener.socket.withUnsafeFD { fd throws(SystemError) in
            try selector.register(fd: fd, id: RegistrationID(fd: fd, generation: 0), interest: .read)
        }
        listeners.append(listener)
    }

    /// Adopts a socket as a connection of this loop (accepted here, or connected by a client).
    @discardableResult
    public func adopt(_ socket: Socket, remote: SocketAddress, outboundLimit: Int,
                      limiter: ConnectionLimiter? = nil, handler: ConnectionHandler) throws(SystemError) -> Connection {
        generation = generation &+ 1
        if generation == 0 { generation = 1 }
        let fd = socket.withUnsafeFD { $0 }
        let id = RegistrationID(fd: fd, generation: generation)
        let connection = Connection(socket: socket, id: id, remote: remote, loop: self, handler: handler,
                                    outboundLimit: outboundLimit, limiter: limiter)
        try selector.register(fd: fd, id: id, interest: .read)
        let slot = Int(fd)
        if slot >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: max(slot + 1 - connections.count, connections.count)))
        }
        connections[slot] = connection
        connection.activeIndex = active.count
        active.append(connection)
        handler.connectionOpened(connection)
        return connection
    }

    func connection(for id: RegistrationID) -> Connection? {
        let slot = Int(id.fd)
        guard slot < connections.count, let connection = connections[slot], connection.id == id else { return nil }
        return connection
    }

    public var connectionCount: Int { active.count }

    /// Loop thread only: every open connection of this loop (for periodic work such as heartbeats).
    public func forEachConnection(_ body: (Connection) -> Void) {
        for connection in active { body(connection) }
    }

    func remove(_ connection: Connection) {
        let slot = Int(connection.id.fd)
        if slot < connections.count, connections[slot] === connection { connections[slot] = nil }
        let index = connection.activeIndex
        if index >= 0 {
            let last = active.removeLast()
            if index < active.count {
                active[index] = last
                last.activeIndex = index
            }
            connection.activeIndex = -1
        }
        connection.limiter?.release()
    }

    func needsFlush(_ connection: Connection) {
        flushList.append(connection)
    }

    // MARK: Running

    /// Starts the loop's thread.
    public func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Asks the loop to stop: listeners close, every connection's handler is asked to finish,
    /// and after `graceMillis` whatever is left is closed. Returns at once; see `waitUntilStopped`.
    public func stop(graceMillis: Int64) {
        execute { [self] in
            stopping = true
            stopDeadline = now + graceMillis
            for listener in listeners { listener.close(selector: selector) }
            listeners.removeAll()
            for connection in active { connection.handler.shutdownRequested(connection) }
        }
    }

    public func waitUntilStopped() {
        finished.wait()
    }

    private func run() {
        threadID.store(pthread_self(), ordering: .releasing)
        while true {
            flushPending()
            if stopping && (active.isEmpty || now >= stopDeadline) { break }
            turn(timeoutMillis: nextTimeout())
        }
        while let connection = active.last { connection.close() }
        finished.signal()
    }

    /// One turn after writing: wait for events (at most `timeoutMillis`), read the clock once, then
    /// cross-thread tasks, local tasks, due timers, and the sweep if it is due.
    private func turn(timeoutMillis: Int32) {
        do {
            try selector.wait(timeoutMillis: timeoutMillis) { id, readable, writable in
                handleEvent(id: id, readable: readable, writable: writable)
            }
        } catch {
            fatalError("event loop \(index): \(error)")
        }
        now = clock.nowMillis()
        runInbox()
        runLocalTasks()
        for task in timers.popExpired(now: now) { task() }
        if now >= nextSweep { sweep() }
    }

    /// Runs one whole turn on the calling thread, for tests that drive a loop which was never
    /// started (as NIO's `EmbeddedEventLoop.run()`): queued writes, then events ready within
    /// `timeoutMillis`, tasks, timers and the sweep. Never call it on a started loop.
    public func runOnce(timeoutMillis: Int32 = 0) {
        if threadID.load(ordering: .acquiring) == 0 { threadID.store(pthread_self(), ordering: .releasing) }
        precondition(inEventLoop, "runOnce drives a loop that was not started, on one thread")
        flushPending()
        turn(timeoutMillis: timeoutMillis)
    }

    /// Wakes the loop so that it reads its clock again (after a `ManualClock` moved). Any thread.
    public func wakeUp() {
        execute {}
    }

    private func nextTimeout() -> Int32 {
        if !localTasks.isEmpty || !flushList.isEmpty { return 0 }
        var until = nextSweep - now
        if let next = timers.nextDeadline { until = min(until, next - now) }
        if stopping { until = min(until, 50) }
        return Int32(clamping: max(0, until))
    }

    func handleEvent(id: RegistrationID, readable: Bool, writable: Bool) {
        if id.generation == 0 {
            if id.fd == wakeup.fd {
                wakeup.drain()
            } else if let listener = listeners.first(where: { $0.fd == id.fd }) {
                listener.acceptAll(on: self)
            }
            return
        }
        guard let connection = connection(for: id) else { return }
        if readable { connection.readable(into: readBuffer) }
        if writable, connection.connectionIsRegistered { connection.writable() }
    }

    /// Writes every connection with queued bytes, `flushSlice` at a time. Between slices, work
    /// that arrived from other threads meanwhile (the next publishes of a burst) is taken in, so
    /// its frames join the connections not yet written and one write carries several messages.
    /// Nothing waits for that: an idle inbox costs one lock per slice.
    private func flushPending() {
        while !flushList.isEmpty {
            let batch = flushList
            flushList.removeAll(keepingCapacity: true)
            var start = 0
            while start < batch.count {
                let end = min(batch.count, start + Self.flushSlice)
                for connection in batch[start..<end] where connection.awaitingFlush { connection.flush() }
                start = end
                if start < batch.count, inbox.withLock({ !$0.tasks.isEmpty }) { runInbox() }
            }
        }
    }

    /// Connections written between two looks at the inbox (a few milliseconds of writes).
    static let flushSlice = 256

    private func runInbox() {
        let tasks = inbox.withLock { state -> [@Sendable () -> Void] in
            state.wakePending = false
            if state.tasks.count <= Self.tasksPerTick {
                defer { state.tasks.removeAll(keepingCapacity: true) }
                return state.tasks
            }
            let batch = Array(state.tasks.prefix(Self.tasksPerTick))
            state.tasks.removeFirst(Self.tasksPerTick)
            state.wakePending = true
            return batch
        }
        for task in tasks { task() }
        if tasks.count == Self.tasksPerTick { localTasks.append {} }
    }

    private func runLocalTasks() {
        guard !localTasks.isEmpty else { return }
        let tasks = localTasks
        localTasks.removeAll()
        for task in tasks { task() }
    }

    /// The coarse timer: once a second, every connection whose deadline passed is told so.
    private func sweep() {
        nextSweep = now + sweepIntervalMillis
        var index = 0
        while index < active.count {
            let connection = active[index]
            connection.sweep(now: now)
            if index < active.count && active[index] === connection { index += 1 }
        }
        for listener in listeners { listener.resumeIfPaused(on: self) }
    }
}

extension Connection {
    var connectionIsRegistered: Bool {
        if case .closed = state { return false }
        return true
    }
}
