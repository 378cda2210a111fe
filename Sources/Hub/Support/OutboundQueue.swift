import CHubSystem
import Glibc

/// The bytes a connection still has to write, counted in bytes so limits are real.
/// Chunks are shared buffers; a partially written head chunk keeps an offset, not a copy.
struct OutboundQueue {
    private var chunks: [SharedBytes] = []
    private var head = 0
    private var headOffset = 0
    private(set) var byteCount = 0

    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ bytes: SharedBytes) {
        guard bytes.count > 0 else { return }
        chunks.append(bytes)
        byteCount += bytes.count
    }

    mutating func removeAll() {
        chunks = []
        head = 0
        headOffset = 0
        byteCount = 0
    }

    /// Writes as much as the kernel takes with one `writev` per batch of up to 64 chunks, at most
    /// `budget` bytes, so one fast reader cannot starve the loop. Returns bytes written.
    mutating func flush(to socket: Socket, budget: Int) throws(SystemError) -> Int {
        var written = 0
        while byteCount > 0 && written < budget {
            let batch = min(chunks.count - head, 64)
            if batch == 1 {
                // One chunk (the common case of one response): plain send, cheaper than writev.
                let chunk = chunks[head]
                let result = try socket.write(UnsafeRawBufferPointer(start: chunk.base + headOffset,
                                                                     count: chunk.count - headOffset))
                guard case .done(let count) = result else { break }
                consume(count)
                written += count
                if count == 0 { break }
                continue
            }
            let result = try withUnsafeTemporaryAllocation(of: iovec.self, capacity: batch) { vectors throws(SystemError) in
                for index in 0..<batch {
                    let chunk = chunks[head + index]
                    let skip = index == 0 ? headOffset : 0
                    vectors[index] = iovec(iov_base: chunk.base + skip, iov_len: chunk.count - skip)
                }
                return try socket.writev(vectors.baseAddress!, count: batch)
            }
            guard case .done(let count) = result else { break }
            consume(count)
            written += count
            if count == 0 { break }
        }
        compactIfNeeded()
        return written
    }

    private mutating func consume(_ count: Int) {
        var left = count
        byteCount -= count
        while left > 0 {
            let available = chunks[head].count - headOffset
            if left >= available {
                left -= available
                head += 1
                headOffset = 0
            } else {
                headOffset += left
                left = 0
            }
        }
    }

    private mutating func compactIfNeeded() {
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: chunks.count <= 16)
            head = 0
        } else if head > 32 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
