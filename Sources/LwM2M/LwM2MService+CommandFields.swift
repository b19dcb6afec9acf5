import GatewayCore

/// What the LwM2M service reads from a command and writes about it, as pure functions: edgegw's
/// `send_strategy` parameter, and the content of the later `command_result` device message.
extension LwM2MService {
    /// The content of the `command_result` device message: the command response's fields plus
    /// what identifies the command and the state it ended in.
    static func commandResultContent(_ entry: QueuedCommand, _ outcome: DownlinkOutcome) -> JSONObject {
        var content: JSONObject = ["request_id": .string(entry.requestId), "command_name": .string(entry.command.commandName),
                                   "status": .string(entry.state.rawValue), "result_code": .int(Int64(outcome.resultCode))]
        if let serviceId = entry.command.serviceId { content["service_id"] = .string(serviceId) }
        if let name = outcome.responseName { content["response_name"] = .string(name) }
        if let desc = outcome.resultDesc { content["result_desc"] = .string(desc) }
        if !outcome.paras.isEmpty { content["paras"] = .object(outcome.paras) }
        return content
    }

    struct StrategyRefusal: Error {
        var outcome: DownlinkOutcome
    }

    /// Splits edgegw's `send_strategy` off the product's parameters.
    static func takeStrategy(from command: ChildCommand, default strategy: CommandDeliveryStrategy)
        -> Result<(ChildCommand, CommandDeliveryStrategy), StrategyRefusal> {
        var stripped = command
        guard let value = stripped.paras[strategyParameter] else { return .success((command, strategy)) }
        stripped.paras[strategyParameter] = nil
        guard case .string(let text) = value, let chosen = CommandDeliveryStrategy(rawValue: text) else {
            let words = CommandDeliveryStrategy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            return .failure(StrategyRefusal(outcome: .failure(.badRequest, "paras.\(strategyParameter) must be \(words)")))
        }
        return .success((stripped, chosen))
    }
}
