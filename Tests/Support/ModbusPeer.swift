import Foundation

/// `scripts/modbus_sim.py` run as a Modbus slave for a test, driven over its stdin/stdout
/// control protocol (`set`, `get`, `requests`, `reset`, `mode`, `exception`). Stopped when released.
public final class ModbusPeer: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffer = Data()
    private var lines: [String] = []
    private var log = ""

    /// A TCP slave on 127.0.0.1:`tcpPort`, an RTU slave on the serial device `rtu`, or RTU frames
    /// over TCP on 127.0.0.1:`rtuOverTCPPort`, serving `units`.
    public init(tcpPort: UInt16? = nil, rtu: String? = nil, rtuOverTCPPort: UInt16? = nil, units: [Int],
                meter: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", "\(Paths.packageRoot)/scripts/modbus_sim.py", "--control",
                         "--units", units.map(String.init).joined(separator: ",")]
        if let tcpPort { arguments += ["--tcp", String(tcpPort)] }
        if let rtu { arguments += ["--rtu", rtu] }
        if let rtuOverTCPPort { arguments += ["--rtu-over-tcp", String(rtuOverTCPPort)] }
        if meter { arguments.append("--meter") }
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try ProcessSpawning.run(process)
        PipeReader.start(output, name: "modbus-peer-output") { [weak self] data in
            guard let self else { return }
            self.lock.withLock {
                self.buffer.append(data)
                while let newline = self.buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: self.buffer[self.buffer.startIndex..<newline], as: UTF8.self)
                    self.buffer.removeSubrange(self.buffer.startIndex...newline)
                    self.lines.append(line)
                    self.log += line + "\n"
                }
            }
        }
    }

    /// Waits for the peer to listen.
    public func ready(timeout: Duration = .seconds(20)) async -> Bool {
        await Eventually.wait(timeout: timeout) { self.lock.withLock { self.lines.contains("ready") } }
    }

    /// Sends one control line and returns the peer's one-line reply.
    public func send(_ command: String, timeout: Duration = .seconds(10)) async -> String? {
        lock.withLock { lines.removeAll { $0 == "ready" } }
        let count = lock.withLock { lines.count }
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        guard await Eventually.wait(timeout: timeout, poll: .milliseconds(5), { self.lock.withLock { self.lines.count > count } })
        else { return nil }
        return lock.withLock { lines.remove(at: count) }
    }

    /// Holding or input registers (or coils/discretes as 0/1) the slave holds now.
    public func get(unit: Int, table: String, address: Int, count: Int) async -> [Int]? {
        guard let reply = await send("get \(unit) \(table) \(address) \(count)"), reply.hasPrefix("values") else { return nil }
        return reply.split(separator: " ").dropFirst().compactMap { Int($0) }
    }

    @discardableResult
    public func set(unit: Int, table: String, address: Int, _ values: [Int]) async -> Bool {
        await send("set \(unit) \(table) \(address) " + values.map(String.init).joined(separator: " ")) == "ok"
    }

    /// One request the slave saw.
    public struct Request: Sendable, Equatable, CustomStringConvertible {
        public var unit: Int
        public var function: Int
        public var address: Int
        public var count: Int
        /// Seconds since the epoch, as the peer saw it.
        public var time: Double
        public var description: String { "unit \(unit) fc \(function) \(address)+\(count)" }
    }

    public func requests() async -> [Request]? {
        guard let reply = await send("requests"), reply.hasPrefix("requests "),
              let json = try? JSONSerialization.jsonObject(with: Data(reply.dropFirst(9).utf8)) as? [[Double]]
        else { return nil }
        return json.compactMap { row in
            guard row.count >= 5 else { return nil }
            return Request(unit: Int(row[0]), function: Int(row[1]), address: Int(row[2]), count: Int(row[3]), time: row[4])
        }
    }

    public func resetRequests() async { _ = await send("reset") }

    /// The frames as they crossed the wire: (`recv` or `send`, lower-case hex), oldest first.
    public func packets() async -> [(direction: String, hex: String)]? {
        guard let reply = await send("packets"), reply.hasPrefix("packets "),
              let json = try? JSONSerialization.jsonObject(with: Data(reply.dropFirst(8).utf8)) as? [[String]]
        else { return nil }
        return json.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
    }

    /// `ok`, `silent` (no answer), `badcrc` (RTU answers with a broken CRC), `wrongunit` (RTU
    /// answers as another unit) or `short` (answers lose their last 3 bytes).
    public func mode(unit: Int, _ mode: String) async { _ = await send("mode \(unit) \(mode)") }

    /// Every request of `unit` that starts at `address` is answered with exception `code` (a
    /// register the slave always refuses); code 0 answers it normally again.
    @discardableResult
    public func exception(unit: Int, address: Int, code: Int) async -> Bool {
        await send("exception \(unit) \(address) \(code)") == "ok"
    }

    /// Asks the peer to quit, with SIGKILL after the grace period if it does not; returns at
    /// once (see `ProcessSpawning`).
    public func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
        ProcessSpawning.killLater(process)
    }

    /// `stop()`, then suspends until the peer has exited.
    public func stopAndWait() async {
        stop()
        _ = await ProcessSpawning.exitStatus(of: process, timeout: ProcessSpawning.gracePeriod + .seconds(5))
    }

    deinit {
        stop()
    }
}

/// A `socat` pty pair: a serial line with two ends, for RTU tests.
public final class ModbusPtyPair: @unchecked Sendable {
    public let process: ChildProcess
    public private(set) var ends: (String, String) = ("", "")

    public init() throws {
        process = try ChildProcess("socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"])
    }

    /// Waits until socat names both ends.
    public func ready(timeout: Duration = .seconds(10)) async -> Bool {
        let ok = await Eventually.wait(timeout: timeout) { self.names().count >= 2 }
        let names = self.names()
        if names.count >= 2 { ends = (names[0], names[1]) }
        return ok
    }

    private func names() -> [String] {
        process.text.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "PTY is ") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }

    public func stop() { process.stop() }
}
