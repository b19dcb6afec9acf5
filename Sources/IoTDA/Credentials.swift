import Foundation
import GatewayCore

/// The ClientId timestamp: the UTC hour as `YYYYMMDDHH`, exactly 10 ASCII digits.
public struct ConnectTimestamp: Sendable, Equatable, Hashable, CustomStringConvertible {
    public static let length = 10

    public let text: String

    /// The UTC hour of `date`, e.g. 2018-07-24 17:56:20 UTC gives `2018072417`.
    public init(_ date: Date) {
        let t = UTCDateTime(date)
        text = IoTDATime.pad(t.year, 4) + IoTDATime.pad(t.month, 2) + IoTDATime.pad(t.day, 2) + IoTDATime.pad(t.hour, 2)
    }

    /// Any 10 digits. The platform does not check the value with sign type 0, and its own FAQ logs
    /// a connection with `1970000100`; `isCalendarHour` tells whether it names a real hour.
    public init?(parsing text: String) {
        guard text.utf8.count == Self.length, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        self.text = text
    }

    public var isCalendarHour: Bool { date != nil }

    /// The start of the hour, if the digits name a real hour.
    public var date: Date? {
        let d = text.utf8.map { Int($0) - 48 }
        let year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]
        return UTCDateTime(year: year, month: d[4] * 10 + d[5], day: d[6] * 10 + d[7], hour: d[8] * 10 + d[9]).date
    }

    public var description: String { text }
}

public struct CredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case invalidDeviceId
        case emptySecret
        case fieldTooLong
        case invalidClientId
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// The three CONNECT fields for one-device-one-secret authentication (spec §1.2):
/// `client_id = {device_id}_0_{sign_type}_{YYYYMMDDHH}`, `username = device_id`,
/// `password = hex_lower(HMAC-SHA256(key: timestamp, message: secret))`.
public struct MQTTCredentials: Sendable, Equatable {
    /// ClientId, Username and Password are each String(256).
    public static let maxFieldLength = 256
    /// device_id: 1–128 characters from `[A-Za-z0-9_-]` (the platform's rule, `PlatformIdentifiers`).
    public static let deviceIdLengths = PlatformIdentifiers.deviceIdLengths
    /// The device identity type field is fixed: 0 means "device ID".
    public static let identityType = "0"

    public let clientId: String
    public let username: String
    public let password: String
    public let timestamp: ConnectTimestamp
    public let signType: SignType

    /// Derives all three fields from one timestamp, taken once, so ClientId and password always agree.
    public init(deviceId: String, secret: String, signType: SignType, timestamp: ConnectTimestamp) throws(CredentialsError) {
        try Self.validate(deviceId: deviceId)
        guard !secret.isEmpty else { throw CredentialsError(.emptySecret, "the device secret is empty") }
        self.timestamp = timestamp
        self.signType = signType
        clientId = "\(deviceId)_\(Self.identityType)_\(signType.rawValue)_\(timestamp.text)"
        username = deviceId
        // The key is the timestamp and the message is the secret (UG 2.1.2.11); easy to invert by mistake.
        password = HMACSHA256.hex(key: timestamp.text, message: secret)
        guard clientId.utf8.count <= Self.maxFieldLength else {
            throw CredentialsError(.fieldTooLong, "client_id is longer than \(Self.maxFieldLength) bytes")
        }
    }

    /// The credentials for a connection made at `date` (the hour is taken in UTC).
    public init(deviceId: String, secret: String, signType: SignType, at date: Date) throws(CredentialsError) {
        try self.init(deviceId: deviceId, secret: secret, signType: signType, timestamp: ConnectTimestamp(date))
    }

    public static func validate(deviceId: String) throws(CredentialsError) {
        let bytes = deviceId.utf8
        guard deviceIdLengths.contains(bytes.count) else {
            throw CredentialsError(.invalidDeviceId, "device_id must be 1–128 characters long, got \(bytes.count)")
        }
        guard deviceId.allSatisfy(PlatformIdentifiers.isDeviceIdCharacter) else {
            throw CredentialsError(.invalidDeviceId, "device_id may contain only letters, digits, '_' and '-'")
        }
    }

    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
    }

    /// Checks credentials the way the platform does for a given secret: the password must be the
    /// HMAC over the ClientId's own timestamp; with sign type 1 that timestamp must also be `now`'s
    /// UTC hour (the platform's tolerance is not documented: we accept the same hour only).
    public static func verify(clientId: String, username: String, password: String, secret: String,
                              now: Date) -> Bool {
        guard let parsed = try? ClientIdentifier(parsing: clientId), parsed.deviceId == username,
              let expected = try? MQTTCredentials(deviceId: parsed.deviceId, secret: secret,
                                                  signType: parsed.signType, timestamp: parsed.timestamp)
        else { return false }
        if parsed.signType == .timestampCheck, parsed.timestamp != ConnectTimestamp(now) { return false }
        return expected.password == password
    }
}

/// A parsed ClientId. The device id itself usually contains `_`, so it splits from the right.
public struct ClientIdentifier: Sendable, Equatable {
    public let deviceId: String
    public let signType: SignType
    public let timestamp: ConnectTimestamp

    public init(parsing clientId: String) throws(CredentialsError) {
        let parts = clientId.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count >= 4 else {
            throw CredentialsError(.invalidClientId, "client_id needs 4 '_'-separated fields: {device_id}_0_{sign_type}_{YYYYMMDDHH}")
        }
        let n = parts.count
        guard parts[n - 3] == Substring(MQTTCredentials.identityType) else {
            throw CredentialsError(.invalidClientId, "client_id identity type must be 0")
        }
        guard let raw = Int(parts[n - 2]), let sign = SignType(rawValue: raw), parts[n - 2].count == 1 else {
            throw CredentialsError(.invalidClientId, "client_id sign type must be 0 or 1")
        }
        guard let ts = ConnectTimestamp(parsing: String(parts[n - 1])) else {
            throw CredentialsError(.invalidClientId, "client_id timestamp must be 10 digits YYYYMMDDHH")
        }
        let deviceId = parts[0..<(n - 3)].joined(separator: "_")
        try MQTTCredentials.validate(deviceId: deviceId)
        self.deviceId = deviceId
        self.signType = sign
        self.timestamp = ts
    }
}
