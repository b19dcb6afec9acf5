import GatewayCore

/// Turns values from the cloud into checked Modbus writes for one device. Pure.
public enum WritePlanner {
    /// Why a property set or command cannot be written; answered as `result_code` 3 (bad request).
    public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The write for one point, checked against the product property and the register type.
    public static func write(point: ModbusPoint, value: JSONValue, definition: ProductModel.Property?,
                             writeMultipleOnly: Bool) -> Result<ModbusWrite, Rejection> {
        guard point.writable else { return .failure(Rejection("\(point.serviceId).\(point.property) is not writable")) }
        if let definition, let violation = definition.violation(of: value) { return .failure(Rejection(violation)) }
        switch point.type {
        case .bool:
            return PointCodec.encodeBit(value)
                .map { writeMultipleOnly ? .coils(address: point.address, values: [$0]) : .coil(address: point.address, value: $0) }
                .mapError { Rejection("\(point.property): \($0)") }
        case .bit:
            return PointCodec.encodeBit(value)
                .map { .registerBit(address: point.address, bit: point.bit, value: $0, multipleOnly: writeMultipleOnly) }
                .mapError { Rejection("\(point.property): \($0)") }
        default:
            return PointCodec.encode(point: point, value: value)
                .map { registers in
                    registers.count == 1 && !writeMultipleOnly
                        ? .register(address: point.address, value: registers[0])
                        : .registers(address: point.address, values: registers)
                }
                .mapError { Rejection("\(point.property): \($0)") }
        }
    }

    /// Writes for a property set: every property must map to a writable point of the device and
    /// pass the product model's checks; nothing is written unless all pass.
    public static func propertySet(_ services: [ServiceReport], device: ModbusDeviceConfig,
                                   product: ProductModel?) -> Result<[ModbusWrite], Rejection> {
        var writes: [ModbusWrite] = []
        for service in services {
            for (name, value) in service.properties.pairs {
                guard let point = device.point(service: service.serviceId, property: name) else {
                    return .failure(Rejection("\(service.serviceId).\(name) is not mapped to a register of \(device.nodeId)"))
                }
                let definition = product?.property(service: service.serviceId, name: name)
                switch write(point: point, value: value, definition: definition, writeMultipleOnly: device.writeMultipleOnly) {
                case .success(let w): writes.append(w)
                case .failure(let rejection): return .failure(rejection)
                }
            }
        }
        if writes.isEmpty { return .failure(Rejection("the property set names no property")) }
        return .success(writes)
    }

    /// Writes for a command, by the device file's `[[commands]]` mapping.
    public static func command(_ command: ChildCommand, device: ModbusDeviceConfig,
                               product: ProductModel?) -> Result<[ModbusWrite], Rejection> {
        let candidates = device.commands.filter {
            $0.name == command.commandName && (command.serviceId == nil || command.serviceId == $0.serviceId)
        }
        guard let mapping = candidates.first else {
            return .failure(Rejection("\(device.nodeId) has no command \"\(command.commandName)\""))
        }
        if candidates.count > 1 {
            return .failure(Rejection("command \"\(command.commandName)\" exists in several services: name the service_id"))
        }
        let definition = product?.command(service: mapping.serviceId, name: mapping.name)
        for para in definition?.paras ?? [] where para.required && command.paras[para.name] == nil {
            return .failure(Rejection("required parameter \(para.name) is missing"))
        }
        var writes: [ModbusWrite] = []
        for (para, pointName) in mapping.paras {
            guard let value = command.paras[para] else { continue }
            guard let point = device.point(named: pointName) else { return .failure(Rejection("no point \(pointName)")) }
            let paraDefinition = definition?.paras.first { $0.name == para }
            switch write(point: point, value: value, definition: paraDefinition, writeMultipleOnly: device.writeMultipleOnly) {
            case .success(let w): writes.append(w)
            case .failure(let rejection): return .failure(rejection)
            }
        }
        for (pointName, value) in mapping.constants {
            guard let point = device.point(named: pointName) else { return .failure(Rejection("no point \(pointName)")) }
            switch write(point: point, value: value, definition: nil, writeMultipleOnly: device.writeMultipleOnly) {
            case .success(let w): writes.append(w)
            case .failure(let rejection): return .failure(rejection)
            }
        }
        if writes.isEmpty { return .failure(Rejection("command \"\(command.commandName)\" carried none of its parameters")) }
        return .success(writes)
    }
}
