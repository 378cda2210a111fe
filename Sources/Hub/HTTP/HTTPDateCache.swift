/// The `Date` header value, formatted at most once a second per loop.
struct HTTPDateCache {
    private var second: Int64 = -1
    private var value: [UInt8] = []

    mutating func current() -> [UInt8] {
        let now = WallClock.nowMillis() / 1000
        if now != second {
            second = now
            value = Array(WallClock.httpDate(seconds: now).utf8)
        }
        return value
    }
}
