import Foundation
import GatewayCore

/// Commands for NB-IoT children: the per-device queues (`CommandQueue` actions run here) and the
/// `DownlinkHandler` side the gateway routes commands to.
extension LwM2MService {
    // MARK: Queues

    /// Mutates a device's queue in place and returns the actions to run.
    func withQueue(_ nodeId: String, _ body: (inout CommandQueue) -> [CommandQueue.Action]) -> [CommandQueue.Action] {
        var queue = queue(nodeId)
        let actions = body(&queue)
        queues[nodeId] = queue
        return actions
    }

    func queue(_ nodeId: String) -> CommandQueue {
        queues[nodeId] ?? CommandQueue(nodeId: nodeId, expiry: settings.commandExpiry, awakeWindow: settings.awakeWindow,
                                       resultWait: settings.resultWait)
    }

    /// Runs queue actions; the queue state is re-read because actions can nest (encode failure).
    func execute(_ actions: [CommandQueue.Action], nodeId: String) async {
        for action in actions {
            switch action {
            case .save(let entry):
                do { try await store?.save(entry) } catch {
                    logger.error("lwm2m cannot persist a queued command", metadata: ["request": "\(entry.requestId)", "error": "\(error)"])
                }
            case .remove(let requestId):
                do { try await store?.remove(requestId: requestId) } catch {
                    logger.error("lwm2m cannot remove a finished command", metadata: ["request": "\(requestId)", "error": "\(error)"])
                }
            case .send(let entry):
                await send(entry)
            case .finished(let entry, let outcome):
                await finished(entry, outcome: outcome)
            }
        }
    }

    func send(_ entry: QueuedCommand) async {
        let productId = productByNode[entry.nodeId] ?? directory.device(nodeId: entry.nodeId)?.productId ?? ""
        do {
            let payload = try encoder.encodeCommand(entry.command, productId: productId, mid: entry.mid)
            let tag = nextTag
            nextTag += 1
            inFlightTags[tag] = (entry.nodeId, entry.mid)
            server.send(Downlink(nodeId: entry.nodeId, payload: payload, tag: tag))
        } catch {
            let time = clock.wallTime()
            await execute(withQueue(entry.nodeId) { $0.encodingFailed(mid: entry.mid, reason: "\(error)", at: time) }, nodeId: entry.nodeId)
        }
    }

    func finished(_ entry: QueuedCommand, outcome: DownlinkOutcome) async {
        stats.commandsFinished += 1
        stats.commandsByFinalState[entry.state, default: 0] += 1
        logger.info("lwm2m command finished", metadata: ["node": "\(entry.nodeId)", "request": "\(entry.requestId)", "state": "\(entry.state.rawValue)"])
        if let waiter = waiters.removeValue(forKey: entry.requestId) {
            waiter.continuation.resume(returning: outcome)
            checkIdle()
            return
        }
        stats.lateCommandResults += 1
        await sink.message(nodeId: entry.nodeId, name: Self.commandResultMessageName, id: entry.requestId,
                           content: Self.commandResultContent(entry, outcome), at: clock.wallTime())
    }

    // MARK: DownlinkHandler

    public func handles(nodeId: String) async -> Bool { directory.device(nodeId: nodeId) != nil || productByNode[nodeId] != nil }

    /// Checks the command with the codec, queues it and answers by its deadline: the device's
    /// result if it comes before `queuedAnswerLead` ahead of the deadline, otherwise `queued`
    /// (7) with the state then, and the final result later as a device message. While the
    /// service stops, a command is refused (`internalError`: the gateway is shutting down).
    public func command(_ request: ChildCommand, deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        guard !finishing else {
            return .failure(.internalError, "the gateway is shutting down: command not queued; send it again once it is back")
        }
        let command: ChildCommand
        let strategy: CommandDeliveryStrategy
        switch Self.takeStrategy(from: request, default: settings.defaultStrategy) {
        case .success(let taken): (command, strategy) = taken
        case .failure(let refusal): return refusal.outcome
        }
        let productId = productByNode[command.nodeId] ?? directory.device(nodeId: command.nodeId)?.productId ?? ""
        // A command the codec cannot encode fails now, awake device or not: queued, it would
        // only fail when the device next wakes, hours after the cloud was told "queued".
        do {
            _ = try encoder.encodeCommand(command, productId: productId, mid: 0)
        } catch {
            stats.commandsFinished += 1
            stats.commandsByFinalState[.failed, default: 0] += 1
            return .failure(.badRequest, "cannot encode the command: \(error)")
        }
        let time = clock.wallTime()
        let expectsResponse = encoder.expectsResponse(command, productId: productId)
        let actions = withQueue(command.nodeId) { $0.submit(command, strategy: strategy, expectsResponse: expectsResponse, at: time) }
        if case .finished(let entry, let outcome)? = actions.first(where: { if case .finished = $0 { true } else { false } }),
           actions.count == 1 {
            stats.commandsFinished += 1
            stats.commandsByFinalState[entry.state, default: 0] += 1
            return outcome
        }
        let requestId = command.requestId
        let clock = clock, answerBy = deadline.advanced(by: .zero - Self.queuedAnswerLead)
        return await withCheckedContinuation { continuation in
            waiters[requestId] = (command.nodeId, continuation)
            Task { await self.execute(actions, nodeId: command.nodeId) }
            Task {
                try? await clock.sleep(until: answerBy)
                self.answerQueued(requestId: requestId, nodeId: command.nodeId)
            }
        }
    }

    func answerQueued(requestId: String, nodeId: String) {
        guard let waiter = waiters.removeValue(forKey: requestId) else { return }
        let state = queues[nodeId]?.entries.first { $0.requestId == requestId }?.state ?? .pending
        waiter.continuation.resume(returning: DownlinkOutcome(
            resultCode: DownlinkResultCode.queued.rawValue, resultDesc: "queued: \(state.rawValue); the result follows as device message \(Self.commandResultMessageName)",
            paras: ["status": .string(state.rawValue)]))
        checkIdle()
    }

    public func setProperties(requestId: String, nodeId: String, services: [ServiceReport],
                              deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        .failure(.noHandler, "NB-IoT devices take commands, not property sets")
    }

    public func getProperties(requestId: String, nodeId: String, serviceId: String?,
                              deadline: GatewayClock.Instant) async -> Result<[ServiceReport], DownlinkError> {
        .failure(DownlinkError(.noHandler, "NB-IoT devices report; they cannot be read on demand"))
    }
}
