import LwM2MContent

/// One device's client-initiated bootstrap (OMA-TS-LightweightM2M-V1_0 §5.2), as a value: the
/// server's side of the sequence after the device's `POST /bs?ep=…` has been answered 2.04.
///
/// With `discover` it asks Bootstrap-Discover `GET /` first, so the bootstrap account is never
/// overwritten: it deletes the LwM2M server accounts it finds, writes the new Security instance
/// at the lowest id the bootstrap account does not use. A device that cannot discover (an LwM2M
/// 1.0 client answers 4.xx) gets `DELETE /0` and `DELETE /1` (a client keeps its bootstrap
/// account) and the Security instance at `fallbackSecurityInstance`. Then the Server instance,
/// then Bootstrap-Finish `POST /bs`. The writes are in `format` (TLV unless the device's request
/// preferred SenML). One request at a time; each must be answered within `requestTimeout`.
public struct BootstrapSession<C: Clock>: Sendable where C.Duration == Duration {
    public enum Step: Equatable, Sendable {
        case discover
        case delete(String)
        case writeSecurity(UInt16)
        case writeServer(UInt16)
        case finish
    }

    public enum Action: Equatable, Sendable {
        case send(BootstrapRequest)
        /// Bootstrap-Finish answered: the device now registers with the written account.
        case finished(securityInstance: UInt16, serverInstance: UInt16)
        case failed(BootstrapFailure, String)
    }

    /// RFC 7252 §4.8.2 EXCHANGE_LIFETIME: how long a confirmable request may take to be answered.
    public static var defaultRequestTimeout: Duration { .seconds(247) }
    /// The Security instance written when the device cannot say which ids its bootstrap account uses
    /// (devices keep theirs at 0 in practice).
    public static var fallbackSecurityInstance: UInt16 { 1 }

    public let endpoint: String
    public let plan: BootstrapPlan
    /// The content format of the Security and Server writes.
    public let format: WriteFormat
    public let requestTimeout: Duration
    public private(set) var step: Step?
    /// When the request in flight times out (nil when none is).
    public private(set) var deadline: C.Instant?
    public private(set) var isOver = false
    private let discover: Bool
    private var pending: [Step] = []
    private var securityInstance = BootstrapSession.fallbackSecurityInstance
    private var serverInstance: UInt16 = 0

    public init(endpoint: String, plan: BootstrapPlan, format: WriteFormat = .tlv, discover: Bool = true,
                requestTimeout: Duration = BootstrapSession.defaultRequestTimeout) {
        self.endpoint = endpoint
        self.plan = plan
        self.format = format
        self.discover = discover
        self.requestTimeout = requestTimeout
    }

    /// The first request (the `POST /bs` is answered before this).
    public mutating func start(now: C.Instant) -> [Action] {
        guard step == nil, !isOver else { return [] }
        if discover {
            pending = [.discover]
        } else {
            pending = [.delete("/0"), .delete("/1"), .writeSecurity(securityInstance), .writeServer(serverInstance), .finish]
        }
        return next(now: now)
    }

    /// The device answered the request in flight.
    public mutating func received(_ code: CoAPCode, payload: [UInt8], now: C.Instant) -> [Action] {
        guard let step, !isOver else { return [] }
        switch step {
        case .discover:
            if code.isSuccess, let text = String(validating: payload, as: UTF8.self), let objects = DiscoveredObjects.parse(text) {
                planAfterDiscover(objects)
            } else if code.isSuccess {
                return fail(.requestFailed, "Bootstrap-Discover answered \(code) with what is not a link format")
            } else {
                // An LwM2M 1.0 client: no Discover; it keeps its bootstrap account on Delete.
                pending = [.delete("/0"), .delete("/1"), .writeSecurity(securityInstance), .writeServer(serverInstance), .finish]
            }
        case .delete(let path):
            // 4.04: nothing there to delete, which is what we wanted.
            guard code.isSuccess || code == CoAPCode(4, 4) else { return fail(.requestFailed, "Delete \(path) answered \(code)") }
        case .writeSecurity(let instance):
            guard code.isSuccess else { return fail(.requestFailed, "Write /0/\(instance) answered \(code)") }
        case .writeServer(let instance):
            guard code.isSuccess else { return fail(.requestFailed, "Write /1/\(instance) answered \(code)") }
        case .finish:
            guard code.isSuccess else { return fail(.finishFailed, "Bootstrap-Finish answered \(code)") }
            isOver = true
            self.step = nil
            deadline = nil
            return [.finished(securityInstance: securityInstance, serverInstance: serverInstance)]
        }
        return next(now: now)
    }

    /// Time passed: the request in flight may have timed out.
    public mutating func tick(now: C.Instant) -> [Action] {
        guard let deadline, let step, !isOver, deadline <= now else { return [] }
        return fail(.timeout, "no answer to \(Self.describe(step)) within \(requestTimeout)")
    }

    /// A second `POST /bs` from the device, or the server stopping.
    public mutating func cancel(_ why: String) -> [Action] {
        guard !isOver else { return [] }
        return fail(.cancelled, why)
    }

    /// The transport gave up on the request in flight (CoAP retransmissions exhausted: `.timeout`;
    /// a reset or a closed session: `.requestFailed`).
    public mutating func requestLost(_ failure: BootstrapFailure, _ detail: String) -> [Action] {
        guard !isOver, let step else { return [] }
        return fail(failure, "\(Self.describe(step)): \(detail)")
    }

    private mutating func planAfterDiscover(_ objects: DiscoveredObjects) {
        let keep = objects.bootstrapAccount
        securityInstance = DiscoveredObjects.free(keep)
        var steps: [Step] = objects.securityInstances.filter { $0.ssid != nil }.map { .delete("/0/\($0.id)") }
        steps += objects.serverInstances.map { .delete("/1/\($0)") }
        pending = steps + [.writeSecurity(securityInstance), .writeServer(serverInstance), .finish]
    }

    private mutating func next(now: C.Instant) -> [Action] {
        guard !pending.isEmpty else { return [] }
        let step = pending.removeFirst()
        self.step = step
        deadline = now.advanced(by: requestTimeout)
        return [.send(request(for: step))]
    }

    private mutating func fail(_ failure: BootstrapFailure, _ detail: String) -> [Action] {
        isOver = true
        step = nil
        deadline = nil
        pending = []
        return [.failed(failure, detail)]
    }

    func request(for step: Step) -> BootstrapRequest {
        switch step {
        case .discover:
            return BootstrapRequest(.get, "/", accept: BootstrapRequest.linkFormat)
        case .delete(let path):
            return BootstrapRequest(.delete, path)
        case .writeSecurity(let instance):
            return BootstrapRequest(.put, "/0/\(instance)",
                                    payload: format.payload(object: 0, instance: instance, resources: plan.securityResources),
                                    contentFormat: format.contentFormat)
        case .writeServer(let instance):
            return BootstrapRequest(.put, "/1/\(instance)",
                                    payload: format.payload(object: 1, instance: instance, resources: plan.serverResources),
                                    contentFormat: format.contentFormat)
        case .finish:
            return BootstrapRequest(.post, "/bs")
        }
    }

    static func describe(_ step: Step) -> String {
        switch step {
        case .discover: "Bootstrap-Discover /"
        case .delete(let path): "Delete \(path)"
        case .writeSecurity(let instance): "Write /0/\(instance)"
        case .writeServer(let instance): "Write /1/\(instance)"
        case .finish: "Bootstrap-Finish"
        }
    }
}
