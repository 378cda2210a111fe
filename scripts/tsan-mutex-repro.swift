// Shows why ThreadSanitizer reports "Swift access race" inside `Synchronization.Mutex.withLock` on
// Linux: a contended Mutex takes and releases its lock in the kernel (FUTEX_LOCK_PI /
// FUTEX_UNLOCK_PI in libswiftSynchronization's _lockSlow/_unlockSlow), which TSan cannot see, so it
// finds no happens-before edge between two critical sections. Only the uncontended path (an
// inlined compare-exchange) is visible to it. Four threads below share one Mutex correctly; TSan
// still reports races:
//   swiftc -sanitize=thread -g scripts/tsan-mutex-repro.swift -o /tmp/tsan-mutex && /tmp/tsan-mutex
import Foundation
import Synchronization

final class Shared: Sendable {
    let numbers = Mutex<[Int]>([])
}

let shared = Shared()
let group = DispatchGroup()
for thread in 0..<4 {
    group.enter()
    Thread.detachNewThread {
        for index in 0..<20_000 {
            shared.numbers.withLock { numbers in
                numbers.append(index + thread)
                if numbers.count > 100 { numbers.removeFirst(50) }
            }
        }
        group.leave()
    }
}
group.wait()
print("done:", shared.numbers.withLock { $0.count }, "numbers left")
