import Glibc

/// An errno from a system call, with the call's name so a log line says what failed.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let code: Int32

    public var description: String { "\(call): \(String(cString: strerror(code))) (errno \(code))" }
}

/// The outcome of a non-blocking call: done with a value, or the kernel would block.
public enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

/// Every libc call of Hub goes through here: EINTR is retried, EAGAIN becomes `.wouldBlock`,
/// EBADF and EFAULT are bugs of ours and crash, anything else is thrown with the call's name.
@inline(__always)
func sysCall<T: FixedWidthInteger>(_ name: StaticString, _ body: () -> T) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .done(result) }
        let code = errno
        switch code {
        case EINTR:
            continue
        case EAGAIN, EWOULDBLOCK:
            return .wouldBlock
        case EBADF, EFAULT:
            preconditionFailure("\(name) failed with errno \(code): a descriptor or pointer bug in Hub")
        default:
            throw SystemError(call: "\(name)", code: code)
        }
    }
}

/// For calls that never answer EAGAIN (socket, bind, epoll_ctl…): the value or a thrown error.
@inline(__always)
func sysCallValue<T: FixedWidthInteger>(_ name: StaticString, _ body: () -> T) throws(SystemError) -> T {
    switch try sysCall(name, body) {
    case .done(let value): return value
    case .wouldBlock: throw SystemError(call: "\(name)", code: EAGAIN)
    }
}
