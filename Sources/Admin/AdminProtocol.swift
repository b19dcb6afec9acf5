import Foundation
import GatewayCore

/// The admin socket's protocol: the client writes one JSON object on one line (`AdminRequest`),
/// the daemon answers with one JSON line (`AdminReply`) and closes; a trace answers with a
/// first line and then one line per frame until the client closes.
public enum AdminProtocol {
    /// A request line longer than this is refused (the longest real one is under 200 bytes).
    public static let maxRequestBytes = 4096
    /// A client has this long to send its request line, and a reply this long to be read.
    public static let requestTimeout: Duration = .seconds(2)
    public static let replyTimeout: Duration = .seconds(5)
    /// Connections at once; more are answered with an error and closed.
    public static let maxConnections = 32
    /// Trace records kept per trace client; beyond it records are dropped and counted.
    public static let traceQueueCapacity = 4096
    /// Bytes waiting for a slow trace client before records are dropped instead of queued.
    public static let traceMaxPendingBytes = 1 << 20
}

public struct AdminRequest: Sendable, Codable, Equatable {
    public enum Command: String, Sendable, Codable {
        case status, devices, trace
    }

    public var command: Command
    /// `devices`: only this kind (`modbus`, `nbiot`).
    public var kind: String?
    /// `devices`: only this status (`online`, `offline`, `abnormal`, `unknown`).
    public var status: String?
    /// `trace`: `modbus` or `nbiot`.
    public var traceKind: String?
    /// `trace`: the bus id (`tcp:HOST:PORT`, `rtu:/dev/ttyUSB0` …) or the IMEI.
    public var target: String?

    public init(command: Command, kind: String? = nil, status: String? = nil, traceKind: String? = nil, target: String? = nil) {
        self.command = command
        self.kind = kind
        self.status = status
        self.traceKind = traceKind
        self.target = target
    }
}

/// One line from the daemon. `error` is set on a refusal; otherwise exactly the field the
/// request asked for (the first line of a trace carries `trace`, the next ones `record` or `dropped`).
public struct AdminReply: Sendable, Codable, Equatable {
    public var error: String?
    public var status: AdminStatus?
    public var devices: [AdminDevice]?
    public var trace: TraceStart?
    public var record: TraceRecord?
    /// Records a slow client missed since the last line (its queue was full).
    public var dropped: Int?

    public init(error: String? = nil, status: AdminStatus? = nil, devices: [AdminDevice]? = nil, trace: TraceStart? = nil,
                record: TraceRecord? = nil, dropped: Int? = nil) {
        self.error = error
        self.status = status
        self.devices = devices
        self.trace = trace
        self.record = record
        self.dropped = dropped
    }

    public static func failure(_ message: String) -> AdminReply { AdminReply(error: message) }

    public struct TraceStart: Sendable, Codable, Equatable {
        public var kind: String
        public var target: String

        public init(kind: String, target: String) {
            self.kind = kind
            self.target = target
        }
    }
}

extension AdminReply {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(AdminTime.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The reply as one line with its newline.
    public func line() -> [UInt8] {
        guard var bytes = try? Self.encoder.encode(self) else { return Array("{\"error\":\"reply not encodable\"}\n".utf8) }
        bytes.append(0x0A)
        return Array(bytes)
    }

    public static func decode(line: some Collection<UInt8>) throws -> AdminReply {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = AdminTime.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a time: \(text)"))
            }
            return date
        }
        return try decoder.decode(AdminReply.self, from: Data(line))
    }
}

extension AdminRequest {
    public func line() -> [UInt8] {
        var bytes = (try? JSONEncoder().encode(self)).map(Array.init) ?? []
        bytes.append(0x0A)
        return bytes
    }
}

/// Times on the socket: UTC, ISO 8601 with milliseconds (a trace needs them).
public enum AdminTime {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    public static func parse(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
