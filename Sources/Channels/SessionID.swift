/// 96 random bits naming a session in `connected` and in presence. Kept as two integers (no
/// string per idle session); the hex text is built only when a message needs it.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    let high: UInt64
    let low: UInt32

    public init(high: UInt64, low: UInt32) {
        self.high = high
        self.low = low
    }

    public static func random() -> SessionID {
        SessionID(high: UInt64.random(in: 0...UInt64.max), low: UInt32.random(in: 0...UInt32.max))
    }

    /// The form clients see (the hex of each half, as earlier versions sent it).
    public var description: String { String(high, radix: 16) + String(low, radix: 16) }
}
