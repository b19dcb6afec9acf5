import CCoAP
import Foundation
import PCP
#if canImport(Glibc)
import Glibc
#endif

// What a simulated module does (CoAP thread only): the commands of the public API; Register,
// Update, Deregister; Observe and notifications; downlink writes; the answers to its requests,
// as the C callbacks (SimulatorCallbacks.swift) hand them over.

extension NBIoTDeviceSimulator {
    func execute(_ command: Command) {
        switch command {
        case .add(let device):
            devices.append(DeviceState(device: device))
        case .register(let index):
            guard let state = state(index) else { return }
            if state.session == nil { openSession(index) }
            sendRegister(index)
        case .update(let index):
            guard let state = state(index), let location = state.location else { return }
            if state.session == nil { openSession(index) }
            sendRequest(index, code: COAP_REQUEST_CODE_POST, path: location, query: ["lt=\(state.device.lifetime)"],
                        payload: nil, format: nil, label: "update")
        case .deregister(let index):
            guard let state = state(index), let location = state.location else { return }
            sendRequest(index, code: COAP_REQUEST_CODE_DELETE, path: location, query: [], payload: nil, format: nil, label: "deregister")
        case .notify(let index, let payload, let confirmable):
            sendNotification(index, payload: payload, confirmable: confirmable)
        case .sleep(let index):
            guard let state = state(index), let session = state.session else { return }
            state.session = nil
            state.observeToken = nil
            // A module entering PSM just stops listening: no close_notify.
            if let local = coap_session_get_addr_local(session) {
                silenceSocket(localPort: withUnsafePointer(to: local.pointee.addr.sin) { UInt16(bigEndian: $0.pointee.sin_port) })
            }
            coap_session_release(session)
        case .reboot(let index):
            if let actions = state(index)?.pcp?.powerRestored() { pcpPerform(index, actions) }
            guard let state = state(index), let session = state.session,
                  let localPointer = coap_session_get_addr_local(session) else { return }
            var local = localPointer.pointee
            state.session = nil
            state.observeToken = nil
            // libcoap's GnuTLS client sends close_notify on release; a rebooting module sends nothing.
            silenceSocket(localPort: withUnsafePointer(to: local.addr.sin) { UInt16(bigEndian: $0.pointee.sin_port) })
            coap_session_release(session)
            openSession(index, localAddress: &local)
            sendRegister(index)
        case .wake(let index, let reregister):
            guard let state = state(index) else { return }
            if let actions = state.pcp?.powerRestored() { pcpPerform(index, actions) }
            if state.session == nil { openSession(index) }
            if reregister || state.location == nil {
                sendRegister(index)
            } else if let location = state.location {
                sendRequest(index, code: COAP_REQUEST_CODE_POST, path: location, query: [], payload: nil, format: nil, label: "update")
            }
        case .pcpSend(let index, let frame):
            pcpSendNow(index, frame: frame)
        case .powerLoss(let index):
            guard let state = state(index) else { return }
            if let actions = state.pcp?.powerLost() { pcpPerform(index, actions) } else { execute(.sleep(index)) }
        case .powerOn(let index):
            execute(.wake(index, reregister: true))
        case .bootstrap(let index):
            startBootstrap(index)
        case .bootstrapDone(let index):
            bootstrapDone(index)
        }
    }

    func sendRegister(_ index: Int) {
        guard let state = state(index) else { return }
        state.registerSentAt = .now
        let query = ["ep=\(state.device.endpoint)", "lt=\(state.device.lifetime)", "lwm2m=1.0", "b=UQ"]
        sendRequest(index, code: COAP_REQUEST_CODE_POST, path: "rd", query: query,
                    payload: Array(state.device.objectLinks.utf8), format: 40, label: "register")
    }

    func sendNotification(_ index: Int, payload: [UInt8], confirmable: Bool) {
        guard let state = state(index), let session = state.session, let token = state.observeToken,
              let pdu = coap_pdu_init(confirmable ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, COAP_RESPONSE_CODE_CONTENT,
                                      coap_mid_t(coap_new_message_id(session)), coap_session_max_pdu_size(session)) else {
            if let state = state(index) { _ = state }
            continuation.yield(.failed(device: index, what: "notify (not observed)"))
            return
        }
        _ = coap_add_token(pdu, token.count, token)
        state.observeSequence = (state.observeSequence + 1) & 0xFF_FFFF
        add(pdu, UInt16(COAP_OPTION_OBSERVE), encodeUInt(state.observeSequence))
        add(pdu, UInt16(COAP_OPTION_CONTENT_FORMAT), encodeUInt(42))
        _ = payload.withUnsafeBufferPointer { coap_add_data(pdu, $0.count, $0.baseAddress) }
        _ = coap_send(session, pdu)
    }

    // MARK: - Called by the C callbacks (CoAP thread)

    /// Whether an object list (`</1/0>,</19/0>`) announces a resource: its instance or its object is named.
    static func announces(_ objectLinks: String, _ path: String) -> Bool {
        let links = Set(objectLinks.split(separator: ",").compactMap { link -> String? in
            guard let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close else { return nil }
            return link[link.index(after: open)..<close].split(separator: "/").joined(separator: "/")
        })
        var segments = path.split(separator: "/")
        while !segments.isEmpty {
            if links.contains(segments.joined(separator: "/")) { return true }
            segments.removeLast()
        }
        return false
    }

    func handleGet(resource: OpaquePointer, session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        let path = uriPath(of: resource)
        guard let index = index(of: session), let state = state(index), Self.announces(state.device.objectLinks, path) else {
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
            return
        }
        var observe = false
        var iterator = coap_opt_iterator_t()
        if let option = coap_check_option(request, UInt16(COAP_OPTION_OBSERVE), &iterator),
           coap_decode_var_bytes(coap_opt_value(option), Int(coap_opt_length(option))) == 0 {
            observe = true
        }
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT)
        if observe {
            let token = coap_pdu_get_token(request)
            state.observeToken = token.s.map { Array(UnsafeBufferPointer(start: $0, count: token.length)) } ?? []
            state.observePath = path
            add(response, UInt16(COAP_OPTION_OBSERVE), encodeUInt(state.observeSequence))
            let now = ContinuousClock.now
            continuation.yield(.observed(device: index, path: "/" + path,
                                         sinceStart: (state.sessionStartedAt ?? now).duration(to: now),
                                         sinceRegisterSent: (state.registerSentAt ?? now).duration(to: now)))
            pcpObserved(index, state)
        } else {
            answerObject4(path: path, response: response)
        }
    }

    func handleWrite(resource: OpaquePointer, session: OpaquePointer, request: OpaquePointer, response: OpaquePointer) {
        guard let index = index(of: session), let state = state(index), Self.announces(state.device.objectLinks, uriPath(of: resource)) else {
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
            return
        }
        var length = 0
        var data: UnsafePointer<UInt8>?
        var payload: [UInt8] = []
        if coap_get_data(request, &length, &data) != 0, let data { payload = Array(UnsafeBufferPointer(start: data, count: length)) }
        let method = coap_pdu_get_code(request) == COAP_REQUEST_CODE_PUT ? "PUT" : "POST"
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED)
        // A load run's PCP modules (`reportFrames` off) do not report each fragment as a downlink.
        if state.pcp?.personality.reportFrames != false || !PCPRecognition.isPCPFrame(payload) {
            continuation.yield(.downlink(device: index, path: "/" + uriPath(of: resource), method: method, payload: payload))
        }
        if pcpDownlink(index, state, payload: payload) { return }
        if let reply = responder?(index, payload) {
            // The command's result goes up as a notification, after the ACK (next loop turn).
            send(.notify(index, reply, confirmable: true))
        }
    }

    func handleResponse(session: OpaquePointer, received: OpaquePointer) -> Bool {
        guard let index = index(of: session), let state = state(index) else { return false }
        let token = coap_pdu_get_token(received)
        let value = token.s.map { Self.tokenValue(UnsafeBufferPointer(start: $0, count: min(8, token.length))) } ?? 0
        guard let label = state.pendingTokens.removeValue(forKey: value) else { return true }
        let code = UInt8(truncatingIfNeeded: coap_pdu_get_code(received).rawValue)
        let text = "\(code >> 5).\(String(format: "%02d", code & 0x1F))"
        switch label {
        case "register":
            let now = ContinuousClock.now
            continuation.yield(.registerAnswered(device: index, code: text, sinceStart: (state.sessionStartedAt ?? now).duration(to: now)))
            if text == "2.01" {
                var iterator = coap_opt_iterator_t()
                var segments: [String] = []
                if coap_option_iterator_init(received, &iterator, nil) != nil {
                    while let option = coap_option_next(&iterator) {
                        if iterator.number == UInt16(COAP_OPTION_LOCATION_PATH) {
                            segments.append(String(decoding: UnsafeBufferPointer(start: coap_opt_value(option), count: Int(coap_opt_length(option))), as: UTF8.self))
                        }
                    }
                }
                state.location = segments.joined(separator: "/")
                continuation.yield(.registered(device: index, location: state.location ?? ""))
            } else {
                continuation.yield(.registerRefused(device: index, code: text))
            }
        case "update":
            continuation.yield(.updated(device: index, code: text))
        case "deregister":
            if text == "2.02" { state.location = nil }
            continuation.yield(.deregistered(device: index, code: text))
        case "bootstrap":
            continuation.yield(.bootstrapAnswered(device: index, code: text))
        default:
            break
        }
        return true
    }

    func handleNack(session: OpaquePointer, sent: OpaquePointer, reason: coap_nack_reason_t) {
        guard let index = index(of: session), let state = state(index) else { return }
        let token = coap_pdu_get_token(sent)
        let value = token.s.map { Self.tokenValue(UnsafeBufferPointer(start: $0, count: min(8, token.length))) } ?? 0
        let label = state.pendingTokens.removeValue(forKey: value) ?? "notification"
        continuation.yield(.failed(device: index, what: "\(label) (nack \(reason.rawValue))"))
    }
}
