import Foundation
import Testing
import TestSupport
@testable import IoTDA

@Suite struct CredentialsReportTests {
    let now = Date(timeIntervalSince1970: 1_532_454_980) // 2018-07-24 17:56:20 UTC

    @Test func printsThreeLines() throws {
        let secret = "mySecret123"
        let lines = try CredentialsReport.lines(deviceId: "60a87ffebaccd902c2f1abbb_0001", secret: secret, time: nil, signType: 0, now: now)
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"2018072417",b"mySecret123",hashlib.sha256).hexdigest())'
        #expect(lines == [
            "client_id: 60a87ffebaccd902c2f1abbb_0001_0_0_2018072417",
            "username: 60a87ffebaccd902c2f1abbb_0001",
            "password: 44e7b99f5b75f3628995dfa64fbb00c8e466621355c056617df9aefc6f292753",
        ])
        let explicit = try CredentialsReport.lines(deviceId: "gw_1", secret: secret, time: "2019120219", signType: 1, now: now)
        #expect(explicit[0] == "client_id: gw_1_0_1_2019120219")
    }

    @Test func badArguments() {
        let secret = "s"
        func message(_ time: String?, _ sign: Int, _ id: String = "gw") -> String? {
            do { _ = try CredentialsReport.lines(deviceId: id, secret: secret, time: time, signType: sign, now: now); return nil } catch { return error.description }
        }
        #expect(message(nil, 2)?.contains("--sign-type") == true)
        #expect(message("2018-07-24", 0)?.contains("--time") == true)
        #expect(message("1970000100", 1)?.contains("not a real UTC hour") == true)
        #expect(message("1970000100", 0) == nil) // sign type 0: the platform does not check it
        #expect(message(nil, 0, "bad id")?.contains("device_id") == true)
    }
}
