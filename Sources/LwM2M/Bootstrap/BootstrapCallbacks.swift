import CCoAP

// libcoap's C callbacks for the bootstrap server, as plain top-level functions (a closure
// literal could be inferred @MainActor and trap on libcoap's thread). Each finds the engine
// through the context's app data; libcoap calls them only on the bootstrap thread.

private func bootstrapEngine(of session: OpaquePointer?) -> BootstrapEngine? {
    guard let session, let context = coap_session_get_context(session), let data = coap_get_app_data(context) else { return nil }
    return Unmanaged<BootstrapEngine>.fromOpaque(data).takeUnretainedValue()
}

func bootstrapValidatePSKIdentity(_ identity: UnsafeMutablePointer<coap_bin_const_t>?, _ session: OpaquePointer?,
                                  _ argument: UnsafeMutableRawPointer?) -> UnsafePointer<coap_bin_const_t>? {
    guard let argument, let identity else { return nil }
    let engine = Unmanaged<BootstrapEngine>.fromOpaque(argument).takeUnretainedValue()
    let bytes = identity.pointee.s.map { Array(UnsafeBufferPointer(start: $0, count: identity.pointee.length)) } ?? []
    return engine.bootstrapKey(identity: bytes)
}

func bootstrapRequestHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                             _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let session, let response else { return }
    bootstrapEngine(of: session)?.handleBootstrapRequest(session: session, query: query, response: response)
}

func bootstrapResponseHandler(_ session: OpaquePointer?, _ sent: OpaquePointer?, _ received: OpaquePointer?,
                              _ mid: coap_mid_t) -> coap_response_t {
    guard let session, let received, let engine = bootstrapEngine(of: session) else { return COAP_RESPONSE_FAIL }
    return engine.handleResponse(session: session, received: received) ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL
}

func bootstrapNackHandler(_ session: OpaquePointer?, _ sent: OpaquePointer?, _ reason: coap_nack_reason_t, _ mid: coap_mid_t) {
    guard let session, let sent else { return }
    bootstrapEngine(of: session)?.handleNack(session: session, sent: sent, reason: reason)
}

func bootstrapEventHandler(_ session: OpaquePointer?, _ event: coap_event_t) -> Int32 {
    guard let session else { return 0 }
    bootstrapEngine(of: session)?.handleEvent(session: session, event: event)
    return 0
}
