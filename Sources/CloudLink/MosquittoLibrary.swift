import CMosquitto

/// Facts about the linked libmosquitto.
public enum MosquittoLibrary {
    /// libmosquitto's runtime version, e.g. "2.0.11".
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = mosquitto_lib_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// `mosquitto_lib_init` once per process (it sets up OpenSSL and the random source).
    private static let initialized: Bool = mosquitto_lib_init() == Int32(MOSQ_ERR_SUCCESS.rawValue)

    @discardableResult
    static func initialize() -> Bool { initialized }
}
