/// The daemon's own version, printed by `edgegw version` and logged at start.
public enum GatewayInfo {
    public static let version = "0.1.0"
}
