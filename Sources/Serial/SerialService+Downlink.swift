import Foundation
import GatewayCore
import SerialFraming

/// The cloud's requests for serial devices: commands encoded by the product's codec, framed
/// and written, answered by the device's response (matched by `mid`); a property get is a
/// poll of the device, answered with what it reports.
extension SerialService {
    public func handles(nodeId: String) async -> Bool { routes[nodeId] != nil }

    public func command(_ command: ChildCommand, deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        guard let (l, d) = routes[command.nodeId] else { return .failure(.unknownChild, "no serial device \(command.nodeId)") }
        let line = lines[l], device = line.devices[d]
        let mid = line.nextMid()
        let bytes: [UInt8]
        do {
            let payload = try encoder.encodeCommand(command, productId: device.productId, mid: mid)
            bytes = try line.frameEncoder.encode(payload: payload, address: device.address)
        } catch {
            logger.warning("command \(command.commandName) for \(command.nodeId) cannot be encoded: \(error)")
            return .failure(.badRequest, "\(error)")
        }
        let awaited: SerialJob.Awaited = encoder.expectsResponse(command, productId: device.productId)
            ? .commandResponse(mid: mid) : .nothing
        let until = min(deadline, clock.now.advanced(by: device.commandTimeout))
        switch await run(SerialJob(device: d, bytes: bytes, awaited: awaited, deadline: until, completion: { _ in }), on: line) {
        case .commandResponse(let success, let paras):
            return success ? .success(paras, name: command.commandName)
                : DownlinkOutcome(resultCode: DownlinkResultCode.deviceError.rawValue, responseName: command.commandName,
                                  resultDesc: "the device reports an error", paras: paras)
        case .written:
            return .success(name: command.commandName)
        case .timeout:
            return .failure(.timeout, "\(command.nodeId) did not answer within \(device.commandTimeout)")
        case .failed(let code, let reason):
            return .failure(code, reason)
        case .report:
            // Not an answer to a command: a report only ends a poll (the line keeps waiting for the mid).
            return .failure(.internalError, "a report ended a command")
        }
    }

    public func setProperties(requestId: String, nodeId: String, services: [ServiceReport],
                              deadline: GatewayClock.Instant) async -> DownlinkOutcome {
        .failure(.noHandler, "serial devices take commands, not property sets: their codec encodes commands")
    }

    /// Polls the device now (a polled device), and answers with what it reports.
    public func getProperties(requestId: String, nodeId: String, serviceId: String?,
                              deadline: GatewayClock.Instant) async -> Result<[ServiceReport], DownlinkError> {
        guard let (l, d) = routes[nodeId] else { return .failure(DownlinkError(.unknownChild, "no serial device \(nodeId)")) }
        let line = lines[l]
        guard let poll = line.devices[d].poll, let request = line.pollRequests[d] else {
            return .failure(DownlinkError(.noHandler, "\(nodeId) reports on its own; it cannot be read on demand"))
        }
        let until = min(deadline, clock.now.advanced(by: poll.responseTimeout))
        switch await run(SerialJob(device: d, bytes: request, awaited: .report, deadline: until, completion: { _ in }), on: line) {
        case .report(let services):
            return .success(services.filter { serviceId == nil || $0.serviceId == serviceId })
        case .timeout:
            return .failure(DownlinkError(.timeout, "\(nodeId) did not answer within \(poll.responseTimeout)"))
        case .failed(let code, let reason):
            return .failure(DownlinkError(code, reason))
        case .written, .commandResponse:
            // A poll ends only with a report (or its timeout, or a failure).
            return .failure(DownlinkError(.internalError, "a poll ended without a report"))
        }
    }

    /// Queues `job` on its line and waits for its outcome.
    private func run(_ job: SerialJob, on line: SerialLine) async -> SerialJob.Outcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<SerialJob.Outcome, Never>) in
            var job = job
            let once = Locked(false)
            job.completion = { outcome in
                guard once.withLock({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(returning: outcome)
            }
            line.enqueue(job)
        }
    }
}
