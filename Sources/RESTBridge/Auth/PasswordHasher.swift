import Foundation

/// Passwords as Django stores them, `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, so users
/// exported from a Django backend log in unchanged. New hashes use at least 600,000 iterations.
public struct PasswordHasher: Sendable {
    public static let minimumIterations = 600_000
    public let iterations: Int

    public init(iterations: Int = PasswordHasher.minimumIterations) {
        self.iterations = max(iterations, Self.minimumIterations)
    }

    private static let saltAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    public func hash(_ password: String, salt: String? = nil) -> String {
        let salt = salt ?? String(Crypto.randomBytes(22).map { Self.saltAlphabet[Int($0) % Self.saltAlphabet.count] })
        let derived = Crypto.pbkdf2SHA256(password: Array(password.utf8), salt: Array(salt.utf8), iterations: iterations)
        return "pbkdf2_sha256$\(iterations)$\(salt)$\(Data(derived).base64EncodedString())"
    }

    /// True if `password` matches `encoded`; the comparison takes the same time whatever differs.
    public func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2_sha256", let rounds = Int(parts[1]), rounds > 0, rounds <= 10_000_000,
              let expected = Data(base64Encoded: String(parts[3]))
        else { return false }
        let derived = Crypto.pbkdf2SHA256(password: Array(password.utf8), salt: Array(parts[2].utf8), iterations: rounds,
                                          length: expected.count)
        return Crypto.constantTimeEquals(derived, Array(expected))
    }

    /// True when a stored hash is weaker than what we make now (rehash after a successful login).
    public func needsUpgrade(_ encoded: String) -> Bool {
        let parts = encoded.split(separator: "$")
        return parts.count != 4 || parts[0] != "pbkdf2_sha256" || (Int(parts[1]) ?? 0) < iterations
    }

    /// Runs the deliberately slow hashing off the event loops and the cooperative pool.
    public static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}
