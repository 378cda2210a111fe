import Hub
import Foundation
import Synchronization

/// Token buckets per caller (IP for anonymous callers, user, service key), sharded so loops and
/// tasks rarely meet on one lock. Each bucket holds `limit` tokens and refills over `period`.
public final class RateLimiter: Sendable {
    public struct Decision: Sendable {
        public let allowed: Bool
        public let limit: Int
        public let remaining: Int
        /// Unix time at which the bucket is full again.
        public let resetEpoch: Int64
        /// Seconds until one more request is allowed (for `Retry-After`).
        public let retryAfter: Int
        /// The bucket's period, seconds (`X-RateLimit-Window`).
        public var window = 0
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private final class Shard: Sendable {
        let buckets = Locked<[String: Bucket]>([:])
    }

    private let shards: [Shard]

    public init(shardCount: Int = 16) {
        shards = (0..<shardCount).map { _ in Shard() }
    }

    /// The bucket as `take` would find it, without taking from it.
    public func peek(_ key: String, limit: Int, period: Double, now: Double = Date().timeIntervalSince1970) -> Decision {
        take(key, limit: limit, period: period, now: now, consume: false)
    }

    public func take(_ key: String, limit: Int, period: Double, now: Double = Date().timeIntervalSince1970,
                     consume: Bool = true) -> Decision
    {
        let rate = Double(limit) / period
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(limit), updated: now)
            bucket.tokens = min(Double(limit), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed && consume { bucket.tokens -= 1 }
            buckets[key] = bucket
            if buckets.count > 100_000 { buckets = buckets.filter { now - $0.value.updated < period } }
            let missing = Double(limit) - bucket.tokens
            var decision = Decision(allowed: allowed, limit: limit, remaining: Int(bucket.tokens.rounded(.down)),
                                    resetEpoch: Int64((now + missing / rate).rounded(.up)),
                                    retryAfter: allowed ? 0 : max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))))
            decision.window = Int(period)
            return decision
        }
    }
}
