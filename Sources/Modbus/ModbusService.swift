import CoreMetrics
import Foundation
import GatewayCore
import Logging

/// The Modbus southbound: polls every configured device (one thread per bus), reports values
/// and status through an `UplinkSink`, and serves the cloud's writes as a `DownlinkHandler`.
///
/// What the buses find waits in an `UplinkQueue` (status changes never dropped, values
/// coalesced per device) until the reporter hands it to the sink. `shutdown()` stops it
/// gracefully: no new cycle starts, the cycle in flight on each bus ends (a libmodbus
/// transaction is never cut), its values reach the sink, then `run()` returns.
public final class ModbusService: DownlinkHandler, FieldService, Sendable {
    private let settings: ModbusSettings
    private let sink: any UplinkSink
    private let logger: Logger
    private let clock: GatewayClock
    private let products: [String: ProductModel]
    private let buses: [ModbusBus]
    /// nodeId → (bus index, device index on that bus).
    private let routes: [String: (bus: Int, device: Int)]
    private let queue: Locked<UplinkQueue<GatewayClock.Instant>>
    /// Rung when the queue stops being empty; finished by `shutdown()`.
    private let wakeups: AsyncStream<Void>
    private let wakeupInput: AsyncStream<Void>.Continuation
    private let filters: Locked<[String: ReportFilter<GatewayClock.Instant>]>
    private let times: Locked<[String: Date]>
    /// nodeId → by point index: a bit point whose product property is an int (reported as 0/1).
    private let reportsAsInt: [String: [Bool]]

    /// - Parameters:
    ///   - devices: parsed device files (`ModbusDeviceConfig.parse`); devices with the same
    ///     transport share a bus.
    ///   - products: product models by id, for range checks and value types.
    ///   - clock: the time base of polling, health, the report filters and the time stamps of
    ///     what is reported (`wallTime()`).
    ///   - trace: where the buses' frames go when `edgegw trace modbus` follows one.
    ///   - lines: the serial ports' arbiters, shared with the serial devices (an RTU bus takes
    ///     a turn on its port for each request).
    public init(settings: ModbusSettings, devices: [ModbusDeviceConfig], products: [String: ProductModel],
                sink: any UplinkSink, logger: Logger = Logger(label: "edgegw.modbus"), clock: GatewayClock = .system(),
                metrics: any MetricsFactory = NOOPMetricsHandler.instance, trace: TraceTap? = nil,
                lines: SerialLineArbiters? = nil) {
        self.settings = settings
        self.sink = sink
        self.logger = logger
        self.clock = clock
        self.products = products
        // One wake-up waiting is enough: the reporter takes everything queued when it wakes.
        (wakeups, wakeupInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let queue = Locked(UplinkQueue<GatewayClock.Instant>())
        self.queue = queue
        let wakeup = wakeupInput
        var grouped: [ModbusBusID: [ModbusDeviceConfig]] = [:]
        for device in devices { grouped[device.busId, default: []].append(device) }
        var buses: [ModbusBus] = []
        var routes: [String: (bus: Int, device: Int)] = [:]
        var filters: [String: ReportFilter<GatewayClock.Instant>] = [:]
        for busId in grouped.keys.sorted() {
            guard let members = grouped[busId], let first = members.first else { continue }
            let overrides = members.map(\.busOverrides)
            let busSettings = ModbusBusSettings(
                interRequestDelay: overrides.compactMap(\.interRequestDelay).max() ?? settings.interRequestDelay,
                responseTimeout: overrides.compactMap(\.responseTimeout).max() ?? settings.responseTimeout,
                health: .init(failuresBeforeOffline: settings.failuresBeforeOffline,
                              initialBackoff: settings.retryBackoff, maxBackoff: settings.retryBackoffMax),
                trace: settings.traceBuses.contains(busId),
                responseTime: CoreMetrics.Timer(label: ModbusBus.responseTimeMetric, dimensions: [("bus", busId.rawValue)],
                                                factory: metrics),
                tap: trace,
                line: { if case .rtu(let serial) = first.transport { return lines?.arbiter(for: serial.device) } else { return nil } }())
            for (index, device) in members.enumerated() {
                routes[device.nodeId] = (buses.count, index)
                filters[device.nodeId] = ReportFilter(fullReportInterval: settings.fullReportInterval,
                                                      deadbands: device.points.map(\.deadband))
            }
            buses.append(ModbusBus(id: busId, transport: first.transport, devices: members, settings: busSettings,
                                   clock: clock, logger: logger) { event in
                let wasEmpty = queue.withLock { queue in
                    switch event {
                    case .status(let nodeId, let status, let time):
                        return queue.add(status: status, nodeId: nodeId, time: time)
                    case .values(let nodeId, let values, let time):
                        return queue.add(values: values, nodeId: nodeId, time: time)
                    }
                }
                if wasEmpty { wakeup.yield() }
            })
        }
        self.buses = buses
        self.routes = routes
        self.reportsAsInt = Dictionary(devices.map { device in
            (device.nodeId, device.points.map {
                products[device.productId]?.property(service: $0.serviceId, name: $0.property)?.type == .int
            })
        }, uniquingKeysWith: { a, _ in a })
        self.filters = Locked(filters)
        self.times = Locked([:])
    }

    /// The children this service serves, for the child registry and the platform's add/sync.
    public var children: [ChildDevice] {
        buses.flatMap(\.deviceConfigs).map {
            ChildDevice(nodeId: $0.nodeId, productId: $0.productId, source: .modbus, status: .offline, name: $0.name)
        }
    }

    /// The buses, by id.
    public var busIds: [ModbusBusID] { buses.map(\.id) }

    /// Polls and reports until `shutdown()` is called or the task is cancelled; then stops every
    /// bus after its cycle in flight, hands what they read last to the sink, and returns.
    public func run() async throws {
        runState.withLock { $0.started = true }
        defer {
            let waiters = runState.withLock { state in
                state.ended = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        for bus in buses { bus.start() }
        logger.info("modbus started", metadata: ["buses": "\(buses.count)", "devices": "\(routes.count)"])
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.fullReports() }
                for await _ in wakeups {
                    // Changes that arrive meanwhile are merged into one report; the pause (real
                    // time: it only spares the CPU) also keeps a fast bus from waking this task
                    // once per cycle.
                    if await deliver() { try? await Task.sleep(for: Self.reportCoalescing) }
                }
                group.cancelAll()
            }
        } onCancel: {
            shutdown()
        }
        for bus in buses { bus.stop() }
        for bus in buses { await bus.join() }
        // The cycles that were in flight: their values and status changes go out too.
        await deliver()
        logger.info("modbus stopped")
    }

    /// Stops polling gracefully; returns at once. No new cycle starts; the cycle in flight on
    /// each bus ends (a libmodbus transaction is never cut); queued writes fail with
    /// `ModbusError.stopped`; then `run()` hands the last values and status changes to the sink
    /// and returns. Safe to call from any thread, more than once, and before `run()`.
    public func shutdown() {
        for bus in buses { bus.stop() }
        wakeupInput.finish()
    }

    /// The gateway's graceful stop (`FieldService`): `shutdown()`, then wait until `run()` has
    /// handed the last values to the sink and returned (at once if it never started).
    public func finish() async {
        shutdown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiting = runState.withLock { state in
                guard state.started, !state.ended else { return false }
                state.waiters.append(continuation)
                return true
            }
            if !waiting { continuation.resume() }
        }
    }

    private let runState = Locked<(started: Bool, ended: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, false, []))

    // MARK: - Reporting

    /// Hands everything queued to the sink, oldest first; true when values went out.
    @discardableResult
    private func deliver() async -> Bool {
        let now = clock.now
        let (entries, warning) = queue.withLock { queue in (queue.takeAll(), queue.warning(at: now)) }
        if let warning {
            logger.warning("reporting is slower than polling: \(warning.dropped) reading(s) replaced by newer ones before they were reported (\(warning.total) since start)")
        }
        var values = false
        for entry in entries {
            switch entry {
            case .status(let nodeId, let status, let time):
                await sink.statusChanged(nodeId: nodeId, status: status, at: time)
            case .values(let nodeId, let batch, let time):
                values = true
                await report(nodeId, batch, time: time)
            }
        }
        return values
    }

    /// Value readings replaced by newer ones before they were reported (the sink was slower
    /// than the buses), since start.
    public var droppedValues: Int { queue.withLock { $0.droppedValues } }

    private func report(_ nodeId: String, _ values: [(point: Int, value: JSONValue)], time: Date) async {
        guard let route = routes[nodeId] else { return }
        let device = buses[route.bus].deviceConfigs[route.device]
        let asInt = reportsAsInt[nodeId] ?? []
        let converted = values.map { (point: $0.point, value: Self.reportable($0.value, asInt: asInt.indices.contains($0.point) && asInt[$0.point])) }
        let now = clock.now
        let (changed, latest): ([Int], [JSONValue?]) = filters.withLock { filters in
            let changed = filters[nodeId]?.take(converted, at: now) ?? []
            return (changed, changed.isEmpty ? [] : filters[nodeId]?.latestValues ?? [])
        }
        times.withLock { $0[nodeId] = time }
        guard !changed.isEmpty else { return }
        await sink.report(nodeId: nodeId, services: serviceReports(device: device, points: changed, values: latest, time: time))
    }

    /// Values that did not change are not sent by the buses; the periodic full report of an
    /// online device comes from here, with the time of its last good read.
    private func fullReports() async {
        let tick = min(settings.fullReportInterval, Self.fullReportTick)
        while !Task.isCancelled {
            try? await clock.sleep(for: tick)
            if Task.isCancelled { return }
            let diagnostics = diagnostics()
            for bus in diagnostics.buses {
                for device in bus.devices where device.health == .online {
                    guard let route = routes[device.nodeId] else { continue }
                    let config = buses[route.bus].deviceConfigs[route.device]
                    let now = clock.now
                    let (due, latest): ([Int], [JSONValue?]) = filters.withLock { filters in
                        let due = filters[device.nodeId]?.take([], at: now) ?? []
                        return (due, due.isEmpty ? [] : filters[device.nodeId]?.latestValues ?? [])
                    }
                    guard !due.isEmpty else { continue }
                    let time = device.counters.lastGoodRead
                    await sink.report(nodeId: device.nodeId,
                                      services: serviceReports(device: config, points: due, values: latest, time: time))
                }
            }
        }
    }

    /// Shortest time between two reports of changed values (they are merged meanwhile).
    public static let reportCoalescing: Duration = .milliseconds(50)

    /// How often the full-report timer looks for due devices.
    static let fullReportTick: Duration = .seconds(1)

    /// A bit reported to an int property goes as 0/1.
    private static func reportable(_ value: JSONValue, asInt: Bool) -> JSONValue {
        guard asInt, case .bool(let b) = value else { return value }
        return .int(b ? 1 : 0)
    }

    /// Values grouped by service, in the device file's point order.
    private func serviceReports(device: ModbusDeviceConfig, points: [Int], values: [JSONValue?], time: Date?) -> [ServiceReport] {
        var order: [String] = []
        var properties: [String: JSONObject] = [:]
        for index in points where device.points.indices.contains(index) && values.indices.contains(index) {
            guard let value = values[index] else { continue }
            let point = device.points[index]
            if properties[point.serviceId] == nil { order.append(point.serviceId); properties[point.serviceId] = JSONObject() }
            properties[point.serviceId]?[point.property] = value
        }
        return order.map { ServiceReport(serviceId: $0, properties: properties[$0] ?? JSONObject(), eventTime: time) }
    }

    // MARK: - Diagnostics

    public func diagnostics() -> ModbusDiagnostics {
        ModbusDiagnostics(droppedValues: droppedValues, buses: buses.map { bus in
            let stats = bus.stats.withLock { $0 }
            return ModbusDiagnostics.Bus(id: bus.id, counters: stats.bus, trace: stats.trace, devices: bus.deviceConfigs.enumerated().map {
                ModbusDiagnostics.Device(nodeId: $0.element.nodeId, unitId: $0.element.unitId,
                                         health: stats.health[$0.offset], counters: stats.devices[$0.offset])
            })
        })
    }

    /// Turns the hex trace of one bus on or off; false when there is no such bus.
    @discardableResult
    public func setTrace(bus id: ModbusBusID, enabled: Bool) -> Bool {
        guard let bus = buses.first(where: { $0.id == id }) else { return false }
        bus.setTrace(enabled)
        return true
    }

    // MARK: - DownlinkHandler

    public func handles(nodeId: String) async -> Bool { routes[nodeId] != nil }

    public func command(_ command: ChildCommand, deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        guard let route = routes[command.nodeId] else { return .failure(.unknownChild, "no Modbus device \(command.nodeId)") }
        let device = buses[route.bus].deviceConfigs[route.device]
        switch WritePlanner.command(command, device: device, product: products[device.productId]) {
        case .failure(let rejection):
            logger.warning("command rejected: \(rejection)", metadata: ["node": "\(command.nodeId)", "request": "\(command.requestId)"])
            return .failure(.badRequest, rejection.description)
        case .success(let writes):
            return await perform(writes, route: route, nodeId: command.nodeId, requestId: command.requestId)
        }
    }

    public func setProperties(requestId: String, nodeId: String, services: [ServiceReport],
                              deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        guard let route = routes[nodeId] else { return .failure(.unknownChild, "no Modbus device \(nodeId)") }
        let device = buses[route.bus].deviceConfigs[route.device]
        switch WritePlanner.propertySet(services, device: device, product: products[device.productId]) {
        case .failure(let rejection):
            logger.warning("property set rejected: \(rejection)", metadata: ["node": "\(nodeId)", "request": "\(requestId)"])
            return .failure(.badRequest, rejection.description)
        case .success(let writes):
            return await perform(writes, route: route, nodeId: nodeId, requestId: requestId)
        }
    }

    public func getProperties(requestId: String, nodeId: String, serviceId: String?,
                              deadline: GatewayClock.Instant) async -> Result<[ServiceReport], DownlinkError> {
        guard let route = routes[nodeId] else { return .failure(DownlinkError(.unknownChild, "no Modbus device \(nodeId)")) }
        let device = buses[route.bus].deviceConfigs[route.device]
        let latest = filters.withLock { $0[nodeId]?.latestValues ?? [] }
        let known = latest.indices.filter { latest[$0] != nil }
        guard !known.isEmpty else { return .failure(DownlinkError(.deviceUnreachable, "no value has been read from \(nodeId) yet")) }
        let time = times.withLock { $0[nodeId] }
        var reports = serviceReports(device: device, points: known, values: latest, time: time)
        if let serviceId {
            reports = reports.filter { $0.serviceId == serviceId }
            if reports.isEmpty { return .failure(DownlinkError(.badRequest, "\(nodeId) has no values for service \(serviceId)")) }
        }
        return .success(reports)
    }

    private func perform(_ writes: [ModbusWrite], route: (bus: Int, device: Int), nodeId: String,
                         requestId: String) async -> DownlinkOutcome {
        switch await buses[route.bus].write(device: route.device, writes: writes) {
        case .success:
            logger.info("wrote \(writes.count) value(s)", metadata: ["node": "\(nodeId)", "request": "\(requestId)"])
            return .success()
        case .failure(let error):
            return error.outcome
        }
    }
}
