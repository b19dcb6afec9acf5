import Foundation
import GatewayCore
import Testing
@testable import IoTDA

/// The `$ota` downlinks checked before the gateway acts on them (spec §2.9.1, §2.9.3).
@Suite struct OTANoticeTests {
    static let sign = "595124473f866b033dfa1f7e831c8c99a12f6143f392dfa996a819010842c99d"

    func decode(_ json: String) throws -> OTADownlink { try OTADownlink.decode(Data(json.utf8)) }

    func notice(type: String, paras: String) throws -> Result<OTANotice, OTANoticeError> {
        let d = try decode(#"{"object_device_id":"c1","services":[{"service_id":"$ota","event_type":"\#(type)","paras":\#(paras)}]}"#)
        #expect(d.objectDeviceId == "c1")
        #expect(d.items.count == 1)
        return try #require(d.items.first).result
    }

    func error(type: String = "software_upgrade", paras: String) throws -> OTANoticeError? {
        if case .failure(let e) = try notice(type: type, paras: paras) { return e }
        return nil
    }

    @Test func theSpecsUpgradeExample() throws {
        let d = try decode(#"{"object_device_id":"{object_device_id}","services":[{"service_id":"$ota","event_type":"firmware_upgrade","event_time":"20151212T121212Z","paras":{"version":"v1.2","url":"https://10.1.1.1:8943/iodm/inner/v1.3.0/firmwarefiles/ca1d954771ae61e5098c7f83","file_size":81362928,"access_token":"595124473f866b033dfa1f","expires":86400,"sign":"595124473f866b033dfa1f7e831c8c99a12f6143f392dfa996a819010842c99d"}}]}"#)
        #expect(d.objectDeviceId == "{object_device_id}")
        #expect(d.items.first?.eventTime == "20151212T121212Z")
        guard case .upgrade(let n) = try #require(d.notices.first) else { Issue.record("not an upgrade"); return }
        #expect(n.kind == .firmware)
        #expect(n.eventType == "firmware_upgrade")
        #expect(n.version == "v1.2")
        #expect(n.expires == .seconds(86400))
        #expect(n.source == .platform(UpgradePackage(version: "v1.2", url: "https://10.1.1.1:8943/iodm/inner/v1.3.0/firmwarefiles/ca1d954771ae61e5098c7f83",
                                                     fileSize: 81_362_928, accessToken: "595124473f866b033dfa1f", expires: 86400, sign: Self.sign)))
    }

    @Test func theSpecsOBSExample() throws {
        let d = try decode(#"{"object_device_id":"{object_device_id}","services":[{"service_id":"$ota","event_type":"software_upgrade_v2","event_time":"20151212T121212Z","paras":{"version":"v1.2","url":"https://*****.obs.cn-north-4.myhuaweicloud.com:443/test.bin?AccessKeyId=DX5G7W*****","expires":3600}}]}"#)
        guard case .upgrade(let n) = try #require(d.notices.first) else { Issue.record("not an upgrade"); return }
        #expect(n.kind == .software)
        #expect(n.eventType == "software_upgrade_v2")
        #expect(n.expires == .seconds(3600))
        #expect(n.url.hasPrefix("https://*****.obs."))
    }

    @Test func versionQueryWithEmptyOrAbsentParas() throws {
        #expect(try notice(type: "version_query", paras: "{}") == .success(.versionQuery))
        let d = try decode(#"{"object_device_id":"c1","services":[{"service_id":"$ota","event_type":"version_query"}]}"#)
        #expect(d.notices == [.versionQuery])
        let n = try decode(#"{"object_device_id":"c1","services":[{"service_id":"$ota","event_type":"version_query","paras":null}]}"#)
        #expect(n.notices == [.versionQuery])
    }

    @Test func optionalFieldsMayBeAbsent() throws {
        let r = try notice(type: "software_upgrade", paras: #"{"version":"2","url":"http://h/p","file_size":0,"sign":"\#(Self.sign.uppercased())"}"#)
        guard case .success(.upgrade(let n)) = r, case .platform(let p) = n.source else { Issue.record("\(r)"); return }
        #expect(p.accessToken == nil && p.expires == nil && n.expires == nil)
        #expect(p.sign == Self.sign, "sign is kept lower-case, whatever case it came in")
        #expect(p.fileSize == 0)
    }

    @Test func missingRequiredFields() throws {
        for field in ["version", "url", "file_size", "sign"] {
            var paras: [String: String] = ["version": #""2""#, "url": #""https://h/p""#, "file_size": "10", "sign": "\"\(Self.sign)\""]
            paras[field] = nil
            let json = "{" + paras.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
            let e = try #require(try error(paras: json))
            #expect(e.code == .missingField(field), "\(field): \(e)")
            #expect(e.eventType == "software_upgrade")
        }
        #expect(try error(type: "firmware_upgrade_v2", paras: #"{"version":"2"}"#)?.code == .missingField("url"))
        #expect(try error(type: "firmware_upgrade", paras: "null")?.code == .missingField("paras"))
    }

    @Test func wrongTypes() throws {
        #expect(try error(paras: #"{"version":"2","url":"https://h/p","file_size":"10","sign":"\#(Self.sign)"}"#)?.code == .wrongType("file_size"))
        let fractional = try error(paras: #"{"version":"2","url":"https://h/p","file_size":10.5,"sign":"\#(Self.sign)"}"#)
        #expect(fractional?.code == .wrongType("file_size"), "\(String(describing: fractional))")
        #expect(try error(paras: #"{"version":2,"url":"https://h/p","file_size":10,"sign":"\#(Self.sign)"}"#)?.code == .wrongType("version"))
        #expect(try error(paras: #"{"version":"2","url":"https://h/p","file_size":10,"expires":"soon","sign":"\#(Self.sign)"}"#)?.code == .wrongType("expires"))
        #expect(try error(type: "software_upgrade_v2", paras: #"{"version":"2","url":"https://h/p","expires":1.5}"#)?.code == .wrongType("expires"))
    }

    @Test func signMustBeASHA256() throws {
        for bad in ["00", String(Self.sign.dropLast()), Self.sign + "0", String(Self.sign.dropLast()) + "g"] {
            let e = try #require(try error(paras: #"{"version":"2","url":"https://h/p","file_size":10,"sign":"\#(bad)"}"#))
            #expect(e.code == .badSign)
            #expect(e.description.contains("64 hex digits"))
        }
        #expect(UpgradeNotice.isSHA256Hex(Self.sign))
        #expect(OTALimits.signHexDigits == 64)
    }

    @Test func urlMustBeHTTPOrHTTPS() throws {
        for bad in ["ftp://h/p", "h/p", "", "https://", "file:///etc/passwd", "coap://h/p"] {
            #expect(try error(paras: #"{"version":"2","url":"\#(bad)","file_size":10,"sign":"\#(Self.sign)"}"#)?.code == .badURL, "\(bad)")
            #expect(try error(type: "firmware_upgrade_v2", paras: #"{"version":"2","url":"\#(bad)"}"#)?.code == .badURL, "\(bad)")
        }
        #expect(try error(paras: #"{"version":"2","url":"HTTPS://h:8943/p?x=1","file_size":10,"sign":"\#(Self.sign)"}"#) == nil)
    }

    @Test func negativeNumbersAndEmptyVersion() throws {
        #expect(try error(paras: #"{"version":"2","url":"https://h/p","file_size":-1,"sign":"\#(Self.sign)"}"#)?.code == .negativeFileSize(-1))
        #expect(try error(paras: #"{"version":"2","url":"https://h/p","file_size":1,"expires":-5,"sign":"\#(Self.sign)"}"#)?.code == .negativeExpires(-5))
        #expect(try error(type: "software_upgrade_v2", paras: #"{"version":"2","url":"https://h/p","expires":-1}"#)?.code == .negativeExpires(-1))
        #expect(try error(paras: #"{"version":" ","url":"https://h/p","file_size":1,"sign":"\#(Self.sign)"}"#)?.code == .emptyField("version"))
    }

    /// A bad notice is answered with result 255, the device's version and the reason.
    @Test func aBadNoticeHasItsReply() throws {
        let e = try #require(try error(paras: #"{"version":"2","url":"https://h/p","file_size":10,"sign":"00"}"#))
        #expect(e.resultCode == .internalError)
        let reply = e.reply(currentVersion: "V1.0")
        #expect(reply.resultCode == 255)
        #expect(reply.version == "V1.0")
        #expect(reply.progress == nil)
        #expect(reply.description?.contains("software_upgrade") == true)
        #expect(reply.description?.contains("sign") == true)
        let when = Date(timeIntervalSince1970: 1_450_008_732)
        let message = e.reply(child: "c1", currentVersion: "V1.0", at: when)
        let json = try normalized(IoTDAJSON.encode(message))
        let expected = #"{"object_device_id":"c1","services":[{"service_id":"$ota","event_type":"upgrade_progress_report","event_time":"20151213T121212Z","paras":{"result_code":255,"version":"V1.0","description":"\#(reply.description ?? "")"}}]}"#
        #expect(json == (try normalized(Data(expected.utf8))))
        // A reason that quotes a long URL is cut to our bound.
        let long = try #require(try error(paras: #"{"version":"2","url":"ftp://\#(String(repeating: "a", count: 400))","file_size":10,"sign":"\#(Self.sign)"}"#))
        #expect((long.reply(currentVersion: "").description?.count ?? 0) <= OTALimits.maxDescriptionCharacters)
        #expect(throws: Never.self) { try long.reply(currentVersion: "").validate() }
    }

    @Test func oneBadNoticeDoesNotCostTheOthers() throws {
        let d = try decode(#"{"object_device_id":"c1","services":[{"service_id":"$ota","event_type":"software_upgrade","paras":{"version":"2"}},{"service_id":"$ota","event_type":"version_query","paras":{}},{"service_id":"$time_sync","event_type":"time_sync_response","paras":{}},{"service_id":"$ota","event_type":"version_report","paras":{}}]}"#)
        #expect(d.items.map(\.eventType) == ["software_upgrade", "version_query"], "only $ota downlinks; uplink types are DownlinkEvents' to report")
        #expect(d.notices == [.versionQuery])
        #expect(d.errors.map(\.code) == [.missingField("url")])
    }

    @Test func unusableEnvelopes() {
        for bad in ["[]", "not json", #""x""#] {
            #expect(throws: OTANoticeError.self) { try OTADownlink.decode(Data(bad.utf8)) }
        }
        #expect(throws: OTANoticeError.self) { try OTADownlink.decode(Data("{}".utf8), limit: 1) }
        #expect((try? OTADownlink.decode(Data("{}".utf8))) == OTADownlink(objectDeviceId: nil, items: []))
    }

    /// The typed path: an event `DownlinkEvents` already decoded is checked the same way.
    @Test func checkingDecodedEvents() throws {
        #expect(try OTANotice(checking: .versionQuery) == .versionQuery)
        #expect(try OTANotice(checking: .timeSyncResponse(TimeSyncResponse(deviceSendTime: 1, serverRcvTime: 2, serverSendTime: 3))) == nil)
        #expect(throws: OTANoticeError.self) {
            try OTANotice(checking: .softwareUpgrade(UpgradePackage(version: "1", url: "u", fileSize: 1, sign: "s")))
        }
        let ok = try OTANotice(checking: .softwareUpgradeV2(UpgradePackageV2(version: "1", url: "https://o/p")))
        #expect(ok == .upgrade(try UpgradeNotice(kind: .software, obs: UpgradePackageV2(version: "1", url: "https://o/p"))))
    }
}
