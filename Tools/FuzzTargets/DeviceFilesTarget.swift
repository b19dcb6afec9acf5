import Config
import GatewayCore
import Modbus
import Serial
import SerialFraming

/// `device-files`: a device file's bytes through the TOML parser and both device parsers, as
/// the configuration loader reads the files under `devices/`: `ModbusDeviceConfig.parse` (and
/// the reads it plans) and `SerialDeviceConfig.parse` (with its `[framing]`), with the sample
/// product models.
///
/// Properties: every diagnostic's line is a line of the file; an accepted Modbus device has
/// points within the 16-bit address space with a usable scale, and its planned reads cover
/// each reported point once, within the device's and the protocol's read limits; an accepted
/// serial device's layout frames what its encoder builds.
enum DeviceFilesTarget {
    static let target = FuzzTarget(
        name: "device-files", maxInputBytes: 16_384,
        summary: "ModbusDeviceConfig.parse + ReadPlanner, SerialDeviceConfig.parse + FramingSpec; lines, address space, planned reads",
        run: run)

    static func run(_ bytes: [UInt8]) {
        let file = "devices/fuzz.toml"
        let lines = bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        guard case .success(let document) = TOMLDocumentParser.parse(bytes: bytes, file: file) else { return }
        let products = SampleFiles.products
        let codecs = SampleFiles.codecs

        let diagnostics = ConfigDiagnostics()
        if let device = ModbusDeviceConfig.parse(reader: ConfigReader(document: document, diagnostics: diagnostics), products: products) {
            modbus(device)
            ModbusDeviceConfig.validateTogether([device, device], diagnostics: diagnostics)
        }
        let serialDiagnostics = ConfigDiagnostics()
        if let device = SerialDeviceConfig.parse(reader: ConfigReader(document: document, diagnostics: serialDiagnostics),
                                                 products: products, hasCodec: { codecs[$0] != nil }) {
            serial(device)
            SerialDeviceConfig.validateTogether([device], modbusPorts: [:], diagnostics: serialDiagnostics)
        }
        for diagnostic in diagnostics.all + serialDiagnostics.all {
            _ = diagnostic.description
            if let line = diagnostic.line {
                FuzzCheck.require((1...lines).contains(line), "diagnostic at line \(line) of a \(lines)-line file: \(diagnostic)")
            }
        }
    }

    static func modbus(_ device: ModbusDeviceConfig) {
        for point in device.points {
            FuzzCheck.require(point.span.lowerBound >= 0 && point.span.upperBound <= ModbusLimits.maxAddress,
                              "point \(point.name) spans \(point.table.rawValue) \(point.span), beyond the 16-bit address space")
            FuzzCheck.require(point.scale.isFinite && point.scale != 0 && point.offset.isFinite,
                              "point \(point.name) has scale \(point.scale) and offset \(point.offset)")
        }
        let plans = ReadPlanner.plan(device: device)
        FuzzCheck.require(plans.count == device.pollGroups.count, "\(plans.count) plans for \(device.pollGroups.count) groups")
        var planned = [Int](repeating: 0, count: device.points.count)
        for (group, requests) in plans.enumerated() {
            for request in requests {
                let limit = min(request.table.holdsBits ? device.maxReadBits : device.maxReadRegisters, request.table.maxReadCount)
                FuzzCheck.require(request.count >= 1 && request.count <= limit && request.address >= 0
                                  && request.address + request.count - 1 <= ModbusLimits.maxAddress,
                                  "a read of \(request.count) at \(request.address) (limit \(limit))")
                for index in request.points {
                    let point = device.points[index]
                    FuzzCheck.require(point.group == group && point.table == request.table && point.report
                                      && point.span.lowerBound >= request.address && point.span.upperBound <= request.span.upperBound,
                                      "point \(point.name) \(point.span) planned in \(request.table.rawValue) \(request.span)")
                    planned[index] += 1
                }
            }
        }
        for (index, point) in device.points.enumerated() {
            FuzzCheck.require(planned[index] == (point.report ? 1 : 0), "point \(point.name) planned \(planned[index]) times")
        }
    }

    static func serial(_ device: SerialDeviceConfig) {
        let spec = device.framing
        _ = (device.interFrameDelay, spec.gap(on: device.port.line))
        let encoder = FrameEncoder(spec: spec)
        // A payload byte that is no start or end byte, so that only the layout decides.
        let filler = (0...255).map(UInt8.init).first { !spec.start.contains($0) && !spec.end.contains($0) } ?? 0
        let payload = [UInt8](repeating: filler, count: min(encoder.payloadCapacity, 16))
        guard let wire = try? encoder.encode(payload: payload, address: device.address) else { return }
        var framer = Framer<OffsetInstant>(spec: spec, gap: spec.gap(on: device.port.line))
        let events = framer.receive(wire, at: OffsetInstant(offset: .zero)) + framer.reset()
        let frames = events.compactMap { event -> ReceivedFrame? in
            if case .frame(let frame) = event { return frame }
            return nil
        }
        let received = frames.first.map { Array($0.payload) } ?? []
        FuzzCheck.require(frames.count == 1 && received.starts(with: payload) && received.dropFirst(payload.count).allSatisfy { $0 == 0 },
                          "layout of \(device.nodeId) frames its own \(hexText(wire)) as \(events)")
    }
}
