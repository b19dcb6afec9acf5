import CModbus

/// Facts about the linked libmodbus.
public enum ModbusLibrary {
    /// libmodbus's runtime version, e.g. "3.1.6".
    public static var version: String {
        "\(libmodbus_version_major).\(libmodbus_version_minor).\(libmodbus_version_micro)"
    }
}
