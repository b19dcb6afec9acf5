import Foundation

/// scripts/scripted_platform.py on a `MosquittoBroker`: records what gateways publish,
/// answers `$sub_device_manager` requests, and sends what `send(_:)` tells it.
public final class MosquittoScriptedPlatform: @unchecked Sendable {
    public struct Record: Decodable, Sendable {
        public var topic: String
        public var payload: String
        public var problems: [String]
    }

    private let process: ChildProcess
    public let recordFile: String

    /// With `session`, the platform's session is persistent under that client id: on a
    /// `persistent` broker it misses nothing the broker acknowledged, across the broker's graceful
    /// restarts too.
    public init(broker: MosquittoBroker, username: String = "platform", password: String, session: String? = nil) throws {
        recordFile = broker.directory.file("platform-records.jsonl")
        var arguments = [Paths.packageRoot + "/scripts/scripted_platform.py", "--port", String(broker.port),
                         "--username", username, "--password", password, "--record", recordFile]
        if let session { arguments += ["--session", session] }
        if let caFile = broker.caFile { arguments += ["--ca-file", caFile, "--host", "localhost"] }
        process = try ChildProcess("python3", arguments, stdin: true)
    }

    /// What the script printed (connection notes, validation problems).
    public var text: String { process.text }

    /// Waits until the script has connected and subscribed.
    public func waitUntilConnected(timeout: Duration = .seconds(10)) async -> Bool {
        await Eventually.wait(timeout: timeout) { self.text.contains("platform: connected") }
    }

    /// Sends one control line (see the script's docstring), e.g. `{"command": {...}}`.
    public func send(_ json: String) {
        process.send(json)
    }

    /// Every message recorded so far, in arrival order.
    public var records: [Record] {
        guard let data = FileManager.default.contents(atPath: recordFile) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONDecoder().decode(Record.self, from: Data($0.utf8))
        }
    }

    /// The services of the gateway's `sys/events/up` messages of `type` (`event_type`), in
    /// arrival order.
    public func events(_ type: String) -> [[String: Any]] {
        records.compactMap { record -> [String: Any]? in
            guard record.topic.hasSuffix("/sys/events/up"),
                  let json = try? JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as? [String: Any],
                  let service = (json["services"] as? [[String: Any]])?.first,
                  service["event_type"] as? String == type else { return nil }
            return service
        }
    }

    public func stop() {
        process.stop()
    }
}
