import CHubSystem
import Glibc

/// What a registration wants to hear about.
public struct Interest: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Interest(rawValue: 1)
    public static let write = Interest(rawValue: 2)
}

/// A registration: the descriptor and a generation packed into epoll's 64-bit user data, so the
/// events of a closed socket are never delivered to a newer one that reuses its descriptor number.
struct RegistrationID: Hashable {
    let fd: Int32
    let generation: UInt32

    init(fd: Int32, generation: UInt32) {
        self.fd = fd
        self.generation = generation
    }

    init(packed: UInt64) {
        fd = Int32(truncatingIfNeeded: packed & 0xFFFF_FFFF)
        generation = UInt32(truncatingIfNeeded: packed >> 32)
    }

    var packed: UInt64 { UInt64(UInt32(bitPattern: fd)) | UInt64(generation) << 32 }
}

/// The only owner of epoll: register, modify, deregister, and wait for readiness.
/// Level-triggered; EPOLLERR and EPOLLHUP are reported as both readable and writable.
final class SelectorEpoll {
    private let epfd: Int32
    private let events: UnsafeMutablePointer<epoll_event>
    private let capacity: Int

    init(capacity: Int = 1024) throws(SystemError) {
        epfd = try sysCallValue("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        self.capacity = capacity
        events = .allocate(capacity: capacity)
    }

    deinit {
        events.deallocate()
        close(epfd)
    }

    private static func mask(_ interest: Interest) -> UInt32 {
        var mask: UInt32 = 0
        if interest.contains(.read) { mask |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if interest.contains(.write) { mask |= EPOLLOUT.rawValue }
        return mask
    }

    func register(fd: Int32, id: RegistrationID, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd: fd, id: id, interest: interest)
    }

    func modify(fd: Int32, id: RegistrationID, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd: fd, id: id, interest: interest)
    }

    func deregister(fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event)
    }

    private func control(_ op: Int32, fd: Int32, id: RegistrationID, interest: Interest) throws(SystemError) {
        var event = epoll_event()
        event.events = Self.mask(interest)
        event.data.u64 = id.packed
        _ = try sysCallValue("epoll_ctl") { epoll_ctl(epfd, op, fd, &event) }
    }

    /// Waits up to `timeoutMillis` (-1: forever) and calls `body` once per ready registration.
    func wait(timeoutMillis: Int32, _ body: (RegistrationID, _ readable: Bool, _ writable: Bool) -> Void) throws(SystemError) {
        let count: Int32
        switch try sysCall("epoll_wait", { epoll_wait(epfd, events, Int32(capacity), timeoutMillis) }) {
        case .done(let n): count = n
        case .wouldBlock: return
        }
        let errorMask = EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue
        for index in 0..<Int(count) {
            let event = events[index]
            let flags = event.events
            let failed = flags & errorMask != 0
            body(RegistrationID(packed: event.data.u64), flags & EPOLLIN.rawValue != 0 || failed,
                 flags & EPOLLOUT.rawValue != 0 || failed)
        }
    }
}
