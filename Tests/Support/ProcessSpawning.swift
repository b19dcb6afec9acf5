import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starting and stopping test peers without holding a Swift concurrency thread.
///
/// The cooperative pool has one thread per core (two here): a test support call that sleeps or
/// spins on one of them starves every other async test of half the machine. So stopping never
/// waits in place: the forced kill that follows a polite signal is scheduled on a Dispatch timer,
/// and callers that need the exit await it (`ChildProcess.stopAndWait()`).
public enum ProcessSpawning {
    /// How long a peer gets to exit after SIGTERM (or `quit`) before SIGKILL.
    public static let gracePeriod: Duration = .seconds(3)

    /// Signals a peer must receive to be stopped. Foundation's `Process` spawns with the calling
    /// thread's signal mask, and Dispatch worker threads block these: a python peer started from
    /// a test would ignore SIGTERM and every stop would last the whole grace period.
    static let stopSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT]

    /// Runs `process` with the stop signals unblocked in the child (the calling thread's mask is
    /// restored at once; SIGCHLD and the rest stay as they were).
    public static func run(_ process: Process) throws {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in stopSignals { sigaddset(&unblock, signal) }
        var previous = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &unblock, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try process.run()
    }

    /// SIGKILL for `process` after `delay` if it is still running then, on a Dispatch timer (no
    /// thread waits meanwhile).
    public static func killLater(_ process: Process, after delay: Duration = gracePeriod) {
        let box = ProcessBox(process)
        let nanoseconds = Int(delay.components.seconds) * 1_000_000_000 + Int(delay.components.attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
            if box.process.isRunning { kill(box.process.processIdentifier, SIGKILL) }
        }
    }

    /// Suspends until `process` has exited or `timeout` has passed; the exit status, or nil.
    public static func exitStatus(of process: Process, timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}

/// A `Process` handed to a Dispatch timer; it is only asked whether it runs and for its pid.
private final class ProcessBox: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}
