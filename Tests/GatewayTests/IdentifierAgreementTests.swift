import Testing
import GatewayCore
import IoTDA

/// `edgegw check` and the MQTT connect hold a device_id to the same platform limit.
@Suite struct IdentifierAgreementTests {
    @Test func checkAndConnectAgreeOnTheDeviceIdRule() {
        #expect(PlatformIdentifiers.deviceIdLengths == MQTTCredentials.deviceIdLengths)
        for id in ["gw-1_A", String(repeating: "a", count: 128), String(repeating: "a", count: 129), "", "gw.1", "gw 1", "gw/1"] {
            let connects = (try? MQTTCredentials.validate(deviceId: id)) != nil
            #expect(connects == (PlatformIdentifiers.deviceIdProblem(id) == nil), "\(id)")
        }
    }
}
