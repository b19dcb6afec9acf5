import PCP

// The simulator's PCP plumbing (CoAP thread only): a downlink write that is a PCP frame goes to
// the module's `PCPDeviceSide`, and its actions become notifications, reboots and power cuts.
// PCP shares the data channel with business data (spec lwm2m-coap §2.1): frames come in as
// writes to the downlink resource and go up as notifications of the observed one.

extension NBIoTDeviceSimulator {
    typealias PCPAction = PCPDeviceSide<ContinuousClock.Instant>.Action

    /// The PCP timers are looked at no more often than this (the loop turns on every datagram).
    static let pcpTickInterval = Duration.milliseconds(20)

    /// Hands a downlink to the module's PCP side if it has one and the payload is a PCP frame;
    /// false means the payload is business data.
    func pcpDownlink(_ index: Int, _ state: DeviceState, payload: [UInt8]) -> Bool {
        guard state.pcp != nil, case .success(let message) = PCPCodec.decode(payload, from: .platform) else { return false }
        if case .fragment(_, let index, _) = message, let asked = state.fragmentAsked, asked.index == index {
            state.fragmentAsked = nil
            let latency = asked.at.duration(to: .now)
            fragmentLatencies.withLock { $0.append(latency) }
        }
        if let actions = state.pcp?.received(message, at: .now) { pcpPerform(index, actions) }
        return true
    }

    func pcpPerform(_ index: Int, _ actions: [PCPAction]) {
        for action in actions {
            switch action {
            case .send(let message):
                if case .fragmentRequest(_, let asked) = message, let state = state(index), state.fragmentAsked?.index != asked {
                    state.fragmentAsked = (asked, .now)
                }
                do {
                    // Sent on the next loop turn, so that a write's ACK leaves first.
                    send(.pcpSend(index, try PCPCodec.encode(message)))
                } catch {
                    continuation.yield(.failed(device: index, what: "pcp encode: \(error)"))
                }
            case .event(let event):
                continuation.yield(.pcp(device: index, event))
            case .reboot:
                if state(index)?.session != nil { send(.reboot(index)) } else { send(.wake(index, reregister: true)) }
            case .powerOff:
                // Queued: this may run inside a libcoap handler of the session it closes.
                send(.sleep(index))
            case .powerOn:
                send(.wake(index, reregister: true))
            }
        }
    }

    /// A frame goes up now if the data resource is observed, else once it is.
    func pcpSendNow(_ index: Int, frame: [UInt8]) {
        guard let state = state(index) else { return }
        if state.session != nil, state.observeToken != nil {
            sendNotification(index, payload: frame, confirmable: true)
        } else if !state.pcpOutbox.contains(frame) {
            // Retries of one request while the module sleeps go up once.
            state.pcpOutbox.append(frame)
        }
    }

    /// The server observes the data resource: frames that waited go up, then what the PCP side
    /// kept for this moment (a resumed download, the upgrade result after a reboot).
    func pcpObserved(_ index: Int, _ state: DeviceState) {
        guard state.pcp != nil else { return }
        let waiting = state.pcpOutbox
        state.pcpOutbox = []
        for frame in waiting { send(.pcpSend(index, frame)) }
        if let actions = state.pcp?.observed(at: .now) { pcpPerform(index, actions) }
    }

    func pcpTick() {
        let now = ContinuousClock.now
        guard lastPCPTick.duration(to: now) >= Self.pcpTickInterval else { return }
        lastPCPTick = now
        for (index, state) in devices.enumerated() where state.pcp != nil {
            if let actions = state.pcp?.tick(at: now), !actions.isEmpty { pcpPerform(index, actions) }
        }
    }
}
