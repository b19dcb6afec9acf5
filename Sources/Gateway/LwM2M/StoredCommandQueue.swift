import Foundation
import GatewayCore
import LwM2M
import Logging
import Store

/// The LwM2M service's command queues' persistence in the state store, so queued commands survive a
/// restart. A record that cannot be read back (a newer format, a damaged row) is logged and
/// skipped, never fatal.
struct StoredCommandQueue: CommandQueueStore {
    let store: StateStore
    let logger: Logger

    func save(_ command: QueuedCommand) async throws {
        try store.saveQueuedCommand(requestId: command.requestId, nodeId: command.nodeId, body: Self.encode(command))
    }

    func remove(requestId: String) async throws {
        try store.removeQueuedCommand(requestId: requestId)
    }

    func loadAll() async throws -> [QueuedCommand] {
        try store.queuedCommands().compactMap { body in
            guard let command = Self.decode(body) else {
                logger.error("a queued command in the state store cannot be read; skipped")
                return nil
            }
            return command
        }
    }

    static func encode(_ c: QueuedCommand) -> Data {
        var object: JSONObject = [
            "request_id": .string(c.command.requestId), "node_id": .string(c.command.nodeId),
            "command_name": .string(c.command.commandName), "paras": .object(c.command.paras),
            "strategy": .string(c.strategy.rawValue), "mid": .int(Int64(c.mid)), "state": .string(c.state.rawValue),
            "created_at": .double(c.createdAt.timeIntervalSince1970), "expires_at": .double(c.expiresAt.timeIntervalSince1970),
        ]
        if !c.expectsResponse { object["expects_response"] = .bool(false) }
        if let serviceId = c.command.serviceId { object["service_id"] = .string(serviceId) }
        if let sentAt = c.sentAt { object["sent_at"] = .double(sentAt.timeIntervalSince1970) }
        if let deliveredAt = c.deliveredAt { object["delivered_at"] = .double(deliveredAt.timeIntervalSince1970) }
        return (try? JSONEncoder().encode(JSONValue.object(object))) ?? Data()
    }

    static func decode(_ data: Data) -> QueuedCommand? {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data), let o = value.objectValue,
              let requestId = o["request_id"]?.stringValue, let nodeId = o["node_id"]?.stringValue,
              let name = o["command_name"]?.stringValue, let paras = o["paras"]?.objectValue,
              let strategy = o["strategy"]?.stringValue.flatMap(CommandDeliveryStrategy.init(rawValue:)),
              let mid = o["mid"]?.intValue.flatMap(UInt16.init(exactly:)),
              let state = o["state"]?.stringValue.flatMap(CommandState.init(rawValue:)),
              let created = o["created_at"]?.doubleValue, let expires = o["expires_at"]?.doubleValue else { return nil }
        let command = ChildCommand(requestId: requestId, nodeId: nodeId, serviceId: o["service_id"]?.stringValue,
                                   commandName: name, paras: paras)
        return QueuedCommand(command: command, strategy: strategy, mid: mid, state: state,
                             createdAt: Date(timeIntervalSince1970: created), expiresAt: Date(timeIntervalSince1970: expires),
                             sentAt: o["sent_at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)),
                             deliveredAt: o["delivered_at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)),
                             expectsResponse: o["expects_response"]?.boolValue ?? true)
    }
}
