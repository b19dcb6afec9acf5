import Foundation
import GatewayCore
import Logging
import SerialFraming

/// The serial devices of a gateway: one `SerialLine` (a thread) per port, their reports and
/// status handed to the `UplinkSink`, and the cloud's commands and property gets for them.
///
/// Between the lines' threads and the sink sits one queue: bounded for reports (a babbling
/// device cannot grow memory; what the bound drops is counted and logged), never dropping a
/// status.
public final class SerialService: FieldService, DownlinkHandler, Sendable {
    /// Reports waiting for the sink beyond this are dropped (counted): at a 115,200-baud
    /// line's rate of short frames that is seconds of backlog, far beyond a healthy sink's.
    public static let queuedReportBound = 10_000

    let lines: [SerialLine]
    let routes: [String: (line: Int, device: Int)]
    let encoder: any DownlinkEncoder
    let sink: any UplinkSink
    let clock: GatewayClock
    let logger: Logger
    private let events: AsyncStream<SerialLineEvent>
    private let input: AsyncStream<SerialLineEvent>.Continuation
    private let queued = Locked<(reports: Int, dropped: Int)>((0, 0))
    private let dropLog = Locked(LogRateLimit<GatewayClock.Instant>(perWindow: 1, window: .seconds(60)))

    /// - Parameters:
    ///   - lines: the arbiters of ports shared with the Modbus master; `modbusPorts` names the
    ///     ports its RTU devices use (those lines take a turn per transaction).
    public init(devices: [SerialDeviceConfig], decoder: any UplinkPayloadHandler, encoder: any DownlinkEncoder,
                sink: any UplinkSink, lines arbiters: SerialLineArbiters = SerialLineArbiters(), modbusPorts: Set<String> = [],
                policy: DeviceHealth<GatewayClock.Instant>.Policy = .init(), clock: GatewayClock = .system(),
                logger: Logger = Logger(label: "edgegw.serial")) {
        self.encoder = encoder
        self.sink = sink
        self.clock = clock
        self.logger = logger
        let (stream, input) = AsyncStream.makeStream(of: SerialLineEvent.self, bufferingPolicy: .unbounded)
        events = stream
        self.input = input
        let sharedPorts = Set(modbusPorts.map(SerialLineArbiters.canonicalPath))
        var grouped: [String: [SerialDeviceConfig]] = [:]
        var order: [String] = []
        for device in devices {
            let key = SerialLineArbiters.canonicalPath(device.port.device)
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(device)
        }
        var lines: [SerialLine] = []
        var routes: [String: (Int, Int)] = [:]
        let queued = queued, dropLog = dropLog
        for key in order {
            guard let members = grouped[key], let first = members.first else { continue }
            for (index, device) in members.enumerated() { routes[device.nodeId] = (lines.count, index) }
            let arbiter = sharedPorts.contains(key) ? arbiters.arbiter(for: first.port.device) : nil
            lines.append(SerialLine(path: first.port.device, devices: members, decoder: decoder, encoder: encoder, arbiter: arbiter,
                                    policy: policy, clock: clock, logger: logger) { event in
                if case .report = event {
                    let admitted = queued.withLock { state -> Bool in
                        guard state.reports < Self.queuedReportBound else { state.dropped += 1; return false }
                        state.reports += 1
                        return true
                    }
                    guard admitted else {
                        if let held = dropLog.withLock({ $0.admit(at: clock.now) }) {
                            logger.warning("reports are arriving faster than the cloud side takes them: dropping the newest",
                                           metadata: ["dropped_since_last_line": "\(held + 1)"])
                        }
                        return
                    }
                }
                input.yield(event)
            })
        }
        self.lines = lines
        self.routes = routes
    }

    /// The children this service serves, for the child registry and the platform's add/sync.
    public var children: [ChildDevice] {
        lines.flatMap(\.devices).map {
            ChildDevice(nodeId: $0.nodeId, productId: $0.productId, source: .serial, status: .offline, name: $0.name)
        }
    }

    /// Each port's counters.
    public var stats: [SerialPortStats] { lines.map { $0.stats.withLock { $0 } } }

    /// Reports the bound dropped since start.
    public var droppedReports: Int { queued.withLock { $0.dropped } }

    // MARK: - FieldService

    public func run() async throws {
        for line in lines { line.start() }
        let lines = lines
        await withTaskCancellationHandler {
            await pass()
        } onCancel: {
            for line in lines { line.shared.withLock { $0.stopping = true }; line.wake() }
        }
    }

    private func pass() async {
        for await event in events {
            switch event {
            case .report(let nodeId, let services, let time):
                queued.withLock { $0.reports -= 1 }
                await sink.report(nodeId: nodeId, services: services.map { var s = $0; s.eventTime = s.eventTime ?? time; return s })
            case .status(let nodeId, let status, let time):
                await sink.statusChanged(nodeId: nodeId, status: status, at: time)
            }
        }
    }

    public func finish() async {
        for line in lines { await line.finish() }
        // Every line has stopped: nothing more comes; run() returns once what is queued is passed on.
        input.finish()
    }
}
