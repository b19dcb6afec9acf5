import Foundation

/// A peer or the edgegw binary run by a test; killed when released.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Pipe()
    private let input: Pipe?
    private let lock = NSLock()
    private var captured = Data()
    /// The output pipe reached end of file: `text` holds everything the process printed.
    private var outputEnded = false

    /// Starts `executable` (a path, or a name looked up in PATH) with its output captured.
    /// With `stdin`, `send(_:)` writes lines to the process's standard input.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                currentDirectory: String? = nil, stdin: Bool = false) throws {
        input = stdin ? Pipe() : nil
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = output
        process.standardError = output
        if let input { process.standardInput = input }
        try ProcessSpawning.run(process)
        // The child has its copy of the input's read end.
        try? input?.fileHandleForReading.close()
        PipeReader.start(output, name: "child-output", received: { [weak self] data in
            guard let self else { return }
            self.lock.withLock { self.captured.append(data) }
        }, ended: { [weak self] in
            guard let self else { return }
            self.lock.withLock { self.outputEnded = true }
        })
    }

    /// Writes one line to the process's standard input (started with `stdin: true`).
    public func send(_ line: String) {
        input?.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Everything the process printed so far (stdout and stderr).
    public var text: String { lock.withLock { String(decoding: captured, as: UTF8.self) } }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for exit up to `timeout`; returns the exit status, or nil if still running. The
    /// default waits are long because under the whole suite a 2-core machine runs a process
    /// several times slower than alone; a wait ends as soon as what it waits for happens.
    /// Once it has exited, `text` holds all it printed (the output is read to its end, for at most
    /// 2 s more: a grandchild may keep the pipe open).
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let status = await ProcessSpawning.exitStatus(of: process, timeout: timeout)
        if status != nil { _ = await Eventually.wait(timeout: .seconds(2), poll: .milliseconds(2)) { self.lock.withLock { self.outputEnded } } }
        return status
    }

    /// Waits until the output contains `needle`.
    @discardableResult
    public func waitForOutput(_ needle: String, timeout: Duration = .seconds(30)) async -> Bool {
        await Eventually.wait(timeout: timeout) { self.text.contains(needle) }
    }

    /// SIGTERM now, SIGKILL after the grace period if it still runs; returns at once (see
    /// `ProcessSpawning`), so it is safe in `defer` and `deinit` of async tests.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        ProcessSpawning.killLater(process)
    }

    /// `stop()`, then suspends until the process has exited (for a port or file it must free).
    public func stopAndWait() async {
        stop()
        _ = await waitForExit(timeout: ProcessSpawning.gracePeriod + .seconds(5))
    }

    deinit {
        stop()
    }
}

/// Polls a condition, for waiting on real peers without fixed sleeps.
public enum Eventually {
    public static func wait(timeout: Duration = .seconds(10), poll: Duration = .milliseconds(20),
                            _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: poll)
        }
        return await condition()
    }
}
