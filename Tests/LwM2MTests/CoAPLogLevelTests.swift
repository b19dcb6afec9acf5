import CCoAP
import Foundation
import GatewayCore
@testable import LwM2M
import Logging
import Testing
import TestSupport

/// libcoap keeps one log level for the whole process, while each server has its own
/// `libcoapLogLevel`: servers in one process (the test suites run several at once) must not
/// turn each other's libcoap lines off.
@Suite struct CoAPLogLevelTests {
    static func server(level: Int32) -> LwM2MServer {
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: FreePort.next(udp: true))])
        settings.libcoapLogLevel = level
        return LwM2MServer(settings: settings, directory: StaticDeviceDirectory([]))
    }

    @Test func aQuieterServerStartedLaterDoesNotSilenceAnother() throws {
        let loud = Self.server(level: 4)
        try loud.start()
        defer { loud.stop() }
        let quiet = Self.server(level: 3)
        try quiet.start()
        defer { quiet.stop() }
        #expect(coap_get_log_level() >= 4)
        #expect(coap_dtls_get_log_level() >= 4)
    }

    @Test func eachServerKeepsOnlyTheLinesOfItsOwnLevel() {
        let log = LogRecorder()
        let logger = log.logger(label: "edgegw.lwm2m")
        CoAPLog.bind(CoAPLog.Sink(logger: logger, limiter: LogRateLimiter(), level: 3))
        defer { CoAPLog.unbind() }
        CoAPLog.deliver(level: 3, message: "an error")
        CoAPLog.deliver(level: 4, message: "a warning")
        #expect(log.entries.filter { $0.text.hasPrefix("libcoap") }.count == 1)
    }
}
