import Foundation
import GatewayCore
import Logging

/// The Modbus southbound: polls every configured device (one thread per bus), reports values
/// and status through an `UplinkSink`, and serves the cloud's writes as a `DownlinkHandler`.
public final class ModbusService: DownlinkHandler, Sendable {
    private let settings: ModbusSettings
    private let sink: any UplinkSink
    private let logger: Logger
    private let products: [String: ProductModel]
    private let buses: [ModbusBus]
    /// nodeId → (bus index, device index on that bus).
    private let routes: [String: (bus: Int, device: Int)]
    private let events: AsyncStream<ServiceEvent>
    private let eventInput: AsyncStream<ServiceEvent>.Continuation
    private let pending = PendingValues()
    private let filters: Locked<[String: ReportFilter<ContinuousClock.Instant>]>
    private let times: Locked<[String: Date]>
    /// nodeId → by point index: a bit point whose product property is an int (reported as 0/1).
    private let reportsAsInt: [String: [Bool]]

    /// - Parameters:
    ///   - devices: parsed device files (`ModbusDeviceConfig.parse`); devices with the same
    ///     transport share a bus.
    ///   - products: product models by id, for range checks and value types.
    public init(settings: ModbusSettings, devices: [ModbusDeviceConfig], products: [String: ProductModel],
                sink: any UplinkSink, logger: Logger = Logger(label: "edgegw.modbus")) {
        self.settings = settings
        self.sink = sink
        self.logger = logger
        self.products = products
        (events, eventInput) = AsyncStream.makeStream(of: ServiceEvent.self, bufferingPolicy: .unbounded)
        let input = eventInput
        let pending = pending
        var grouped: [ModbusBusID: [ModbusDeviceConfig]] = [:]
        for device in devices { grouped[device.busId, default: []].append(device) }
        var buses: [ModbusBus] = []
        var routes: [String: (bus: Int, device: Int)] = [:]
        var filters: [String: ReportFilter<ContinuousClock.Instant>] = [:]
        for busId in grouped.keys.sorted() {
            guard let members = grouped[busId], let first = members.first else { continue }
            let overrides = members.map(\.busOverrides)
            let busSettings = ModbusBusSettings(
                interRequestDelay: overrides.compactMap(\.interRequestDelay).max() ?? settings.interRequestDelay,
                responseTimeout: overrides.compactMap(\.responseTimeout).max() ?? settings.responseTimeout,
                health: .init(failuresBeforeOffline: settings.failuresBeforeOffline,
                              initialBackoff: settings.retryBackoff, maxBackoff: settings.retryBackoffMax),
                trace: settings.traceBuses.contains(busId))
            for (index, device) in members.enumerated() {
                routes[device.nodeId] = (buses.count, index)
                filters[device.nodeId] = ReportFilter(fullReportInterval: settings.fullReportInterval,
                                                      deadbands: device.points.map(\.deadband))
            }
            buses.append(ModbusBus(id: busId, transport: first.transport, devices: members, settings: busSettings,
                                   logger: logger) { event in
                switch event {
                case .status(let nodeId, let status, let time):
                    input.yield(.status(nodeId: nodeId, status: status, time: time))
                case .values(let nodeId, let values, let time):
                    // Changes wait, merged per device, until the reporter takes them: memory stays
                    // bounded by the number of points however slow the sink is.
                    if pending.add(nodeId: nodeId, values: values, time: time) { input.yield(.valuesPending) }
                }
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

    /// Polls until the task is cancelled; then stops every bus thread and returns.
    public func run() async throws {
        for bus in buses { bus.start() }
        logger.info("modbus started", metadata: ["buses": "\(buses.count)", "devices": "\(routes.count)"])
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.fullReports() }
                for await event in events {
                    await handle(event)
                    // Changes that arrive meanwhile are merged into one report; the pause also
                    // keeps a fast bus from waking this task once per cycle.
                    if case .valuesPending = event { try? await Task.sleep(for: Self.reportCoalescing) }
                }
                group.cancelAll()
            }
        } onCancel: {
            for bus in buses { bus.stop() }
            eventInput.finish()
        }
        for bus in buses {
            bus.stop()
            await bus.join()
        }
        logger.info("modbus stopped")
    }

    // MARK: - Reporting

    private func handle(_ event: ServiceEvent) async {
        switch event {
        case .status(let nodeId, let status, let time):
            await sink.statusChanged(nodeId: nodeId, status: status, at: time)
        case .valuesPending:
            for batch in pending.takeAll() { await report(batch.nodeId, batch.values, time: batch.time) }
        }
    }

    private func report(_ nodeId: String, _ values: [(point: Int, value: JSONValue)], time: Date) async {
        guard let route = routes[nodeId] else { return }
        let device = buses[route.bus].deviceConfigs[route.device]
        let asInt = reportsAsInt[nodeId] ?? []
        let converted = values.map { (point: $0.point, value: Self.reportable($0.value, asInt: asInt.indices.contains($0.point) && asInt[$0.point])) }
        let now = ContinuousClock.now
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
            try? await Task.sleep(for: tick)
            if Task.isCancelled { return }
            let diagnostics = diagnostics()
            for bus in diagnostics.buses {
                for device in bus.devices where device.health == .online {
                    guard let route = routes[device.nodeId] else { continue }
                    let config = buses[route.bus].deviceConfigs[route.device]
                    let now = ContinuousClock.now
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
        ModbusDiagnostics(buses: buses.map { bus in
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

/// What the reporter task works on.
enum ServiceEvent: Sendable {
    case status(nodeId: String, status: ChildStatus, time: Date)
    /// `PendingValues` holds changes.
    case valuesPending
}

/// Changed values from the bus threads, merged per device until the reporter takes them.
final class PendingValues: @unchecked Sendable {
    private struct Slot {
        var values: [JSONValue?] = []
        var changed: [Int] = []
        var time = Date.distantPast
    }

    private let lock = NSLock()
    private var order: [String] = []
    private var slots: [String: Slot] = [:]

    /// Adds one cycle's changes; true when the buffer was empty (the reporter needs waking).
    func add(nodeId: String, values: [(point: Int, value: JSONValue)], time: Date) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let wasEmpty = order.isEmpty
        if slots[nodeId] == nil { order.append(nodeId) }
        var slot = slots.removeValue(forKey: nodeId) ?? Slot()
        for (point, value) in values where point >= 0 {
            if point >= slot.values.count { slot.values += [JSONValue?](repeating: nil, count: point - slot.values.count + 1) }
            if slot.values[point] == nil { slot.changed.append(point) }
            slot.values[point] = value
        }
        slot.time = time
        slots[nodeId] = slot
        return wasEmpty
    }

    func takeAll() -> [(nodeId: String, values: [(point: Int, value: JSONValue)], time: Date)] {
        lock.lock()
        let (order, slots) = (self.order, self.slots)
        self.order.removeAll()
        self.slots.removeAll()
        lock.unlock()
        return order.compactMap { node in
            guard let slot = slots[node] else { return nil }
            return (node, slot.changed.sorted().compactMap { point in slot.values[point].map { (point, $0) } }, slot.time)
        }
    }
}
