import Glibc

/// A value behind a pthread mutex, the project's lock. It stands where Synchronization's `Mutex`
/// would: on Linux a contended `Mutex` hands over in the kernel (priority-inheritance futexes),
/// which ThreadSanitizer cannot see, so it reported races between the critical sections of one
/// lock (`scripts/tsan-mutex-repro.swift`); it does see pthread mutexes. Same shape as `Mutex`.
/// @unchecked Sendable: `value` is touched only inside `withLock`, while `mutex` is held.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ initialValue: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        value = initialValue
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
