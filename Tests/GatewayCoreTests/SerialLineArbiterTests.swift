import Foundation
import Testing
@testable import GatewayCore
import TestSupport

/// One transaction at a time on a shared serial line: turns in the order asked for, the quiet
/// time between turns, and a waiter that gives up without blocking those behind it.
@Suite struct SerialLineArbiterTests {
    @Test func turnsAreExclusiveAndServedInOrder() async throws {
        let line = SerialLineArbiter(path: "/dev/ttyS0")
        let log = Locked<[String]>([])
        let inside = Locked(0)
        let maxInside = Locked(0)
        #expect(line.acquire(timeout: .seconds(1)))
        // Three takers queue up while the line is held; they get it in the order they asked.
        var threads: [Thread] = []
        for (index, name) in ["a", "b", "c"].enumerated() {
            let thread = Thread {
                guard line.acquire(timeout: .seconds(60)) else { return }
                let now = inside.withLock { $0 += 1; return $0 }
                maxInside.withLock { $0 = max($0, now) }
                log.withLock { $0.append(name) }
                Thread.sleep(forTimeInterval: 0.01)
                inside.withLock { $0 -= 1 }
                line.release()
            }
            threads.append(thread)
            thread.start()
            // Each asks after the one before has queued (it counts as a contended turn).
            #expect(await Eventually.wait(timeout: .seconds(30)) { line.counts.contended == index + 1 })
        }
        line.release()
        #expect(await Eventually.wait(timeout: .seconds(30)) { log.withLock { $0.count } == 3 })
        #expect(log.withLock { $0 } == ["a", "b", "c"])
        #expect(maxInside.withLock { $0 } == 1)
        #expect(line.counts.turns == 4)
        #expect(line.counts.contended == 3)
    }

    @Test func aTurnStartsOnlyAfterTheQuietTime() {
        let line = SerialLineArbiter(path: "/dev/ttyS0")
        #expect(line.acquire(timeout: .seconds(1)))
        line.release()
        let asked = ContinuousClock.now
        #expect(line.acquire(quietTime: .milliseconds(80), timeout: .seconds(1)))
        #expect(ContinuousClock.now - asked >= .milliseconds(75))
        line.release()
    }

    @Test func aWaiterThatGivesUpDoesNotBlockThoseBehindIt() async throws {
        let line = SerialLineArbiter(path: "/dev/ttyS0")
        #expect(line.acquire(timeout: .seconds(1)))
        let gaveUp = Locked<Bool?>(nil)
        let later = Locked(false)
        Thread { gaveUp.withLock { $0 = !line.acquire(timeout: .milliseconds(100)) } }.start()
        try await Task.sleep(for: .milliseconds(30))
        Thread {
            if line.acquire(timeout: .seconds(10)) {
                later.withLock { $0 = true }
                line.release()
            }
        }.start()
        #expect(await Eventually.wait(timeout: .seconds(5)) { gaveUp.withLock { $0 } == true })
        line.release()
        #expect(await Eventually.wait(timeout: .seconds(5)) { later.withLock { $0 } })
    }

    @Test func aPortAndALinkToItAreOneLine() throws {
        let directory = NSTemporaryDirectory() + "arbiter-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = directory + "/ttyUSB0"
        FileManager.default.createFile(atPath: port, contents: nil)
        try FileManager.default.createSymbolicLink(atPath: directory + "/by-id", withDestinationPath: port)
        let arbiters = SerialLineArbiters()
        #expect(arbiters.arbiter(for: port) === arbiters.arbiter(for: directory + "/by-id"))
        #expect(arbiters.arbiter(for: port) !== arbiters.arbiter(for: directory + "/ttyUSB1"))
    }
}
