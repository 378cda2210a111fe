/// A token bucket for one session's client messages, in 16 bytes: `burst` tokens refilled at
/// `perSecond`; each refusal is a strike (the session closes with 4429 after enough of them).
struct RateBucket {
    var tokens: Float
    var strikes: UInt32 = 0
    var updated: Int64 = 0

    init(tokens: Float) {
        self.tokens = tokens
    }

    /// Takes one token at `now` (monotonic milliseconds); false, and one more strike, if empty.
    mutating func take(now: Int64, perSecond: Double, burst: Double) -> Bool {
        let elapsed = Float(max(0, now - updated)) / 1000
        updated = now
        tokens = min(Float(burst), tokens + elapsed * Float(perSecond))
        if tokens >= 1 {
            tokens -= 1
            return true
        }
        strikes &+= 1
        return false
    }
}
