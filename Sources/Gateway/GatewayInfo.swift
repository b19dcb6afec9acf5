import CloudLink
import LwM2M
import Modbus

/// The daemon's own version, printed by `edgegw version` and logged at start.
public enum GatewayInfo {
    public static let version = "0.1.0"

    /// edgegw's version and the C libraries it is linked with.
    public static var versionLines: [String] {
        [
            "edgegw \(version)",
            "libcoap \(CoAPLibrary.version) (\(CoAPLibrary.tlsLibrary), DTLS \(CoAPLibrary.dtlsSupported ? "yes" : "no"))",
            "libmodbus \(ModbusLibrary.version)",
            "libmosquitto \(MosquittoLibrary.version)",
        ]
    }
}
