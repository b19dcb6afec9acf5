import GatewayCore
import Testing
@testable import Modbus

@Suite struct WritePlannerTests {
    let product = ProductModel(id: "p", manufacturer: "", model: "", deviceType: "", protocolType: .modbus, dataFormat: .json, services: [
        .init(id: "s", properties: [
            .init(name: "limit", type: .decimal, min: 0, max: 2000, access: .readWrite),
            .init(name: "relay", type: .boolean, access: .readWrite),
            .init(name: "flag", type: .boolean, access: .readWrite),
            .init(name: "wide", type: .int, access: .readWrite),
            .init(name: "ratio", type: .int, min: 1, max: 1000, access: .readWrite),
        ], commands: [
            .init(name: "setup", paras: [.init(name: "ratio", type: .int, min: 1, max: 1000, required: true)], responses: []),
            .init(name: "reset", paras: [], responses: []),
        ]),
    ])

    func device(multipleOnly: Bool = false) -> ModbusDeviceConfig {
        ModbusDeviceConfig(nodeId: "n", productId: "p", transport: .tcp(host: "127.0.0.1", port: 502), unitId: 1,
                           pollGroups: [ModbusPollGroup(name: "g", interval: .seconds(1))], points: [
                               point("limit", address: 10, type: .uint16, scale: 10),
                               point("relay", table: .coil, address: 3, type: .bool),
                               point("flag", address: 11, type: .bit, bit: 4),
                               point("wide", address: 20, type: .int32, order: .cdab),
                               point("ratio", address: 30, type: .uint16),
                               point("pulse", table: .coil, address: 9, type: .bool),
                           ], commands: [
                               ModbusCommandMapping(serviceId: "s", name: "setup", paras: [("ratio", "ratio")], constants: []),
                               ModbusCommandMapping(serviceId: "s", name: "reset", paras: [], constants: [("pulse", .bool(true))]),
                           ], writeMultipleOnly: multipleOnly)
    }

    @Test func functionCodesFitThePoint() {
        let set = [ServiceReport(serviceId: "s", properties: ["limit": 1500, "relay": true, "flag": false, "wide": -2])]
        let writes = WritePlanner.propertySet(set, device: device(), product: product)
        #expect(writes == .success([
            .register(address: 10, value: 150),
            .coil(address: 3, value: true),
            .registerBit(address: 11, bit: 4, value: false, multipleOnly: false),
            .registers(address: 20, values: [0xFFFE, 0xFFFF]),
        ]))
        #expect((try? writes.get())?.map(\.functionCode) == [6, 5, 6, 16])
    }

    @Test func multipleOnlyDevicesGet15And16() {
        let set = [ServiceReport(serviceId: "s", properties: ["limit": 10, "relay": false])]
        #expect(WritePlanner.propertySet(set, device: device(multipleOnly: true), product: product) == .success([
            .registers(address: 10, values: [1]),
            .coils(address: 3, values: [false]),
        ]))
    }

    @Test func productRangesAreChecked() {
        let set = [ServiceReport(serviceId: "s", properties: ["limit": 2500])]
        #expect(WritePlanner.propertySet(set, device: device(), product: product)
            == .failure(.init("limit=2500 is above its maximum 2000")))
        let wrongType = [ServiceReport(serviceId: "s", properties: ["relay": "on"])]
        #expect(WritePlanner.propertySet(wrongType, device: device(), product: product)
            == .failure(.init("relay must be a boolean, got string")))
    }

    @Test func registerRangeIsCheckedWhenTheModelHasNone() {
        let set = [ServiceReport(serviceId: "s", properties: ["wide": 3_000_000_000])]
        if case .failure(let rejection) = WritePlanner.propertySet(set, device: device(), product: product) {
            #expect(rejection.description.contains("does not fit a int32"))
        } else {
            Issue.record("an int32 took 3e9")
        }
    }

    @Test func unmappedPropertiesAreRefusedBeforeAnythingIsWritten() {
        let set = [ServiceReport(serviceId: "s", properties: ["limit": 10, "colour": "red"])]
        #expect(WritePlanner.propertySet(set, device: device(), product: product)
            == .failure(.init("s.colour is not mapped to a register of n")))
    }

    @Test func commandsWriteTheirParasAndConstants() {
        let setup = ChildCommand(requestId: "r1", nodeId: "n", serviceId: "s", commandName: "setup", paras: ["ratio": 40])
        #expect(WritePlanner.command(setup, device: device(), product: product) == .success([.register(address: 30, value: 40)]))
        let reset = ChildCommand(requestId: "r2", nodeId: "n", serviceId: nil, commandName: "reset", paras: [:])
        #expect(WritePlanner.command(reset, device: device(), product: product) == .success([.coil(address: 9, value: true)]))
        let missing = ChildCommand(requestId: "r3", nodeId: "n", serviceId: "s", commandName: "setup", paras: [:])
        #expect(WritePlanner.command(missing, device: device(), product: product) == .failure(.init("required parameter ratio is missing")))
        let tooBig = ChildCommand(requestId: "r4", nodeId: "n", serviceId: "s", commandName: "setup", paras: ["ratio": 5000])
        #expect(WritePlanner.command(tooBig, device: device(), product: product) == .failure(.init("ratio=5000 is above its maximum 1000")))
        let unknown = ChildCommand(requestId: "r5", nodeId: "n", serviceId: "s", commandName: "explode", paras: [:])
        #expect(WritePlanner.command(unknown, device: device(), product: product) == .failure(.init("n has no command \"explode\"")))
    }

    @Test func exceptionsMapToResultCodes() {
        let outcome = ModbusError.exception(code: 2).outcome
        #expect(outcome.resultCode == DownlinkResultCode.deviceError.rawValue)
        #expect(outcome.resultDesc == "Modbus exception 2 (illegal data address)")
        #expect(outcome.paras["modbus_exception"] == 2)
        #expect(ModbusError.timeout.outcome.resultCode == DownlinkResultCode.timeout.rawValue)
        #expect(ModbusError.connection("refused").outcome.resultCode == DownlinkResultCode.deviceUnreachable.rawValue)
        #expect(ModbusError.crc.outcome.resultCode == DownlinkResultCode.deviceError.rawValue)
    }
}
