import Foundation

extension GatewayConfig {
    /// Reads `edgegw.toml`'s tree; relative paths are resolved against `baseDirectory`.
    /// Tables other modules own (`[modbus]`) are left to them: the caller calls `root.finish()`.
    /// Every problem goes to `reader.diagnostics`; the result is valid only when none were
    /// added. It is still returned when the essentials could be read, so the files it names
    /// are checked too and a technician sees every problem in one pass.
    public static func parse(_ root: ConfigReader, baseDirectory: String) -> GatewayConfig? {
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        }

        // [gateway]
        let gatewayReader = root.table("gateway", required: true)
        let deviceId = gatewayReader?.nonEmptyString("device_id", fix: "copy the gateway's device_id from the IoTDA console")
        let secretFile = gatewayReader?.nonEmptyString("secret_file", fix: "point it at a file with mode 0600 that holds the device secret")
        // The platform's rule (it is also part of every MQTT topic and of the ClientId).
        if let deviceId, let problem = PlatformIdentifiers.deviceIdProblem(deviceId) {
            gatewayReader?.report("device_id", problem.problem, fix: problem.fix)
        }
        gatewayReader?.finish()

        // [cloud]
        let cloudReader = root.table("cloud", required: true)
        let host = cloudReader?.nonEmptyString("host", fix: "the access address from the IoTDA console, or 127.0.0.1 for a local broker")
        let tls = cloudReader?.bool("tls", default: true) ?? true
        let port = cloudReader?.int("port", default: tls ? Cloud.defaultTLSPort : Cloud.defaultPlainPort, range: 1...65535)
            ?? Cloud.defaultTLSPort
        let caFile = cloudReader?.nonEmptyString("ca_file", required: tls,
                                                 fix: "the platform's CA bundle (huaweicloud-iot-root-ca-list.pem), or set tls = false for a local test broker")
        let signRaw = cloudReader?.int("sign_type", default: 0, range: 0...1) ?? 0
        let keepalive = cloudReader?.int("keepalive_seconds", default: Cloud.defaultKeepalive, range: Cloud.keepaliveRange)
            ?? Cloud.defaultKeepalive
        let mps = cloudReader?.int("max_messages_per_second", default: Cloud.defaultMessagesPerSecond, range: 1...100_000)
            ?? Cloud.defaultMessagesPerSecond
        let bps = cloudReader?.int("max_bytes_per_second", default: Cloud.defaultBytesPerSecond, range: 1024...1_073_741_824)
            ?? Cloud.defaultBytesPerSecond
        if !tls, let cloudReader, cloudReader.has("ca_file") {
            cloudReader.report("ca_file", "ca_file is set but tls = false", fix: "remove ca_file, or set tls = true")
        }
        cloudReader?.finish()

        // [listeners]
        let listenersReader = root.table("listeners")
        func listener(_ name: String, enabled: Bool, port: Int) -> Listener {
            guard let r = listenersReader?.table(name) else { return Listener(enabled: enabled, port: port, bind: ["::"]) }
            let l = Listener(enabled: r.bool("enabled", default: enabled),
                             port: r.int("port", default: port, range: 1...65535),
                             bind: r.stringArray("bind", required: false) ?? ["::"])
            if l.bind.isEmpty { r.report("bind", "bind needs at least one address", fix: "use [\"::\"] for every address") }
            r.finish()
            return l
        }
        let listeners = Listeners(
            coap: listener("coap", enabled: false, port: Listeners.defaultCoAPPort),
            coaps: listener("coaps", enabled: true, port: Listeners.defaultCoAPSPort),
            bootstrap: listener("bootstrap", enabled: false, port: Listeners.defaultBootstrapPort))
        listenersReader?.finish()
        let enabled = [("coap", listeners.coap), ("coaps", listeners.coaps), ("bootstrap", listeners.bootstrap)].filter { $0.1.enabled }
        for (i, a) in enabled.enumerated() {
            for b in enabled[(i + 1)...] where a.1.port == b.1.port {
                (listenersReader ?? root).report(b.0, "listeners \(a.0) and \(b.0) both use port \(a.1.port)",
                                                 fix: "give each enabled listener its own port")
            }
        }

        // [store]
        let storeReader = root.table("store")
        let stateDirectory = storeReader?.nonEmptyString("state_directory", required: false) ?? "/var/lib/edgegw"
        let outboxMiB = storeReader?.int("outbox_max_mib", default: StoreSettings.defaultOutboxMaxMiB, range: 1...65536)
            ?? StoreSettings.defaultOutboxMaxMiB
        storeReader?.finish()

        // [log]
        let logReader = root.table("log")
        let level = logReader?.choice("level", as: LogLevel.self, required: false) ?? .info
        logReader?.finish()

        // [limits]
        let limitsReader = root.table("limits")
        let limits = Limits(
            maxDTLSHandshakes: limitsReader?.int("max_dtls_handshakes", default: Limits.defaultMaxDTLSHandshakes, range: 1...100_000)
                ?? Limits.defaultMaxDTLSHandshakes,
            udpReceiveBufferBytes: limitsReader?.int("udp_receive_buffer_bytes", default: Limits.defaultUDPReceiveBufferBytes,
                                                     range: 65536...268_435_456) ?? Limits.defaultUDPReceiveBufferBytes,
            shutdownSeconds: limitsReader?.int("shutdown_seconds", default: Limits.defaultShutdownSeconds, range: 1...300)
                ?? Limits.defaultShutdownSeconds)
        limitsReader?.finish()

        // [paths]
        let pathsReader = root.table("paths")
        let paths = Paths(
            products: resolve(pathsReader?.nonEmptyString("products", required: false) ?? "products"),
            devices: resolve(pathsReader?.nonEmptyString("devices", required: false) ?? "devices"),
            nbiotDevices: pathsReader?.nonEmptyString("nbiot_devices", required: false).map(resolve))
        pathsReader?.finish()

        // [upgrade]
        let upgrade = Upgrade.parse(root.table("upgrade"), cloudCAFile: tls ? caFile.map(resolve) : nil, resolve: resolve)
        // [metrics]
        let metrics = Metrics.parse(root.table("metrics"))
        // [admin]
        let admin = Admin.parse(root.table("admin"), resolve: resolve)
        guard let deviceId, let secretFile, let host else { return nil }
        return GatewayConfig(
            gateway: Identity(deviceId: deviceId, secretFile: resolve(secretFile)),
            cloud: Cloud(host: host, port: port, tls: tls, caFile: caFile.map(resolve),
                         signType: SignType(rawValue: signRaw) ?? .noTimestampCheck,
                         keepaliveSeconds: keepalive, maxMessagesPerSecond: mps, maxBytesPerSecond: bps),
            listeners: listeners,
            store: StoreSettings(stateDirectory: resolve(stateDirectory), outboxMaxBytes: outboxMiB * 1024 * 1024),
            log: LogSettings(level: level),
            limits: limits,
            paths: paths,
            upgrade: upgrade,
            metrics: metrics,
            admin: admin)
    }
}
