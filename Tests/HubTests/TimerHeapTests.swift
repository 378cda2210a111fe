import Testing
@testable import Hub

@Suite struct TimerHeapTests {
    @Test func dueTasksInDeadlineOrderAndCancellation() {
        var heap = TimerHeap()
        var fired: [Int] = []
        _ = heap.insert(deadline: 30) { fired.append(3) }
        _ = heap.insert(deadline: 10) { fired.append(1) }
        let cancelled = heap.insert(deadline: 20) { fired.append(2) }
        _ = heap.insert(deadline: 40) { fired.append(4) }
        heap.cancel(cancelled)
        for task in heap.popExpired(now: 30) { task() }
        #expect(fired == [1, 3])
        #expect(heap.nextDeadline == 40)
    }

    @Test func aTaskMayScheduleAnotherWhileTheHeapIsNotBorrowed() {
        var heap = TimerHeap()
        var fired = 0
        _ = heap.insert(deadline: 1) { fired += 1 }
        let due = heap.popExpired(now: 1)
        _ = heap.insert(deadline: 2) { fired += 10 }
        for task in due { task() }
        for task in heap.popExpired(now: 2) { task() }
        #expect(fired == 11)
    }
}
