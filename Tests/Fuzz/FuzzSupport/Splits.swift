/// Ways to cut one input into the pieces a socket might deliver, for targets that check that an
/// incremental parser gives the same result however its input is split. The cuts depend only on
/// the input, so a saved crash replays exactly.
public enum Splits {
    /// One byte per piece.
    public static func oneByte(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.map { [$0] }
    }

    /// Pieces of 1 to 16 bytes, sizes drawn from a generator seeded by the input itself.
    public static func seeded(_ bytes: [UInt8]) -> [[UInt8]] {
        var state = UInt64(truncatingIfNeeded: bytes.count) &* 0x9E37_79B9_7F4A_7C15
        for byte in bytes.prefix(32) { state = (state ^ UInt64(byte)) &* 0x0100_0000_01B3 }
        var pieces: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var mixed = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            let size = Int((mixed ^ (mixed >> 31)) % 16) + 1
            let end = min(bytes.count, start + size)
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        return pieces
    }
}
