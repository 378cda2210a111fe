import Glibc
import Testing
@testable import Hub

/// Counts the deadlines its connection reaches.
final class DeadlineHandler: ConnectionHandler {
    var deadlines = 0
    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {}
    func deadlineReached(_ connection: Connection) {
        deadlines += 1
        connection.deadline = .max
    }
}

/// A loop driven by hand, as NIO's `EmbeddedEventLoop`: never started, turned by `runOnce` on the
/// test's thread, its time moved by a `ManualClock`. Timers and connection deadlines fire exactly
/// when time reaches them, with no sleep.
@Suite struct ManualClockLoopTests {
    @Test func timersFireWhenTheClockReachesThem() throws {
        let clock = ManualClock()
        let loop = try EventLoop(index: 0, clock: .manual(clock))
        var fired: [String] = []
        loop.runOnce()
        loop.schedule(afterMillis: 100) { fired.append("100") }
        loop.schedule(afterMillis: 30) { fired.append("30") }
        loop.runOnce()
        #expect(fired.isEmpty)
        clock.advance(byMillis: 29)
        loop.runOnce()
        #expect(fired.isEmpty)
        clock.advance(byMillis: 1)
        loop.runOnce()
        #expect(fired == ["30"])
        clock.advance(byMillis: 70)
        loop.runOnce()
        #expect(fired == ["30", "100"])
        #expect(loop.now == clock.nowMillis, "the loop reads its clock once per turn")
    }

    @Test func connectionDeadlinesAreSweptAtTheSweepsResolution() throws {
        let clock = ManualClock()
        let loop = try EventLoop(index: 0, clock: .manual(clock))
        loop.sweepIntervalMillis = 1000
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let handler = DeadlineHandler()
        let connection = try loop.adopt(Socket(adopting: fds[0]), remote: SocketAddress.resolve(host: "127.0.0.1", port: 9),
                                        outboundLimit: 1 << 20, handler: handler)
        loop.runOnce()
        connection.setTimeout(millis: 1500)
        clock.advance(byMillis: 1000)
        loop.runOnce()
        #expect(handler.deadlines == 0, "swept at +1000: not due")
        clock.advance(byMillis: 500)
        loop.runOnce()
        #expect(handler.deadlines == 0, "due at +1500, but the next sweep is at +2000")
        clock.advance(byMillis: 500)
        loop.runOnce()
        #expect(handler.deadlines == 1)
        connection.close()
        close(fds[1])
    }
}
