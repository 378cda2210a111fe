import CHubSystem
import Glibc

/// A non-blocking eventfd: other threads write to it to wake an event loop out of `epoll_wait`.
final class EventFD {
    let fd: Int32

    init() throws(SystemError) {
        fd = try sysCallValue("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// Safe from any thread; a full counter (EAGAIN) already means "wake up".
    func signal() {
        var one: UInt64 = 1
        _ = try? sysCall("write(eventfd)") { write(fd, &one, 8) }
    }

    /// Called by the loop; resets the counter.
    func drain() {
        var value: UInt64 = 0
        _ = try? sysCall("read(eventfd)") { read(fd, &value, 8) }
    }

    deinit { close(fd) }
}
