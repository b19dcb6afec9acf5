import CCoAP

// libcoap's C callbacks for the server, as plain top-level functions (a closure literal could be
// inferred @MainActor and trap when libcoap calls it). Each one finds the engine through the
// context's app data and returns at once; libcoap calls them only on the CoAP thread.

private func engine(of session: OpaquePointer?) -> CoAPServerEngine? {
    guard let session, let context = coap_session_get_context(session),
          let data = coap_get_app_data(context) else { return nil }
    return Unmanaged<CoAPServerEngine>.fromOpaque(data).takeUnretainedValue()
}

func lwm2mValidatePSKIdentity(_ identity: UnsafeMutablePointer<coap_bin_const_t>?, _ session: OpaquePointer?,
                              _ argument: UnsafeMutableRawPointer?) -> UnsafePointer<coap_bin_const_t>? {
    guard let argument, let identity else { return nil }
    let engine = Unmanaged<CoAPServerEngine>.fromOpaque(argument).takeUnretainedValue()
    let bytes = identity.pointee.s.map { Array(UnsafeBufferPointer(start: $0, count: identity.pointee.length)) } ?? []
    return engine.pskKey(identity: bytes, session: session)
}

func lwm2mRegisterHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                          _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let session, let request, let response, let engine = engine(of: session) else { return }
    let target = engine.traceTarget(session, query: query)
    if let target { engine.trace(request, "in", target: target) }
    engine.handleRegister(session: session, request: request, query: query, response: response)
    if let target { engine.trace(response, "out", target: target) }
}

func lwm2mRegistrationUpdateHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                                    _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let session, let request, let response, let engine = engine(of: session) else { return }
    let target = engine.traceTarget(session)
    if let target { engine.trace(request, "in", target: target) }
    engine.handleUpdate(session: session, request: request, query: query, response: response)
    if let target { engine.trace(response, "out", target: target) }
}

func lwm2mRegistrationDeleteHandler(_ resource: OpaquePointer?, _ session: OpaquePointer?, _ request: OpaquePointer?,
                                    _ query: UnsafePointer<coap_string_t>?, _ response: OpaquePointer?) {
    guard let session, let request, let response, let engine = engine(of: session) else { return }
    let target = engine.traceTarget(session)
    if let target { engine.trace(request, "in", target: target) }
    engine.handleDeregister(session: session, request: request, response: response)
    if let target { engine.trace(response, "out", target: target) }
}

func lwm2mResponseHandler(_ session: OpaquePointer?, _ sent: OpaquePointer?, _ received: OpaquePointer?,
                          _ mid: coap_mid_t) -> coap_response_t {
    guard let session, let received, let engine = engine(of: session) else { return COAP_RESPONSE_FAIL }
    if let target = engine.traceTarget(session) { engine.trace(received, "in", target: target) }
    return engine.handleResponse(session: session, received: received) ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL
}

func lwm2mNackHandler(_ session: OpaquePointer?, _ sent: OpaquePointer?, _ reason: coap_nack_reason_t, _ mid: coap_mid_t) {
    guard let session, let sent else { return }
    engine(of: session)?.handleNack(session: session, sent: sent, reason: reason)
}

func lwm2mEventHandler(_ session: OpaquePointer?, _ event: coap_event_t) -> Int32 {
    guard let session else { return 0 }
    engine(of: session)?.handleEvent(session: session, event: event)
    return 0
}

func lwm2mCoAPLogHandler(_ level: coap_log_t, _ message: UnsafePointer<CChar>?) {
    CoAPLog.deliver(level: level, message: message)
}
