import Crypto
import Foundation
import GatewayCore

/// What names one package for the cache, whatever URL each child's notification carries.
///
/// Platform-stored packages (`software_upgrade` / `firmware_upgrade`) are named by their
/// SHA-256 `sign` and `file_size`; OBS packages (`_v2`, no `sign`) by their URL without the
/// query string plus the version. `key` is safe as a file name and as the index's primary key.
public struct PackageIdentity: Hashable, Sendable, CustomStringConvertible {
    public let key: String
    /// The SHA-256 (lowercase hex) the package must have, when the platform said it.
    public let expectedSHA256: String?
    /// The size in bytes the package must have, when the platform said it.
    public let expectedSize: Int64?

    /// `software_upgrade` / `firmware_upgrade`: `sign` (case-insensitive hex) and `file_size`.
    public static func signed(sign: String, fileSize: Int64) -> PackageIdentity {
        let sha = sign.lowercased()
        return PackageIdentity(key: "s-\(sha)-\(fileSize)", expectedSHA256: sha, expectedSize: fileSize)
    }

    /// `software_upgrade_v2` / `firmware_upgrade_v2`: the URL without its query plus the version.
    public static func obs(url: String, version: String) -> PackageIdentity {
        let base = url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? url
        let digest = SHA256.hash(data: Data("\(base)\n\(version)".utf8)).hexString
        return PackageIdentity(key: "u-\(digest)", expectedSHA256: nil, expectedSize: nil)
    }

    init(key: String, expectedSHA256: String?, expectedSize: Int64?) {
        self.key = key
        self.expectedSHA256 = expectedSHA256
        self.expectedSize = expectedSize
    }

    public var description: String { key }
}

/// One child's notification, as the cache needs it.
public struct PackageRequest: Sendable {
    public var identity: PackageIdentity
    public var url: String
    /// Sent as `Authorization: Bearer <token>`; nil for the `_v2` forms (no header).
    public var accessToken: String?
    /// How long the URL is valid, from `arrivedAt`; nil: `PackageCache.defaultURLLifetime`.
    public var expires: Duration?
    /// When the event arrived (the cache's clock); nil: when `request` is called.
    public var arrivedAt: GatewayClock.Instant?

    /// A `software_upgrade` / `firmware_upgrade` event's fields.
    public static func signed(url: String, accessToken: String?, sign: String, fileSize: Int64,
                              expires: Duration? = nil, arrivedAt: GatewayClock.Instant? = nil) -> PackageRequest {
        PackageRequest(identity: .signed(sign: sign, fileSize: fileSize), url: url, accessToken: accessToken,
                       expires: expires, arrivedAt: arrivedAt)
    }

    /// A `software_upgrade_v2` / `firmware_upgrade_v2` event's fields.
    public static func obs(url: String, version: String, expires: Duration? = nil,
                           arrivedAt: GatewayClock.Instant? = nil) -> PackageRequest {
        PackageRequest(identity: .obs(url: url, version: version), url: url, accessToken: nil,
                       expires: expires, arrivedAt: arrivedAt)
    }

    public init(identity: PackageIdentity, url: String, accessToken: String?, expires: Duration?,
                arrivedAt: GatewayClock.Instant?) {
        self.identity = identity
        self.url = url
        self.accessToken = accessToken
        self.expires = expires
        self.arrivedAt = arrivedAt
    }
}

/// Why a package could not be had. `resultCode` is the `$ota` `upgrade_progress_report`
/// result (and the PCP result byte, 255 standing for 0x7F): docs/package-cache.md.
public struct PackageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Size or SHA-256 differs from the notification: 7.
        case verificationFailed
        /// Every URL for the package expired before it was complete: 6 (download timeout).
        case urlExpired
        /// The server refused every URL (401, 403, 404, …): 255.
        case refused
        /// The gateway's own disk is full or a file could not be written: 255 (internal).
        case diskFull
        /// Any other fault of the gateway (TLS setup, index): 255.
        case internalError
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    public var resultCode: Int {
        switch kind {
        case .verificationFailed: return 7
        case .urlExpired: return 6
        case .refused, .diskFull, .internalError: return 255
        }
    }
}

/// The end of a request: the package is verified and fragments can be served, or it failed.
public enum PackageOutcome: Sendable, Equatable {
    case ready(ReadyPackage)
    case failed(PackageFailure)
}

/// A verified package: its content address and size.
public struct ReadyPackage: Sendable, Equatable {
    public var identity: PackageIdentity
    public var sha256: String
    public var size: Int64
    public var path: String
}

/// Where a package stands, for progress reports.
public enum PackageState: Sendable, Equatable {
    case unknown
    case downloading(bytes: Int64, total: Int64?)
    case ready(ReadyPackage)
    case failed(PackageFailure)
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
