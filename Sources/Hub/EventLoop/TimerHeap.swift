/// A small binary min-heap of one-shot tasks for the few timers a loop needs beyond the sweep.
public struct TimerHeap {
    public struct TimerID: Hashable, Sendable { let sequence: UInt64 }

    private struct Entry {
        let deadline: Int64
        let sequence: UInt64
        let task: () -> Void
    }

    private var heap: [Entry] = []
    private var cancelled: Set<UInt64> = []
    private var sequence: UInt64 = 0

    public var nextDeadline: Int64? { heap.first?.deadline }

    mutating func insert(deadline: Int64, _ task: @escaping () -> Void) -> TimerID {
        sequence += 1
        heap.append(Entry(deadline: deadline, sequence: sequence, task: task))
        siftUp(heap.count - 1)
        return TimerID(sequence: sequence)
    }

    mutating func cancel(_ id: TimerID) {
        if heap.contains(where: { $0.sequence == id.sequence }) { cancelled.insert(id.sequence) }
    }

    /// Removes and returns the tasks that are due; the caller runs them once this returns, so a
    /// task may schedule or cancel timers without touching the heap while it is being changed.
    mutating func popExpired(now: Int64) -> [() -> Void] {
        var due: [() -> Void] = []
        while let first = heap.first, first.deadline <= now {
            let entry = popFirst()
            if cancelled.remove(entry.sequence) == nil { due.append(entry.task) }
        }
        return due
    }

    private mutating func popFirst() -> Entry {
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].deadline < heap[b].deadline || (heap[a].deadline == heap[b].deadline && heap[a].sequence < heap[b].sequence)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && less(left, smallest) { smallest = left }
            if right < heap.count && less(right, smallest) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
