import Foundation
import Testing
@testable import IoTDA

@Suite struct CredentialsTests {
    static let deviceId = "60a87ffebaccd902c2f1abbb_0001"

    /// Expected passwords computed independently with Python's hmac (key = timestamp, message = secret):
    ///   python3 -c 'import hmac,hashlib;print(hmac.new(b"2018072417",b"mySecret123",hashlib.sha256).hexdigest())'
    @Test func passwordIsHMACKeyedWithTimestampOverSecret() throws {
        let c = try MQTTCredentials(deviceId: Self.deviceId, secret: "mySecret123", signType: .noTimestampCheck,
                                    timestamp: #require(ConnectTimestamp(parsing: "2018072417")))
        #expect(c.password == "44e7b99f5b75f3628995dfa64fbb00c8e466621355c056617df9aefc6f292753")
        // The inverted order (key = secret, message = timestamp), computed the same way, must not be what we send:
        //   hmac.new(b"mySecret123", b"2018072417", hashlib.sha256).hexdigest()
        #expect(c.password != "a4d05d0b74d27866e3a50e803bfa2b3ddf518ed1282ea0c3cfc08007a31bf1e8")
        #expect(c.clientId == "60a87ffebaccd902c2f1abbb_0001_0_0_2018072417")
        #expect(c.username == Self.deviceId)
    }

    /// python3 -c 'import hmac,hashlib;print(hmac.new(b"2019120219",b"a1b2c3d4e5f6",hashlib.sha256).hexdigest())'
    @Test func signTypeOneVector() throws {
        let c = try MQTTCredentials(deviceId: Self.deviceId, secret: "a1b2c3d4e5f6", signType: .timestampCheck,
                                    timestamp: #require(ConnectTimestamp(parsing: "2019120219")))
        #expect(c.clientId == "60a87ffebaccd902c2f1abbb_0001_0_1_2019120219")
        #expect(c.password == "50657a7683254c3219aac9f621f191449bba1b0c65124f45769dc62dc161762b")
    }

    /// Digests with zero bytes: a leading 0x00 and an interior 0x00 must both render as "00", the password
    /// stays 64 characters, and the timestamp in the ClientId is the one the password was made with.
    ///   python3 -c 'import hmac,hashlib;print(hmac.new(b"2020012409",b"edgegw-test-secret",hashlib.sha256).hexdigest())'
    ///   python3 -c 'import hmac,hashlib;print(hmac.new(b"2026112203",b"edgegw-test-secret",hashlib.sha256).hexdigest())'
    @Test(arguments: [
        ("2020012409", "00a90c8f9ea474eddc4706068563069993c8fea0fd0b232a651d298f9b036956"),
        ("2026112203", "6046cae983d529ad9d00957a67aa371f4b348220b9480b3bdb59ea23b1f1127a"),
    ])
    func digestWithZeroByte(timestamp: String, expected: String) throws {
        let ts = try #require(ConnectTimestamp(parsing: timestamp))
        let c = try MQTTCredentials(deviceId: "gw_1", secret: "edgegw-test-secret", signType: .timestampCheck, timestamp: ts)
        #expect(c.password == expected)
        #expect(c.password.count == 64)
        #expect(c.clientId == "gw_1_0_1_\(timestamp)")
        #expect(c.timestamp == ts)
        #expect(HMACSHA256.digest(key: Array(timestamp.utf8), message: Array("edgegw-test-secret".utf8)).contains(0))
    }

    @Test func timestampIsTheUTCHour() throws {
        // 2018-07-24 17:56:20 UTC → 2018072417 (the documents' example).
        let date = Date(timeIntervalSince1970: 1_532_454_980)
        #expect(ConnectTimestamp(date).text == "2018072417")
        let c = try MQTTCredentials(deviceId: "gw", secret: "s", signType: .noTimestampCheck, at: date)
        #expect(c.clientId == "gw_0_0_2018072417")
        // Just before and at midnight UTC, and a leap day.
        #expect(ConnectTimestamp(Date(timeIntervalSince1970: 1_704_067_199)).text == "2023123123")
        #expect(ConnectTimestamp(Date(timeIntervalSince1970: 1_704_067_200)).text == "2024010100")
        #expect(ConnectTimestamp(Date(timeIntervalSince1970: 1_709_210_096)).text == "2024022912")
    }

    @Test func timestampParsing() {
        #expect(ConnectTimestamp(parsing: "2018072417")?.isCalendarHour == true)
        // The FAQ's log connected with this (sign type 0 does not check it); it is not a real hour.
        #expect(ConnectTimestamp(parsing: "1970000100")?.isCalendarHour == false)
        #expect(ConnectTimestamp(parsing: "2018022924")?.isCalendarHour == false)
        #expect(ConnectTimestamp(parsing: "201807241") == nil)
        #expect(ConnectTimestamp(parsing: "20180724170") == nil)
        #expect(ConnectTimestamp(parsing: "2018-07-24") == nil)
        #expect(ConnectTimestamp(parsing: "２０１８０７２４１７") == nil)
    }

    @Test func deviceIdRules() throws {
        #expect(throws: CredentialsError.self) { try MQTTCredentials.validate(deviceId: "") }
        #expect(throws: CredentialsError.self) { try MQTTCredentials.validate(deviceId: String(repeating: "a", count: 129)) }
        #expect(throws: CredentialsError.self) { try MQTTCredentials.validate(deviceId: "gw/1") }
        #expect(throws: CredentialsError.self) { try MQTTCredentials.validate(deviceId: "gw 1") }
        try MQTTCredentials.validate(deviceId: String(repeating: "a", count: 128))
        try MQTTCredentials.validate(deviceId: "60a87ffebaccd902c2f1abbb_node-01")
        #expect(throws: CredentialsError.self) {
            try MQTTCredentials(deviceId: "gw", secret: "", signType: .noTimestampCheck, at: Date())
        }
    }

    @Test func clientIdParsesFromTheRight() throws {
        // The FAQ's own log: the device id itself contains '_'.
        let parsed = try ClientIdentifier(parsing: "60bf519cb86d7b02bc518aa9_202106081919_0_0_1970000100")
        #expect(parsed.deviceId == "60bf519cb86d7b02bc518aa9_202106081919")
        #expect(parsed.signType == .noTimestampCheck)
        #expect(parsed.timestamp.text == "1970000100")
        for bad in ["gw_0_0", "gw_1_0_2018072417", "gw_0_2_2018072417", "gw_0_0_201807241", "_0_0_2018072417", "gw_0_00_2018072417"] {
            #expect(throws: CredentialsError.self, "\(bad)") { try ClientIdentifier(parsing: bad) }
        }
    }

    @Test func verifyLikeThePlatform() throws {
        let now = Date(timeIntervalSince1970: 1_532_454_980) // 2018072417
        let c = try MQTTCredentials(deviceId: "gw_1", secret: "s3cret", signType: .timestampCheck, at: now)
        #expect(MQTTCredentials.verify(clientId: c.clientId, username: c.username, password: c.password, secret: "s3cret", now: now))
        #expect(!MQTTCredentials.verify(clientId: c.clientId, username: c.username, password: c.password, secret: "other", now: now))
        #expect(!MQTTCredentials.verify(clientId: c.clientId, username: "gw_2", password: c.password, secret: "s3cret", now: now))
        // Sign type 1 with a clock two hours off is refused; sign type 0 with the same timestamp passes.
        let skewed = try MQTTCredentials(deviceId: "gw_1", secret: "s3cret", signType: .timestampCheck, at: now.addingTimeInterval(-7200))
        #expect(!MQTTCredentials.verify(clientId: skewed.clientId, username: skewed.username, password: skewed.password, secret: "s3cret", now: now))
        let lax = try MQTTCredentials(deviceId: "gw_1", secret: "s3cret", signType: .noTimestampCheck, at: now.addingTimeInterval(-7200))
        #expect(MQTTCredentials.verify(clientId: lax.clientId, username: lax.username, password: lax.password, secret: "s3cret", now: now))
    }

    @Test func fieldLengthLimits() {
        #expect(MQTTCredentials.maxFieldLength == 256)
        #expect(MQTTCredentials.deviceIdLengths == 1...128)
        // The longest valid device id still fits the 256-byte ClientId.
        let longest = String(repeating: "d", count: 128)
        let c = try? MQTTCredentials(deviceId: longest, secret: "x", signType: .noTimestampCheck, at: Date())
        #expect(c != nil)
        #expect((c?.clientId.utf8.count ?? 999) <= MQTTCredentials.maxFieldLength)
    }
}

@Suite struct ConnackReturnCodeTests {
    @Test func documentedTable() {
        #expect(ConnackReturnCode(code: 0) == .accepted)
        #expect(ConnackReturnCode(code: 1) == .unacceptableProtocolVersion)
        #expect(ConnackReturnCode(code: 2) == .identifierRejected)
        #expect(ConnackReturnCode(code: 3) == .serverUnavailable)
        #expect(ConnackReturnCode(code: 4) == .badUsernameOrPassword)
        #expect(ConnackReturnCode(code: 5) == .notAuthorized)
        #expect(ConnackReturnCode(code: 0x86) == .badUsernameOrPassword)
        #expect(ConnackReturnCode(code: 0x87) == .notAuthorized)
        #expect(ConnackReturnCode(code: 0x85) == .identifierRejected)
        #expect(ConnackReturnCode(code: 42) == .other(42))
        for code in 0...5 { #expect(ConnackReturnCode(code: code).code == code) }
    }

    @Test func permanentRefusalsBackOffLong() {
        #expect(ConnackReturnCode.badUsernameOrPassword.isPermanentRefusal)
        #expect(ConnackReturnCode.notAuthorized.isPermanentRefusal)
        #expect(ConnackReturnCode.identifierRejected.isPermanentRefusal)
        #expect(!ConnackReturnCode.serverUnavailable.isPermanentRefusal)
        #expect(!ConnackReturnCode.accepted.isPermanentRefusal)
    }

    @Test func diagnosesName() {
        #expect(ConnackReturnCode.badUsernameOrPassword.diagnosis(signType: .noTimestampCheck).contains("wrong device secret"))
        #expect(!ConnackReturnCode.badUsernameOrPassword.diagnosis(signType: .noTimestampCheck).contains("clock"))
        #expect(ConnackReturnCode.badUsernameOrPassword.diagnosis(signType: .timestampCheck).contains("clock"))
        #expect(ConnackReturnCode.identifierRejected.diagnosis(signType: .noTimestampCheck).contains("keepalive"))
        #expect(ConnackReturnCode.notAuthorized.diagnosis(signType: .timestampCheck).contains("clock"))
        for code in [0, 1, 2, 3, 4, 5, 99] {
            #expect(!ConnackReturnCode(code: code).diagnosis(signType: .noTimestampCheck).isEmpty)
        }
    }
}
