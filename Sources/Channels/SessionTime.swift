/// The two clocks a session reads, passed in by whoever drives it: monotonic milliseconds for
/// deadlines (auth, heartbeat, the resume window) and wall milliseconds for envelope timestamps
/// and token expiry. The adapter reads the loop's clock; tests pass a fake one.
struct SessionTime: Sendable, Equatable {
    var monotonicMillis: Int64
    var wallMillis: Int64

    init(monotonicMillis: Int64, wallMillis: Int64) {
        self.monotonicMillis = monotonicMillis
        self.wallMillis = wallMillis
    }

    /// Unix seconds, as token expiry is written.
    var unixSeconds: Int64 { wallMillis / 1000 }
}
