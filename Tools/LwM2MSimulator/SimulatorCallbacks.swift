import CCoAP

// libcoap's C callbacks for the simulator, as plain top-level functions (never closure literals,
// which may be inferred @MainActor and trap on libcoap's thread).

private func simulator(of session: OpaquePointer?) -> NBIoTDeviceSimulator? {
    guard let session, let context = coap_session_get_context(session), let data = coap_get_app_data(context) else { return nil }
    return Unmanaged<NBIoTDeviceSimulator>.fromOpaque(data).takeUnretainedValue()
}

func simulatorGetHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                         _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let resource, let session, let request, let response else { return }
    simulator(of: session)?.handleGet(resource: resource, session: session, request: request, response: response)
}

func simulatorWriteHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                           _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let resource, let session, let request, let response else { return }
    simulator(of: session)?.handleWrite(resource: resource, session: session, request: request, response: response)
}

func simulatorResponseHandler(_ session: OpaquePointer?, _ sent: OpaquePointer?, _ received: OpaquePointer?,
                              _ mid: coap_mid_t) -> coap_response_t {
    guard let session, let received, let simulator = simulator(of: session) else { return COAP_RESPONSE_OK }
    return simulator.handleResponse(session: session, received: received) ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL
}

func simulatorNackHandler(_ session: OpaquePointer?, _ sent: OpaquePointer?, _ reason: coap_nack_reason_t, _ mid: coap_mid_t) {
    guard let session, let sent else { return }
    simulator(of: session)?.handleNack(session: session, sent: sent, reason: reason)
}

func simulatorBootstrapHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                               _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let resource, let session, let request, let response else { return }
    simulator(of: session)?.handleBootstrapRequest(resource: resource, session: session, request: request, response: response)
}
