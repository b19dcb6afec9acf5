import Foundation
import GatewayCore

// Paras of the `$log`, `$device_info`, `$time_sync` and `$file_manager` events (spec §2.5–2.8).

/// DOWN `$log` / `log_config`: switch device-side log collection on or off.
public struct LogConfig: Sendable, Equatable, Codable {
    /// `on` or `off`.
    public var switchValue: String?
    /// Documented as `yyyy-MM-dd'T'HH:mm:ss'Z'`, the example uses `20151212T131212Z`: both are accepted.
    public var endTime: String?

    public init(switchValue: String?, endTime: String? = nil) {
        self.switchValue = switchValue
        self.endTime = endTime
    }

    public var isOn: Bool { switchValue == "on" }
    public var endDate: Date? { endTime.flatMap(IoTDATime.parse) }

    enum CodingKeys: String, CodingKey { case switchValue = "switch", endTime = "end_time" }
}

/// UP `$log` / `log_report`.
public struct LogReport: Sendable, Equatable, Codable {
    /// One log report is at most 1 MB (UG 2.1.2.2.2); we read "MB" as 10^6 bytes, the safe side.
    public static let maxReportBytes = 1_000_000
    /// Room left in a report for the envelope around `content` (and JSON escaping slack).
    static let envelopeAllowance = 4096

    public enum LogType: String, Sendable, Codable, CaseIterable {
        case deviceStatus = "DEVICE_STATUS"
        case deviceProperty = "DEVICE_PROPERTY"
        case deviceMessage = "DEVICE_MESSAGE"
        case deviceCommand = "DEVICE_COMMAND"
    }

    public var timestamp: String?
    public var type: LogType
    public var content: String

    public init(timestamp: String? = nil, type: LogType, content: String) {
        self.timestamp = timestamp
        self.type = type
        self.content = content
    }

    /// Splits long content into reports that each stay under `maxReportBytes` once encoded
    /// (cut on character boundaries; control characters may grow up to 6× when escaped, so the
    /// chunk budget assumes the worst case).
    public static func split(timestamp: String? = nil, type: LogType, content: String,
                             maxReportBytes: Int = maxReportBytes) -> [LogReport] {
        let budget = max(64, (min(maxReportBytes, Self.maxReportBytes) - envelopeAllowance) / 6)
        var reports: [LogReport] = []
        var chunk = ""
        var size = 0
        for ch in content {
            let n = ch.utf8.count
            if size + n > budget, !chunk.isEmpty {
                reports.append(LogReport(timestamp: timestamp, type: type, content: chunk))
                chunk = ""
                size = 0
            }
            chunk.append(ch)
            size += n
        }
        if !chunk.isEmpty || reports.isEmpty { reports.append(LogReport(timestamp: timestamp, type: type, content: chunk)) }
        return reports
    }
}

/// UP `$device_info` / `device_info_report`.
public struct DeviceInfoReport: Sendable, Equatable, Codable {
    /// `<access method>_<version>`, e.g. `C_v0.5.0`.
    public var deviceSdkVersion: String?
    public var swVersion: String?
    public var fwVersion: String?

    public init(deviceSdkVersion: String? = nil, swVersion: String? = nil, fwVersion: String? = nil) {
        self.deviceSdkVersion = deviceSdkVersion
        self.swVersion = swVersion
        self.fwVersion = fwVersion
    }

    enum CodingKeys: String, CodingKey {
        case deviceSdkVersion = "device_sdk_version", swVersion = "sw_version", fwVersion = "fw_version"
    }
}

/// UP `$time_sync` / `time_sync_request`.
public struct TimeSyncRequest: Sendable, Equatable, Codable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var deviceSendTime: Int64

    public init(deviceSendTime: Int64) { self.deviceSendTime = deviceSendTime }

    enum CodingKeys: String, CodingKey { case deviceSendTime = "device_send_time" }
}

/// DOWN `$time_sync` / `time_sync_response`.
public struct TimeSyncResponse: Sendable, Equatable, Codable {
    public var deviceSendTime: Int64
    public var serverRcvTime: Int64
    public var serverSendTime: Int64

    public init(deviceSendTime: Int64, serverRcvTime: Int64, serverSendTime: Int64) {
        self.deviceSendTime = deviceSendTime
        self.serverRcvTime = serverRcvTime
        self.serverSendTime = serverSendTime
    }

    /// The accurate time at `deviceReceiveTime` (local ms):
    /// (server_rcv_time + server_send_time + device_rcv_time − device_send_time) / 2.
    public func deviceTime(receivedAt deviceReceiveTime: Int64) -> Int64 {
        (serverRcvTime &+ serverSendTime &+ deviceReceiveTime &- deviceSendTime) / 2
    }

    enum CodingKeys: String, CodingKey {
        case deviceSendTime = "device_send_time", serverRcvTime = "server_rcv_time", serverSendTime = "server_send_time"
    }
}

/// UP `$file_manager` / `get_upload_url` and `get_download_url`.
public struct FileURLRequest: Sendable, Equatable, Codable {
    public var fileName: String
    /// e.g. `hash_code`, `size`.
    public var fileAttributes: JSONObject?

    public init(fileName: String, fileAttributes: JSONObject? = nil) {
        self.fileName = fileName
        self.fileAttributes = fileAttributes
    }

    enum CodingKeys: String, CodingKey { case fileName = "file_name", fileNameAlias = "fileName", fileAttributes = "file_attributes" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // The get_download_url table says fileName, its example file_name (erratum E5).
        if let alias = try c.decodeIfPresent(String.self, forKey: .fileNameAlias), !c.contains(.fileName) {
            fileName = alias
        } else {
            fileName = try c.decode(String.self, forKey: .fileName)
        }
        fileAttributes = try c.decodeIfPresent(JSONObject.self, forKey: .fileAttributes)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(fileName, forKey: .fileName)
        try c.encodeIfPresent(fileAttributes, forKey: .fileAttributes)
    }
}

/// DOWN `$file_manager` / `get_upload_url_response` and `get_download_url_response`.
public struct FileURLResponse: Sendable, Equatable, Codable {
    /// The URL stays valid this long when `expire` is absent (UG 3.9).
    public static let defaultExpiry: Duration = .seconds(3600)
    /// One file per upload, at most 5 GB (UG 3.9).
    public static let maxFileBytes: Int64 = 5_000_000_000

    public var url: String
    public var bucketName: String?
    /// Not necessarily equal to the file name (erratum E4).
    public var objectName: String?
    /// Seconds.
    public var expire: Int64?
    public var fileAttributes: JSONObject?

    public init(url: String, bucketName: String? = nil, objectName: String? = nil, expire: Int64? = nil, fileAttributes: JSONObject? = nil) {
        self.url = url
        self.bucketName = bucketName
        self.objectName = objectName
        self.expire = expire
        self.fileAttributes = fileAttributes
    }

    enum CodingKeys: String, CodingKey {
        case url, bucketName = "bucket_name", objectName = "object_name", expire, fileAttributes = "file_attributes"
    }
}

/// UP `$file_manager` / `upload_result_report` and `download_result_report`.
public struct FileTransferResult: Sendable, Equatable, Codable {
    public var objectName: String
    /// 0 = success, 1 = failure.
    public var resultCode: Int
    /// The HTTP status OBS returned.
    public var statusCode: Int?
    public var statusDescription: String?

    public init(objectName: String, resultCode: Int, statusCode: Int? = nil, statusDescription: String? = nil) {
        self.objectName = objectName
        self.resultCode = resultCode
        self.statusCode = statusCode
        self.statusDescription = statusDescription
    }

    enum CodingKeys: String, CodingKey {
        case objectName = "object_name", resultCode = "result_code", statusCode = "status_code", statusDescription = "status_description"
    }
}
