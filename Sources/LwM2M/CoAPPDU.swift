import CCoAP

/// Reading and writing libcoap PDUs: options, payloads, tokens, diagnostics.
enum CoAPPDU {
    /// An option's value, or nil when the PDU does not carry it.
    static func optionValue(_ pdu: OpaquePointer, _ number: UInt16) -> [UInt8]? {
        var iterator = coap_opt_iterator_t()
        guard let option = coap_check_option(pdu, number, &iterator) else { return nil }
        let length = Int(coap_opt_length(option))
        guard length > 0, let value = coap_opt_value(option) else { return [] }
        return Array(UnsafeBufferPointer(start: value, count: length))
    }

    static func addOption(_ pdu: OpaquePointer, number: UInt16, value: [UInt8]) {
        _ = value.withUnsafeBufferPointer { coap_add_option(pdu, number, $0.count, $0.baseAddress) }
    }

    /// Size1 in a 4.13: the largest body the server takes (RFC 7959 §4).
    static func addSize1(_ pdu: OpaquePointer, _ bytes: Int) {
        var value = [UInt8](repeating: 0, count: 4)
        let length = Int(coap_encode_var_safe(&value, 4, UInt32(clamping: bytes)))
        addOption(pdu, number: UInt16(COAP_OPTION_SIZE1), value: Array(value.prefix(length)))
    }

    static func addDiagnostic(_ pdu: OpaquePointer, _ text: String) {
        let bytes = Array(text.utf8.prefix(120))
        _ = bytes.withUnsafeBufferPointer { coap_add_data(pdu, $0.count, $0.baseAddress) }
    }

    static func payload(of pdu: OpaquePointer) -> [UInt8] {
        var length = 0
        var data: UnsafePointer<UInt8>?
        guard coap_get_data(pdu, &length, &data) != 0, let data, length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    static func text(of query: UnsafePointer<coap_string_t>?) -> String {
        query.map { string in
            string.pointee.s.map { String(decoding: UnsafeBufferPointer(start: $0, count: string.pointee.length), as: UTF8.self) } ?? ""
        } ?? ""
    }

    static func tokenValue<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        bytes.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    /// A PDU's token as a number (its first 8 bytes).
    static func token(of pdu: OpaquePointer) -> UInt64 {
        let token = coap_pdu_get_token(pdu)
        return token.s.map { tokenValue(UnsafeBufferPointer(start: $0, count: min(8, token.length))) } ?? 0
    }

    /// The `<id>` of a request to `rd/<id>`: the only paths besides `rd` a device may use.
    static func registrationId(of request: OpaquePointer) -> String? {
        guard let uri = coap_get_uri_path(request) else { return nil }
        defer { coap_delete_string(uri) }
        guard let bytes = uri.pointee.s else { return nil }
        let path = String(decoding: UnsafeBufferPointer(start: bytes, count: uri.pointee.length), as: UTF8.self)
        return RegistrationRequest.registrationId(uriPath: path)
    }
}
