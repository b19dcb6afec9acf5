import LwM2M
import TestSupport

extension LwM2MServer {
    /// A server for `devices` with one DTLS listener on a free loopback port, started; the caller
    /// stops it. libcoap's own output at `libcoapLogLevel` (3: errors only).
    static func startedOnLoopback(_ devices: [NBIoTDevice], libcoapLogLevel: Int32 = 3) throws -> (server: LwM2MServer, port: UInt16) {
        let port = FreePort.next(udp: true)
        var settings = LwM2MServerSettings(dtlsListeners: [.init(host: "127.0.0.1", port: port)])
        settings.libcoapLogLevel = libcoapLogLevel
        let server = LwM2MServer(settings: settings, directory: StaticDeviceDirectory(devices))
        try server.start()
        return (server, port)
    }
}
