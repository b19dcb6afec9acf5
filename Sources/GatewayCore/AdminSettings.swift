import Foundation

extension GatewayConfig {
    /// `[admin]`: the local socket `edgegw status`, `edgegw devices` and `edgegw trace` ask the
    /// running daemon through (README, Operations).
    public struct Admin: Sendable, Equatable {
        /// Under the unit's `RuntimeDirectory=edgegw`.
        public static let defaultSocket = "/run/edgegw/admin.sock"
        /// The group that may use the socket besides root and the daemon's own user.
        public static let group = "edgegw"

        public var enabled: Bool
        /// The Unix stream socket's path (absolute, or relative to the config file's folder).
        public var socket: String

        public init(enabled: Bool = true, socket: String = Admin.defaultSocket) {
            self.enabled = enabled
            self.socket = socket
        }

        /// Reads `[admin]` (absent: every default).
        public static func parse(_ reader: ConfigReader?, resolve: (String) -> String) -> Admin {
            guard let reader else { return Admin() }
            let admin = Admin(enabled: reader.bool("enabled", default: true),
                              socket: resolve(reader.nonEmptyString("socket", required: false) ?? defaultSocket))
            // sockaddr_un's sun_path holds 108 bytes with the terminating NUL.
            if admin.socket.utf8.count > 107 {
                reader.report("socket", "the socket path is \(admin.socket.utf8.count) bytes long; a Unix socket's path holds at most 107",
                              fix: "use a shorter path, such as \(defaultSocket)")
            }
            reader.finish()
            return admin
        }
    }
}
