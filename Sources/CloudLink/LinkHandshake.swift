import COpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finishes what `mosquitto_connect_async` starts, the TCP connect and the TLS handshake, with
/// our own poll(), before libmosquitto's loop takes over the MQTT exchange.
///
/// Why not leave it to `mosquitto_loop`: libmosquitto 2.0.11 (Debian 12) takes SSL_ERROR_SYSCALL
/// in the handshake for "try again" (upstream issue #2594, fixed in 2.0.15). When the TCP connect
/// fails (refused, reset, unreachable) every `mosquitto_loop` calls SSL_connect on the dead socket
/// and returns success at once: a busy loop on a core that never reports the failure. It also
/// waits for writability for the whole handshake after one SSL_ERROR_WANT_WRITE (#2794), a busy
/// loop on a slow or silent peer. Here each wait is a poll() on exactly what OpenSSL asked for,
/// plus the connection's stop pipe; every failure ends the attempt with its reason.
struct LinkHandshake {
    enum Outcome: Equatable {
        case established
        case failed(String)
        /// The TLS handshake failed; OpenSSL's queued reasons, e.g. "certificate verify failed".
        case tlsFailed(String)
        case stopped
        case timedOut(String)
    }

    /// libmosquitto's socket and, with TLS, its `SSL *` (`mosquitto_ssl_get`).
    let socket: Int32
    let ssl: OpaquePointer?
    /// Readable when the connection is asked to stop.
    let stopSignal: Int32
    let deadline: ContinuousClock.Instant
    /// errno right after `mosquitto_connect_async`, the reason when its write took the socket's error.
    let earlyError: Int32

    func run() -> Outcome {
        let tcp = waitForTCP()
        guard tcp == .established, let ssl else { return tcp }
        return handshake(ssl)
    }

    // MARK: TCP

    /// The non-blocking connect is done when the socket is writable (or in error).
    private func waitForTCP() -> Outcome {
        switch wait(for: Int16(POLLOUT)) {
        case .stopped: return .stopped
        case .timedOut: return .timedOut("no TCP connection")
        case .ready: break
        }
        var pending: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(socket, SOL_SOCKET, SO_ERROR, &pending, &length) == 0, pending != 0 {
            return .failed(String(cString: strerror(pending)))
        }
        // libmosquitto's first SSL_connect may already have taken the socket error; an unconnected
        // socket still tells on itself.
        var peer = sockaddr_storage()
        var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let connected = withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(socket, $0, &peerLength) == 0 }
        }
        if connected { return .established }
        let connectErrors: Set<Int32> = [ECONNREFUSED, ECONNRESET, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT, ECONNABORTED]
        return .failed(connectErrors.contains(earlyError) ? String(cString: strerror(earlyError)) : "Connection refused or reset")
    }

    // MARK: TLS

    private func handshake(_ ssl: OpaquePointer) -> Outcome {
        while true {
            ERR_clear_error()
            errno = 0
            let ret = SSL_connect(ssl)
            if ret == 1 { return .established }
            let error = SSL_get_error(ssl, ret)
            let systemError = errno
            let events: Int16
            switch error {
            case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
            case SSL_ERROR_SYSCALL:
                let queued = TLSContext.queuedErrors()
                if !queued.isEmpty { return .tlsFailed(queued) }
                if systemError != 0 { return .failed("TLS handshake failed: \(String(cString: strerror(systemError)))") }
                return .failed("the broker closed the connection during the TLS handshake")
            case SSL_ERROR_SSL:
                return .tlsFailed(TLSContext.queuedErrors())
            default:
                return .failed("TLS handshake failed (OpenSSL error \(error))")
            }
            switch wait(for: events) {
            case .ready: continue
            case .stopped: return .stopped
            case .timedOut: return .timedOut("no TLS handshake")
            }
        }
    }

    // MARK: waiting

    private enum Wait { case ready, stopped, timedOut }

    private func wait(for events: Int16) -> Wait {
        var fds = [pollfd(fd: socket, events: events, revents: 0), pollfd(fd: stopSignal, events: Int16(POLLIN), revents: 0)]
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return .timedOut }
            let milliseconds = Int32(clamping: Int64((left.seconds * 1000).rounded(.up)))
            let count = poll(&fds, nfds_t(fds.count), milliseconds)
            if count < 0 {
                if errno == EINTR { continue }
                return .ready   // let the next socket call report what is wrong
            }
            if fds[1].revents != 0 { return .stopped }
            if fds[0].revents != 0 { return .ready }
        }
    }
}
