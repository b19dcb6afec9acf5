import Foundation

/// A complete, valid configuration in a temporary folder, for tests to break one piece at a time.
public final class ConfigFixture: @unchecked Sendable {
    public let directory = TemporaryDirectory(prefix: "edgegw-config")
    public var configPath: String { directory.file("edgegw.toml") }
    public var secretPath: String { directory.file("secrets/device_secret") }

    public static let product = """
        [product]
        id = "power-meter"
        manufacturer = "Acme"
        model = "PM-1"
        device_type = "PowerMeter"
        protocol = "Modbus"

        [[services]]
        id = "Energy"

          [[services.properties]]
          name = "voltage"
          type = "decimal"
          min = 0
          max = 1000
          unit = "V"

          [[services.properties]]
          name = "relay"
          type = "boolean"
          access = "RW"
        """

    /// A Modbus TCP meter; `port` is where a test's slave listens (nothing listens by default).
    public static func device(nodeId: String = "meter-1", port: Int = 1, unitId: Int = 1) -> String {
        """
        node_id = "\(nodeId)"
        product_id = "power-meter"
        name = "Meter 1"
        unit_id = \(unitId)

        [transport]
        kind = "tcp"
        host = "127.0.0.1"
        port = \(port)

        [[points]]
        name = "voltage"
        service_id = "Energy"
        table = "input"
        address = 0
        type = "float32"

        [[points]]
        name = "relay"
        service_id = "Energy"
        table = "coil"
        address = 0
        type = "bool"
        writable = true
        """
    }

    public static let device = device()

    public init(cloudPort: Int = 1883, stateDirectory: String? = nil, extra: String = "") {
        directory.write("secrets/device_secret", "s3cret-for-tests\n", mode: 0o600)
        directory.write("products/power-meter.toml", Self.product)
        directory.write("devices/meter-1.toml", Self.device)
        writeConfig(cloudPort: cloudPort, stateDirectory: stateDirectory, extra: extra)
    }

    public func writeConfig(cloudPort: Int = 1883, stateDirectory: String? = nil, extra: String = "") {
        directory.write("edgegw.toml", Self.mainConfig(cloudPort: cloudPort,
                                                       stateDirectory: stateDirectory ?? directory.file("state"),
                                                       extra: extra))
    }

    public static func mainConfig(cloudPort: Int, stateDirectory: String, extra: String = "") -> String {
        """
        [gateway]
        device_id = "gw-test-0001"
        secret_file = "secrets/device_secret"

        [cloud]
        host = "127.0.0.1"
        port = \(cloudPort)
        tls = false
        keepalive_seconds = 60

        [listeners.coaps]
        enabled = false

        [store]
        state_directory = "\(stateDirectory)"

        [log]
        level = "debug"
        \(extra)
        """
    }
}
