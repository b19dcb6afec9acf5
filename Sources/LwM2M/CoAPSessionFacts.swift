import CCoAP

/// What libcoap knows of a session, as Swift values (the LwM2M server and the bootstrap server).
enum CoAPSessionFacts {
    /// The peer's address, e.g. "1.2.3.4:5684" or "[::1]:5684".
    static func remoteAddress(_ session: OpaquePointer) -> String {
        guard let remote = coap_session_get_addr_remote(session) else { return "?" }
        return withUnsafePointer(to: remote.pointee.addr.sa) { SocketTools.describe(sockaddr: $0) }
    }

    /// The PSK identity of a DTLS session; nil over plain UDP (where libcoap's identity is
    /// empty-not-NULL, hence the protocol check first) or when the handshake named none.
    static func pskIdentity(_ session: OpaquePointer) -> String? {
        guard coap_session_get_proto(session) == COAP_PROTO_DTLS, let identity = coap_session_get_psk_identity(session),
              let bytes = identity.pointee.s else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: identity.pointee.length), as: UTF8.self)
    }
}

/// The key a PSK identity callback hands to libcoap: libcoap reads it after the callback has
/// returned, so it lives in a buffer owned here (one per libcoap context, used on its thread).
final class PSKHandout {
    /// Longest PSK handed to libcoap (GnuTLS accepts longer, but no module uses more).
    static let maxBytes = 64

    private let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: PSKHandout.maxBytes)
    private let bin = UnsafeMutablePointer<coap_bin_const_t>.allocate(capacity: 1)

    deinit {
        bytes.deallocate()
        bin.deallocate()
    }

    /// Makes `context` a DTLS-PSK server whose key for each identity `validate` chooses (called
    /// with `argument`); false when the linked libcoap cannot (no DTLS).
    static func serve(on context: OpaquePointer, validate: coap_dtls_id_callback_t, argument: UnsafeMutableRawPointer) -> Bool {
        var spsk = coap_dtls_spsk_t()
        spsk.version = UInt8(COAP_DTLS_SPSK_SETUP_VERSION)
        spsk.validate_id_call_back = validate
        spsk.id_call_back_arg = argument
        return coap_context_set_psk2(context, &spsk) != 0
    }

    /// Whether libcoap can be handed `key` (not empty, at most `maxBytes`).
    static func accepts(_ key: [UInt8]) -> Bool { !key.isEmpty && key.count <= maxBytes }

    /// `key` for libcoap; the previous one handed out is overwritten.
    func hand(_ key: [UInt8]) -> UnsafePointer<coap_bin_const_t> {
        for (index, byte) in key.prefix(Self.maxBytes).enumerated() { bytes[index] = byte }
        bin.pointee = coap_bin_const_t(length: min(key.count, Self.maxBytes), s: UnsafePointer(bytes))
        return UnsafePointer(bin)
    }
}
