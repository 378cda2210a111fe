/// Immutable bytes with a stable address, shared by reference: a frame encoded once is queued on
/// every recipient's connection without a copy. Safe to share across threads because it never
/// changes after `init` returns.
public final class SharedBytes: @unchecked Sendable {
    public let count: Int
    let base: UnsafeMutableRawPointer

    /// Allocates `count` bytes and lets `fill` write all of them, once.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) {
        self.count = count
        base = .allocate(byteCount: max(count, 1), alignment: 16)
        fill(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    public convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count) { target in
            bytes.withUnsafeBytes { source in target.copyMemory(from: source) }
        }
    }

    public convenience init(_ text: String) {
        self.init(Array(text.utf8))
    }

    deinit { base.deallocate() }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public var array: [UInt8] { withUnsafeBytes { Array($0) } }
}
