import ArgumentParser
import Bootstrap
import Foundation
import Gateway
import GatewayCore
import Logging
import LwM2M
import LwM2MSimulator
#if canImport(Glibc)
import Glibc
#endif

/// Simulated NB-IoT modules for demos and load runs, and a bare LwM2M server to load.
@main
struct NBIoTSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgegw-nbiot-sim",
        abstract: "Simulated NB-IoT modules (LwM2M over DTLS-PSK on libcoap) and a bare server for load runs.",
        subcommands: [Device.self, Storm.self, Serve.self, ServeUpgrade.self, IdentityFile.self, DeviceList.self])
}

struct StormOptions: ParsableArguments {
    @Option(help: "Number of devices.") var devices = 1000
    @Option(help: "IMEI of the first device; the others follow.") var firstImei: UInt64 = 860_000_000_000_000
    @Option(help: "Seed the PSKs are derived from (server and load generator must agree).") var seed: UInt64 = 1

    /// The storm's devices as the server knows them (node id, product, PSK).
    func serverDevices(productId: String, pcpUpgradeCapable: Bool = false) -> [NBIoTDevice] {
        (0..<devices).map { index in
            NBIoTDevice(nodeId: StormDevices.endpoint(firstIMEI: firstImei, index: index), productId: productId,
                        psk: Array(StormDevices.psk(seed: seed, index: index).utf8), pcpUpgradeCapable: pcpUpgradeCapable)
        }
    }

    /// The server's logger in a load run: warnings and worse.
    static func quietServerLogger() -> Logger {
        var logger = Logger(label: "edgegw.lwm2m")
        logger.logLevel = .warning
        return logger
    }
}

/// One device: registers, reports every few seconds, prints downlinks.
struct Device: AsyncParsableCommand {
    static func hexBytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count - 1, by: 2).compactMap {
            UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)...hex.index(hex.startIndex, offsetBy: $0 + 1)], radix: 16)
        }
    }

    static let configuration = CommandConfiguration(abstract: "Run one simulated module.")
    @Option var host = "127.0.0.1"
    @Option var port: UInt16 = 5684
    @Option(help: "IMEI (endpoint name and PSK identity).") var imei: String
    @Option(help: "PSK as ASCII text; empty for plain CoAP.") var psk = ""
    @Option(help: "Seconds between reports (0 = none).") var every: Double = 10
    @Option(help: "Report payload as hex.") var payload = "0100"
    @Option var lifetime = 300
    @Flag(help: "Announce the TUP data resource </t/d> instead of object 19.") var tup = false
    @Option(help: "Object list of the Register, e.g. '</1/0>,</3/0>,</31024/10>' (overrides --tup).") var objects: String?
    @Option(help: "A resource the module serves besides /19/0/0, /t/d and /19/1/0 (repeatable).") var resource: [String] = []
    @Option(help: "Bootstrap first on this port with --bootstrap-psk (an unprovisioned module), then register with the written account.")
    var bootstrapPort: UInt16?
    @Option(help: "Bootstrap PSK as ASCII text (with --bootstrap-port).") var bootstrapPsk = ""
    @Option(help: "Content format the module asks its bootstrap writes in (pct=): 112 SenML-CBOR, 110 SenML-JSON; none: TLV.")
    var bootstrapFormat: UInt16?
    @OptionGroup(title: "PCP (software upgrade)") var pcp: PCPOptions

    func validate() throws {
        if bootstrapPort != nil && bootstrapPsk.isEmpty { throw ValidationError("--bootstrap-port needs --bootstrap-psk") }
    }

    func run() async throws {
        let simulator = NBIoTDeviceSimulator(serverHost: host, serverPort: port,
                                             resources: NBIoTDeviceSimulator.defaultResources + resource)
        try simulator.start()
        let bootstrap = bootstrapPort.map {
            NBIoTDeviceSimulator.BootstrapAccount(port: $0, psk: Array(bootstrapPsk.utf8), preferredFormat: bootstrapFormat)
        }
        // A module that bootstraps is told its connection key; until then it has none (and is not plain CoAP).
        let index = simulator.add(.init(endpoint: imei, psk: Array(psk.utf8), lifetime: lifetime,
                                        objectLinks: objects ?? (tup ? "</t/d>" : "</1/0>,</3/0>,</19/0>,</19/1>"),
                                        plain: psk.isEmpty && bootstrap == nil, pcp: pcp.personality(), bootstrap: bootstrap))
        if bootstrap != nil { simulator.bootstrap(index) } else { simulator.register(index) }
        let bytes = Self.hexBytes(payload)
        let reporter = Task {
            guard every > 0 else { return }
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(every))
                simulator.notify(index, payload: bytes)
            }
        }
        defer { reporter.cancel() }
        // Unbuffered, so a script watching the log file sees each event as it happens.
        for await event in simulator.events { FileHandle.standardOutput.write(Data("\(event)\n".utf8)) }
    }
}

/// Many devices at once: the registration storm.
struct Storm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Register many devices at once and time ClientHello -> Register answer -> Observe.")
    @Option var host = "127.0.0.1"
    @Option var port: UInt16 = 5684
    @OptionGroup var options: StormOptions
    @Option(help: "Give up after this many seconds.") var deadline: Double = 60
    @Option(help: "Load-generator threads (each one libcoap context).") var threads = 2
    @Flag(help: "Wait for the server's Observe (edgegw); otherwise the Register answer is the end (stock coap-server).")
    var expectObserve = false
    @Option(help: "Keep the sessions open this many seconds after the storm (to measure the server's memory).")
    var hold: Double = 0
    @Option(help: "Index of the first device (to split a storm over processes).") var offset = 0
    @Option(help: "Registration lifetime in seconds (lt=); the modules send no Update, so a run longer than this wants a longer one.")
    var lifetime = 300
    @Option(help: "Write one line per device: answer_ms observe_ms (-1 = none).") var raw: String?
    @Option(help: "After the storm, notifications per device (non-confirmable), sent once --barrier exists.") var reports = 0
    @Option(help: "Notifications per second this process sends in the report phase.") var reportRate: Double = 1000
    @Option(help: "A file whose appearance starts the report phase (so every process has registered first).") var barrier: String?
    @Option(help: "Notification payload as hex.") var payload = "0104D20001E24000EB3F800000"
    @Flag(help: "Report phase: confirmable notifications; the server's ACK is the module's proof of delivery, and those never acknowledged are counted (REPORTS_NACKED).")
    var confirmableReports = false
    @Option(help: "Report phase: the round (1, 2, ...) added as a big-endian UInt32 to the payload's 4 bytes at this offset, so each report of a module is told apart (3: the water meter's totalFlow).")
    var roundAt: Int?
    @Option(help: "Bootstrap first, on this port (each device with its bootstrap key), then register with the written account; times run from the storm's launch.")
    var bootstrapPort: UInt16?
    @Option(help: "Content format every module asks its bootstrap writes in (pct=): 112 SenML-CBOR, 110 SenML-JSON; none: TLV.")
    var bootstrapFormat: UInt16?
    @OptionGroup(title: "PCP (software upgrade)") var pcp: PCPOptions
    @Option(help: "After the storm, wait up to this many seconds for every device to finish a PCP upgrade (needs --sw-version); prints UPGRADED.")
    var awaitUpgrade: Double = 0
    @Option(help: "With --await-upgrade: every module sends a data report (--payload) this often, in seconds, like a meter's periodic report; the platform starts an upgrade on the device's next report. 0 = never.")
    var reportEvery: Double = 0
    @Option(help: "With --await-upgrade: write each fragment's request -> answer time (ms, one a line) to this file.")
    var fragmentLatencyFile: String?

    /// libcoap 4.3.1's GnuTLS layer select()s on each client session's own socket, so a process
    /// aborts once descriptors pass FD_SETSIZE (1024): larger storms run in several processes.
    static let maxDevicesPerProcess = 900

    func validate() throws {
        guard options.devices <= Self.maxDevicesPerProcess else {
            throw ValidationError("at most \(Self.maxDevicesPerProcess) devices per process (libcoap's GnuTLS client uses select()); use --offset and several processes")
        }
    }

    func run() async throws {
        raiseFileLimit()
        let shards = max(1, min(threads, options.devices))
        var simulators: [NBIoTDeviceSimulator] = []
        for _ in 0..<shards {
            let simulator = NBIoTDeviceSimulator(serverHost: host, serverPort: port)
            try simulator.start()
            simulators.append(simulator)
        }
        let answered = StormTally()
        let launched = ContinuousClock.now
        let collectors = simulators.enumerated().map { shard, simulator in
            Task {
                for await event in simulator.events {
                    switch event {
                    case .registerAnswered(let device, let code, let since): await answered.answer(shard, device, code, since)
                    case .observed(let device, _, let since, _):
                        await answered.observe(shard, device, bootstrapPort == nil ? since : launched.duration(to: .now))
                    case .pcp(let device, .downloaded): await answered.downloaded(shard, device)
                    case .pcp(let device, .upgraded(let version)): await answered.upgraded(shard, device, version)
                    case .pcp(_, .frame(.sent, .fragmentRequest)): await answered.fragmentRequested()
                    case .pcp(_, .serverLost): await answered.reconnected()
                    case .failed(_, let what) where what.hasPrefix("notification"): await answered.notificationNacked()
                    default: break
                    }
                }
            }
        }
        var owners: [(Int, Int)] = []
        for index in 0..<options.devices {
            let shard = index % shards
            let global = offset + index
            let bootstrap = bootstrapPort.map {
                NBIoTDeviceSimulator.BootstrapAccount(port: $0, psk: Array(StormDevices.bootstrapPSK(seed: options.seed, index: global).utf8),
                                                      preferredFormat: bootstrapFormat)
            }
            let local = simulators[shard].add(.init(endpoint: StormDevices.endpoint(firstIMEI: options.firstImei, index: global),
                                                    psk: bootstrap == nil ? Array(StormDevices.psk(seed: options.seed, index: global).utf8) : [],
                                                    lifetime: lifetime, pcp: pcp.personality(), bootstrap: bootstrap))
            owners.append((shard, local))
        }
        let start = ContinuousClock.now
        for (shard, local) in owners {
            if bootstrapPort != nil { simulators[shard].bootstrap(local) } else { simulators[shard].register(local) }
        }
        let end = start + .seconds(deadline)
        while ContinuousClock.now < end {
            let done = expectObserve ? await answered.observedCount : await answered.answeredCount
            if done >= options.devices { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = start.duration(to: .now)
        if reports > 0 { try await reportPhase(answered, simulators: simulators, owners: owners) }
        if awaitUpgrade > 0 { try await upgradePhase(answered, simulators: simulators, owners: owners) }
        if hold > 0 {
            FileHandle.standardOutput.write(Data("HOLDING \(hold) s\n".utf8))
            try await Task.sleep(for: .seconds(hold))
        }
        for simulator in simulators { simulator.stop() }
        for collector in collectors { collector.cancel() }
        let answers = await answered.answers
        let observes = await answered.observes
        if let raw {
            let lines = await answered.perDevice(count: options.devices, owners: owners)
            try lines.joined(separator: "\n").appending("\n").write(toFile: raw, atomically: true, encoding: .utf8)
        }
        let finished = expectObserve ? observes.count : answers.count
        let seconds = elapsed.seconds
        print("devices=\(options.devices) finished=\(finished) failures=\(options.devices - finished) elapsed_s=\(String(format: "%.2f", seconds)) handshakes_per_s=\(String(format: "%.0f", Double(answers.count) / max(seconds, 0.001)))")
        print("codes=\(await answered.codes)")
        if let summary = LatencySummary(answers) { print("clienthello_to_register_answer \(summary)") }
        if let summary = LatencySummary(observes) { print("clienthello_to_observe \(summary)") }
    }
}

extension Storm {
    /// Waits until every device has installed a PCP upgrade (or `awaitUpgrade` seconds), then
    /// prints what the modules saw.
    func upgradePhase(_ tally: StormTally, simulators: [NBIoTDeviceSimulator], owners: [(Int, Int)]) async throws {
        FileHandle.standardOutput.write(Data("REGISTERED\n".utf8))
        let start = ContinuousClock.now
        let end = start + .seconds(awaitUpgrade)
        let reporter = Task { [reportEvery, payload] in
            guard reportEvery > 0 else { return }
            let bytes = Device.hexBytes(payload)
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(reportEvery))
                for (shard, local) in owners { simulators[shard].notify(local, payload: bytes, confirmable: false) }
            }
        }
        defer { reporter.cancel() }
        while ContinuousClock.now < end, await tally.upgradedCount < options.devices {
            try await Task.sleep(for: .milliseconds(50))
        }
        let seconds = start.duration(to: .now).seconds
        let line = "UPGRADED \(await tally.upgradedCount)/\(options.devices) downloaded=\(await tally.downloadedCount)"
            + " reconnects=\(await tally.reconnects)"
            + " versions=\(await tally.versions) elapsed_s=\(String(format: "%.3f", seconds))"
            + " fragment_requests=\(await tally.fragmentRequests) (counted with --pcp-frames, retries included)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        // Request (first send) -> fragment received, on the module's side.
        let latencies = simulators.flatMap(\.pcpFragmentLatencies)
        if let summary = LatencySummary(latencies) {
            FileHandle.standardOutput.write(Data("fragment_request_to_fragment \(summary)\n".utf8))
        }
        if let fragmentLatencyFile {
            let text = latencies.map(LatencySummary.ms).joined(separator: "\n") + "\n"
            try text.write(toFile: fragmentLatencyFile, atomically: true, encoding: .utf8)
        }
    }

    /// Waits for the barrier, then sends `reports` rounds of one notification per device, paced
    /// at `reportRate` per second.
    func reportPhase(_ tally: StormTally, simulators: [NBIoTDeviceSimulator], owners: [(Int, Int)]) async throws {
        FileHandle.standardOutput.write(Data("REGISTERED\n".utf8))
        if let barrier {
            while !FileManager.default.fileExists(atPath: barrier) { try await Task.sleep(for: .milliseconds(5)) }
        }
        let bytes = Device.hexBytes(payload)
        let start = ContinuousClock.now
        var sent = 0
        for round in 1...max(1, reports) {
            var bytes = bytes
            if let roundAt, roundAt >= 0, roundAt + 4 <= bytes.count {
                let base = bytes[roundAt..<roundAt + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                let value = base &+ UInt32(round)
                for index in 0..<4 { bytes[roundAt + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
            }
            for (shard, local) in owners {
                simulators[shard].notify(local, payload: bytes, confirmable: confirmableReports)
                sent += 1
                if sent % 50 == 0 {
                    let due = start.advanced(by: .seconds(Double(sent) / max(reportRate, 1)))
                    if due > .now { try await Task.sleep(until: due) }
                }
            }
        }
        let seconds = start.duration(to: .now).seconds
        FileHandle.standardOutput.write(Data(String(format: "REPORTS_SENT %d in %.3f s\n", sent, seconds).utf8))
        // Let the last ones leave before the sessions close (confirmable: their ACKs come back, or
        // libcoap's first retransmissions go out).
        try await Task.sleep(for: confirmableReports ? .seconds(10) : .milliseconds(500))
        if confirmableReports {
            FileHandle.standardOutput.write(Data("REPORTS_NACKED \(await tally.notificationsNacked)\n".utf8))
        }
    }
}


struct IdentityFile: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print hint,identity,key lines for coap-server -i.")
    @OptionGroup var options: StormOptions
    @Option var hint = "CoAP"

    func run() {
        for index in 0..<options.devices {
            print("\(hint),\(StormDevices.endpoint(firstIMEI: options.firstImei, index: index)),\(StormDevices.psk(seed: options.seed, index: index))")
        }
    }
}

func raiseFileLimit() {
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
