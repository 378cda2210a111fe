import CLibFuzzer
import Glibc

/// Runs a fuzz target under libFuzzer. A target is an executable whose `main.swift` calls
/// `Fuzzer.run { bytes in … }`; libFuzzer then calls the body once per input, with the command
/// line's flags (`-max_total_time=60`, corpus folders, a crash file to replay).
///
/// Why a `main` of our own: SwiftPM renames an executable's `main` (`--defsym main=<module>_main`)
/// so tests can link it, which breaks the usual `-parse-as-library` target that leaves `main` to
/// libFuzzer. Here Swift's `main` runs and hands over to `LLVMFuzzerRunDriver`, libFuzzer's
/// documented entry point for programs that keep their own `main`.
public enum Fuzzer {
    nonisolated(unsafe) static var body: ((UnsafeRawBufferPointer) -> Void)?

    /// Hands the process to libFuzzer; exits with its status.
    public static func run(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
        Self.body = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
    }

    /// An invariant of the code under test: when it does not hold, the input is a crash that
    /// libFuzzer saves (`abort()`, after saying which invariant broke and why).
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        guard !condition else { return }
        let text = "fuzz invariant broken: \(message())\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        abort()
    }

    /// Two ways of processing the same input must agree.
    public static func requireSame<T: Equatable>(_ expected: T, _ actual: T, _ what: String) {
        require(expected == actual, "\(what) differs:\n  expected \(expected)\n  actual   \(actual)")
    }
}

/// libFuzzer's per-input callback. It must exist under this name: the toolchain's libFuzzer
/// archive is linked whole and its (unused) `main` refers to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    Fuzzer.body?(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
