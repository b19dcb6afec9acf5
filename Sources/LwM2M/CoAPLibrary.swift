import CCoAP

/// Facts about the linked libcoap, for `edgegw version` and start-up logs.
public enum CoAPLibrary {
    /// libcoap's own version string, e.g. "4.3.1" (the library says "libcoap 4.3.1").
    public static var version: String {
        let text = String(cString: coap_package_version())
        return text.split(separator: " ").last.map(String.init) ?? text
    }

    /// Whether the linked libcoap can serve DTLS at all (4.3.1 has no PSK-specific query).
    public static var dtlsSupported: Bool { coap_dtls_is_supported() != 0 }

    /// The (D)TLS library libcoap was built with: "GnuTLS", "OpenSSL", ….
    public static var tlsLibrary: String {
        guard let info = coap_get_tls_library_version() else { return "none" }
        switch info.pointee.type {
        case COAP_TLS_LIBRARY_GNUTLS: return "GnuTLS"
        case COAP_TLS_LIBRARY_OPENSSL: return "OpenSSL"
        case COAP_TLS_LIBRARY_TINYDTLS: return "TinyDTLS"
        case COAP_TLS_LIBRARY_MBEDTLS: return "Mbed TLS"
        default: return "none"
        }
    }
}
