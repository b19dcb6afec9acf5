import Testing
@testable import GatewayCore

@Suite struct ProductModelTests {
    @Test func propertyViolationsFollowTheModel() {
        let voltage = ProductModel.Property(name: "voltage", type: .decimal, min: 0, max: 250)
        #expect(voltage.violation(of: .double(230.5)) == nil)
        #expect(voltage.violation(of: .double(300))?.contains("above its maximum 250") == true)
        #expect(voltage.violation(of: .string("x"))?.contains("must be a number") == true)
        let mode = ProductModel.Property(name: "mode", type: .string, enumValues: ["eco", "boost"])
        #expect(mode.violation(of: "eco") == nil)
        #expect(mode.violation(of: "off") != nil)
        let count = ProductModel.Property(name: "n", type: .int, min: 1, max: 3)
        #expect(count.violation(of: .int(2)) == nil)
        #expect(count.violation(of: .double(2.5)) != nil)
        #expect(count.violation(of: .int(0))?.contains("below its minimum 1") == true)
    }
}
