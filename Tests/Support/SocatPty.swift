import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A serial line for a test: `socat` joining two ptys, each end a symbolic link in a temporary
/// directory. The gateway opens `gatewayPath`, a simulated device (`SerialSimulator`) opens
/// `devicePath`. Either end may be closed and opened again while socat runs.
///
/// `stop()` ends socat, as unplugging a USB adapter would: both ends hang up (a reader sees end
/// of file or EIO, a writer EIO) and the links go away. `restart()` starts socat again with the
/// same link paths, the replug: a port that reopens its path finds the line again. Stopped when
/// released.
public final class SocatPty: @unchecked Sendable {
    public let directory: TemporaryDirectory
    /// The end the gateway opens (a link to a `/dev/pts/N`).
    public let gatewayPath: String
    /// The end the simulated device opens.
    public let devicePath: String
    private let lock = NSLock()
    private var process: ChildProcess?

    /// Starts socat and waits (up to `timeout`) until both links exist. Throws when socat is not
    /// installed, exits, or does not make the links in time.
    public init(timeout: Duration = .seconds(10)) async throws {
        directory = TemporaryDirectory(prefix: "edgegw-pty")
        gatewayPath = directory.file("gateway")
        devicePath = directory.file("device")
        try await start(timeout: timeout)
    }

    /// Starts socat again on the same link paths (stopping it first if it still runs): the replug.
    public func restart(timeout: Duration = .seconds(10)) async throws {
        await stopAndWait()
        try await start(timeout: timeout)
    }

    /// SIGTERM for socat now (SIGKILL after the grace period), returning at once: the unplug.
    /// socat removes its links as it exits; `stopAndWait()` also waits for that.
    public func stop() {
        lock.withLock { process }?.stop()
    }

    /// `stop()`, then suspends until socat has exited and both links are gone (removed here if a
    /// killed socat left them dangling).
    public func stopAndWait() async {
        guard let child = lock.withLock({ () -> ChildProcess? in
            let child = process
            process = nil
            return child
        }) else { return }
        await child.stopAndWait()
        removeLinks()
    }

    public var isRunning: Bool { lock.withLock { process }?.isRunning ?? false }

    /// What socat printed so far (`-d -d`: the pty names, and why it exited).
    public var log: String { lock.withLock { process }?.text ?? "" }

    deinit {
        process?.stop()
    }

    private func start(timeout: Duration) async throws {
        guard Paths.hasProgram("socat") else {
            throw SocatPtyError("socat is not installed (apt-get install socat): serial tests need it for a pty pair")
        }
        removeLinks()
        let child = try ChildProcess("socat", ["-d", "-d",
                                               "pty,raw,echo=0,link=\(gatewayPath)",
                                               "pty,raw,echo=0,link=\(devicePath)"])
        lock.withLock { process = child }
        let paths = [gatewayPath, devicePath]
        // fileExists follows the links: true once each names a pty that exists.
        let linked = { paths.allSatisfy { FileManager.default.fileExists(atPath: $0) } }
        let settled = await Eventually.wait(timeout: timeout) { linked() || !child.isRunning }
        guard settled, child.isRunning, linked() else {
            lock.withLock { process = nil }
            child.signal(SIGKILL)
            _ = await child.waitForExit(timeout: .seconds(5))
            removeLinks()
            let what = child.isRunning ? "did not link them within \(timeout)" : "exited"
            throw SocatPtyError("socat for \(gatewayPath) and \(devicePath) \(what): \(child.text)")
        }
    }

    private func removeLinks() {
        for path in [gatewayPath, devicePath] { _ = unlink(path) }
    }
}

public struct SocatPtyError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// `scripts/serial_sim.py` run as the simulated level sensor (etc/edgegw/products/level-sensor.toml)
/// on a serial line, usually the device end of a `SocatPty`. Its arguments are the script's
/// (`--mode unsolicited`, `--interval 0.2`, `--level 2.5`, `--echo`, `--noise 0.1`, `--line-rate
/// 115200 --count 2000`, …; see the script's help). Stopped with SIGTERM when released.
///
/// The script prints `ready` once its port is open, `unplugged` and `reopened` as the line goes
/// and comes back, and one JSON summary line as it exits (`summary`).
public final class SerialSimulator: @unchecked Sendable {
    public let process: ChildProcess
    /// The path the simulator opens.
    public let port: String

    /// Starts the simulator on `port` without waiting for it (see `ready(timeout:)`).
    public init(port: String, _ arguments: [String] = [], verbose: Bool = false) throws {
        self.port = port
        var all = ["\(Paths.packageRoot)/scripts/serial_sim.py", "--port", port] + arguments
        if verbose { all.append("--verbose") }
        process = try ChildProcess("python3", all)
    }

    /// Starts the simulator on `pty`'s device end without waiting for it.
    public convenience init(on pty: SocatPty, _ arguments: [String] = [], verbose: Bool = false) throws {
        try self.init(port: pty.devicePath, arguments, verbose: verbose)
    }

    /// Starts the simulator on `pty`'s device end and waits until its port is open; throws with
    /// its output when it exits first or is not ready within `timeout`.
    public static func start(on pty: SocatPty, _ arguments: [String] = [], verbose: Bool = false,
                             timeout: Duration = .seconds(20)) async throws -> SerialSimulator {
        let simulator = try SerialSimulator(on: pty, arguments, verbose: verbose)
        guard await simulator.ready(timeout: timeout) else {
            let what = simulator.isRunning ? "was not ready within \(timeout)" : "exited before it was ready"
            simulator.stop()
            throw SerialSimulatorError("serial_sim.py on \(pty.devicePath) \(what): \(simulator.text)")
        }
        return simulator
    }

    /// Waits until the simulator has opened its port; false when it exits first or time runs out.
    public func ready(timeout: Duration = .seconds(20)) async -> Bool {
        _ = await Eventually.wait(timeout: timeout) { self.lines.contains("ready") || !self.process.isRunning }
        return lines.contains("ready")
    }

    /// How many times the simulator saw its line go away (socat stopped), and opened it again.
    public var unplugs: Int { lines.filter { $0 == "unplugged" }.count }
    public var reopens: Int { lines.filter { $0 == "reopened" }.count }

    /// Waits until the simulator has reopened its port `count` times in all (after `SocatPty.restart()`).
    @discardableResult
    public func waitForReopen(count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        await Eventually.wait(timeout: timeout) { self.reopens >= count }
    }

    /// Everything the simulator printed (stdout and, with `verbose`, its event log on stderr).
    public var text: String { process.text }

    /// `text` in lines.
    public var lines: [String] { text.split(separator: "\n").map(String.init) }

    public var isRunning: Bool { process.isRunning }

    /// The counts the simulator printed as it exited, or nil while it runs.
    public var summary: Summary? {
        guard let line = lines.last(where: { $0.hasPrefix("{") }) else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(Summary.self, from: Data(line.utf8))
    }

    /// The simulator's exit summary (the script's names, in camel case).
    public struct Summary: Decodable, Sendable, Equatable {
        /// Frames sent: readings and answers.
        public var sent: Int
        /// From the port's first opening to the end (with `--line-rate`: until the last byte has
        /// left a real line).
        public var seconds: Double
        /// Bytes transmitted: frames and noise, not echo.
        public var bytes: Int
        public var readings: Int
        /// Frames addressed to the simulator that it answered.
        public var answered: Int
        /// Well-formed frames received (any address); with `--babble`, bytes received.
        public var received: Int
        /// Well-formed frames not answered: another address, an unknown message, a wrong length.
        public var ignored: Int
        /// Candidate frames (`AA 55 …`) dropped: bad CRC, or incomplete for longer than `--frame-gap`.
        public var rejected: Int
        /// Bytes skipped while looking for `AA 55`.
        public var garbage: Int
        public var noiseBursts: Int
        public var noiseBytes: Int
        public var corrupted: Int
        public var echoed: Int
        public var unplugs: Int
        /// With `--line-rate`: the furthest sending fell behind the line's schedule.
        public var maxLagMs: Double?
        /// With `--modbus-unit`: Modbus requests answered.
        public var modbusAnswered: Int?
    }

    /// Waits for exit up to `timeout` (after `--count` or `--duration`); the exit status, or nil.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        await process.waitForExit(timeout: timeout)
    }

    /// SIGTERM now (SIGKILL after the grace period), returning at once; safe in `defer`.
    public func stop() { process.stop() }

    /// `stop()`, then suspends until the simulator has exited; its summary.
    @discardableResult
    public func stopAndWait() async -> Summary? {
        await process.stopAndWait()
        return summary
    }

    deinit {
        process.stop()
    }
}

public struct SerialSimulatorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
