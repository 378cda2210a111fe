import Glibc
import Hub

/// A child process started with `posix_spawn`, its stdout and stderr on one pipe. Foundation's
/// `Process` leaves an allocation behind on every start (a weak-reference side table inside
/// `Process.run`), which LeakSanitizer reports in `make test-sanitize`; this holds nothing but a pid.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The read end of the output pipe; `readAll(into:)` reads it until the child closes it.
    private let output: Int32
    private let status = Locked<Int32?>(nil)

    public struct SpawnFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(path: String, arguments: [String], environment: [String: String]) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SpawnFailure(description: "pipe: errno \(errno)") }
        // Neither end leaks into other children; the child's own copies (1 and 2) are made by dup2.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, nil, argv, envp)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw SpawnFailure(description: "posix_spawn \(path): errno \(result)")
        }
        pid = child
        output = fds[0]
    }

    /// Calls `line` for every line of output until the child closes its end, then closes ours.
    public func readLines(_ line: (String) -> Void) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 14)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: chunk[0..<count])
            while let newline = pending.firstIndex(of: 0x0A) {
                line(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { line(String(decoding: pending, as: UTF8.self)) }
        close(output)
    }

    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Waits for the child; its exit status (128 + the signal when a signal ended it).
    @discardableResult
    public func wait() -> Int32 { reap(blocking: true) ?? -1 }

    private func reap(blocking: Bool) -> Int32? {
        status.withLock { known in
            if let known { return known }
            var raw: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &raw, blocking ? 0 : WNOHANG) } while result < 0 && errno == EINTR
            guard result == pid else { return nil }
            let exited = raw & 0x7f == 0
            known = exited ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            return known
        }
    }
}
