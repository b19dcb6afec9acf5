import Testing
@testable import Modbus

@Suite struct ModbusLibraryTests {
    @Test func linksLibmodbus31() {
        #expect(ModbusLibrary.version.hasPrefix("3.1."))
    }
}
