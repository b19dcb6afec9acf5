import CCoAP
import GatewayCore
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// libcoap's log lines (GnuTLS's too: libcoap forwards them) go through edgegw's logger, in its
/// one format, rate-limited per kind of line across threads, and cleaned of control bytes.
///
/// libcoap 4.3.1 formats each session as text into one static buffer (`coap_session_str`) that
/// every thread shares: with several CoAP threads a line can carry another thread's address, half
/// overwritten, NUL bytes included. The text is cleaned here; the addresses in edgegw's own lines
/// are the reliable ones.
enum CoAPLog {
    /// Where the lines of one CoAP thread go: its server's logger, limiter and libcoap level.
    final class Sink: Sendable {
        let logger: Logger
        let limiter: LogRateLimiter
        /// The most verbose libcoap level this server asked for (`libcoap_log_level`).
        let level: coap_log_t
        init(logger: Logger, limiter: LogRateLimiter, level: coap_log_t = CoAPLog.fallbackLevel) {
            self.logger = logger
            self.limiter = limiter
            self.level = level
        }
    }

    /// libcoap's own default: warnings and worse.
    static let fallbackLevel: coap_log_t = 4

    /// Lines from threads no server bound (a libcoap client in the same process, start-up).
    static let fallback = Sink(logger: Logger(label: "edgegw.libcoap"), limiter: LogRateLimiter())

    private static let levelLock = Locked(())

    /// libcoap's log level is process-wide: it is only raised, to the most verbose level any
    /// server asks for, and each sink drops what is above its own server's level. Set as is, a
    /// quieter server started later would silence every other server in the process.
    static func raiseLevel(to level: coap_log_t) {
        levelLock.withLock { _ in
            if coap_get_log_level() < level { coap_set_log_level(level) }
            if coap_dtls_get_log_level() < level { coap_dtls_set_log_level(level) }
        }
    }

    private static let sinkKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Routes libcoap's output through `lwm2mCoAPLogHandler` (process-wide, idempotent), its PDU
    /// dumps (debug level) included: by default libcoap writes those to stderr itself.
    static func install() {
        coap_set_log_handler(lwm2mCoAPLogHandler)
        coap_set_show_pdu_output(0)
    }

    /// The calling thread's lines go to `sink` until `unbind()`.
    static func bind(_ sink: Sink) {
        unbind()
        pthread_setspecific(sinkKey, Unmanaged.passRetained(sink).toOpaque())
    }

    static func unbind() {
        guard let current = pthread_getspecific(sinkKey) else { return }
        pthread_setspecific(sinkKey, nil)
        Unmanaged<Sink>.fromOpaque(current).release()
    }

    private static var currentSink: Sink {
        guard let current = pthread_getspecific(sinkKey) else { return fallback }
        return Unmanaged<Sink>.fromOpaque(current).takeUnretainedValue()
    }

    /// One line from libcoap (called on the thread that logs).
    static func deliver(level: coap_log_t, message: UnsafePointer<CChar>?) {
        guard let message else { return }
        let sink = currentSink
        guard level <= sink.level else { return }
        let text = clean(UnsafeRawBufferPointer(start: message, count: strlen(message)))
        guard !text.isEmpty else { return }
        let loggerLevel = self.level(level)
        guard loggerLevel >= sink.logger.logLevel else { return }
        let (session, body) = split(text)
        var metadata: Logger.Metadata = ["source": "libcoap"]
        if let session { metadata["session"] = "\(session)" }
        // Warnings and worse repeat under attack; debug output is asked for and kept whole.
        if loggerLevel >= .notice {
            guard let suppressed = sink.limiter.admit("libcoap: " + key(body), at: .now) else { return }
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        }
        sink.logger.log(level: loggerLevel, "libcoap: \(body)", metadata: metadata)
    }

    /// Printable text: control bytes (NUL included) dropped, invalid UTF-8 replaced, trimmed.
    static func clean(_ bytes: UnsafeRawBufferPointer) -> String {
        let kept = bytes.filter { $0 >= 0x20 && $0 != 0x7F }
        return String(decoding: kept, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    /// libcoap starts many lines with `** <local> <-> <remote> <proto>: `; that part becomes metadata.
    static func split(_ text: String) -> (session: String?, message: String) {
        guard text.hasPrefix("*"), let arrow = text.range(of: " <-> "),
              let colon = text.range(of: ": ", range: arrow.upperBound..<text.endIndex) else { return (nil, text) }
        let session = text[text.startIndex..<colon.lowerBound].drop { $0 == "*" || $0 == " " }
        return (String(session), String(text[colon.upperBound...]))
    }

    /// Lines that differ only in numbers (addresses, ports, counters) are one kind.
    static func key(_ message: String) -> String {
        message.split(separator: " ").map { $0.contains(where: \.isNumber) ? "#" : String($0) }.joined(separator: " ")
    }

    static func level(_ level: coap_log_t) -> Logger.Level {
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        case 7: .debug
        default: .trace
        }
    }
}
