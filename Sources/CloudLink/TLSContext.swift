import COpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The OpenSSL context a TLS connection hands libmosquitto (`MOSQ_OPT_SSL_CTX`, its defaults off):
/// TLS 1.2 or newer, the broker's chain verified against the CA file or the system store, and its
/// certificate checked for the host name or IP address we dialled.
///
/// Why not libmosquitto's own context: its failure reports only "A TLS error occurred", and a
/// context we hand it with its defaults on loses its host name check in 2.0.11 (the check looks
/// itself up under an index that only a library-made context initialises, so every certificate
/// is refused). Built here, the certificate check runs through `opensslVerifyCertificate`, which
/// tells the connection exactly what was wrong.
enum TLSContext {
    /// Oldest protocol accepted: the platform's floor (spec §1.4).
    static let minimumVersion = Int(TLS1_2_VERSION)

    /// A new context; the caller owns one reference. `verifyContext` is handed to the certificate check.
    static func make(caFile: String?, host: String, verifyContext: UnsafeMutableRawPointer) throws(CloudSessionError) -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw CloudSessionError("cannot create a TLS context (out of memory)")
        }
        do throws(CloudSessionError) {
            guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, minimumVersion, nil) == 1 else {
                throw CloudSessionError("cannot require TLS 1.2: \(queuedErrors())")
            }
            if let caFile {
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    throw CloudSessionError("cannot load CA file \(caFile): \(queuedErrors())")
                }
            } else if SSL_CTX_set_default_verify_paths(context) != 1 {
                throw CloudSessionError("cannot load the system trust store: \(queuedErrors())")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            let parameters = SSL_CTX_get0_param(context)
            let named = isIPAddress(host)
                ? X509_VERIFY_PARAM_set1_ip_asc(parameters, host)
                : X509_VERIFY_PARAM_set1_host(parameters, host, 0)
            guard named == 1 else { throw CloudSessionError("cannot check the certificate for \(host): \(queuedErrors())") }
            SSL_CTX_set_cert_verify_callback(context, opensslVerifyCertificate, verifyContext)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        return context
    }

    /// OpenSSL's queued reasons, oldest first, e.g. "certificate verify failed", "wrong version number".
    static func queuedErrors() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                reasons.append("OpenSSL error \(String(code, radix: 16))")
            }
        }
        return reasons.joined(separator: "; ")
    }

    /// Why a certificate was refused, for an operator: OpenSSL's verify error and what it was checked against.
    static func certificateProblem(code: Int32, caFile: String?, host: String) -> String {
        let problem = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)"
        if code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH {
            return "TLS certificate verify failed: \(problem) (the broker's certificate does not name \(host))"
        }
        let anchors = caFile.map { "ca_file \($0)" } ?? "the system trust store"
        return "TLS certificate verify failed: \(problem) (the broker's certificate was checked against \(anchors))"
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
