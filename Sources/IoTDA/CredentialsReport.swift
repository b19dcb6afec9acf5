import Foundation
import GatewayCore

/// What `edgegw credentials` prints: three lines `client_id: …`, `username: …`, `password: …`.
public enum CredentialsReport {
    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - time: `YYYYMMDDHH`, or nil for the UTC hour of `now`.
    ///   - signType: 0 or 1.
    ///   - secret: the device secret (the CLI reads it with `Config.SecretFile`).
    public static func lines(deviceId: String, secret: String, time: String?, signType: Int,
                             now: Date) throws(CredentialsReport.Error) -> [String] {
        guard let sign = SignType(rawValue: signType) else {
            throw Error(description: "--sign-type must be 0 (timestamp not checked) or 1 (timestamp checked), got \(signType)")
        }
        let timestamp: ConnectTimestamp
        if let time {
            guard let parsed = ConnectTimestamp(parsing: time) else {
                throw Error(description: "--time must be 10 digits YYYYMMDDHH (UTC), got '\(time)'")
            }
            // With sign type 1 the platform compares the timestamp with its clock: a non-date cannot pass.
            if sign == .timestampCheck, !parsed.isCalendarHour {
                throw Error(description: "--time '\(time)' is not a real UTC hour; sign type 1 needs one")
            }
            timestamp = parsed
        } else {
            timestamp = ConnectTimestamp(now)
        }
        do {
            let c = try MQTTCredentials(deviceId: deviceId, secret: secret, signType: sign, timestamp: timestamp)
            return ["client_id: \(c.clientId)", "username: \(c.username)", "password: \(c.password)"]
        } catch {
            throw Error(description: error.description)
        }
    }
}
