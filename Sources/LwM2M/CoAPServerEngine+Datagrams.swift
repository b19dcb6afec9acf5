import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

// Reading the listeners: batches handed to libcoap, and what is looked at before it reads them.
extension CoAPServerEngine {

    /// `coap_io_do_epoll` reads one datagram per ready event and then walks every session (idle
    /// timeouts, a DTLS clock read per session, retransmissions): with thousands of sessions in a
    /// storm that walk dominates if it runs per datagram (measured: a quarter of the server's CPU at
    /// 2,000 sessions). So each listener's event is repeated once per datagram waiting on it, counted
    /// by peeking at the queue, and one walk serves the whole batch. The peek also finds ClientHellos
    /// from addresses with a session (same-address reconnect) before libcoap reads them.
    func processDatagrams(context: OpaquePointer, epollFD: Int32) {
        guard let epollWait = Epoll.wait else {
            coap_io_process(context, UInt32.max)
            flushAfterReply()
            return
        }
        var batches = 0
        while batches < Self.batchesPerWakeup {
            let ready = Int(epollWait(epollFD, epollEvents, Int32(Self.maxReadyEvents), 0))
            guard ready > 0 else { break }
            let events = expandListenerEvents(ready: ready, context: context)
            coap_io_do_epoll(context, OpaquePointer(epollEvents), events)
            counters.sessionWalks += 1
            // Right after the batch that carried a Register: its Observe, before anything else is read.
            flushAfterReply()
            batches += 1
        }
    }

    /// Appends a copy of each listener's event per extra datagram waiting on it; returns the count.
    func expandListenerEvents(ready: Int, context: OpaquePointer) -> Int {
        var total = ready
        var replaced = false
        for index in 0..<ready {
            let event = epollEvents + index * Epoll.eventBytes
            // Trust the socket only when it names one of our listeners (libcoap's timer event
            // carries no socket).
            guard event.loadUnaligned(as: UInt32.self) & Epoll.readable != 0,
                  let fd = Epoll.libcoapDescriptor(data: Epoll.data(in: epollEvents, at: index)),
                  let dtls = listenerIsDTLS[fd] else { continue }
            let waiting = queuePeek.peek(fd: fd, limit: Self.maxDatagramsPerBatch) { datagram, source in
                if dtls, checkForReconnect(datagram: datagram, source: source) { replaced = true }
            }
            counters.datagrams += max(1, waiting)
            for _ in 1..<max(1, waiting) {
                (epollEvents + total * Epoll.eventBytes).copyMemory(from: event, byteCount: Epoll.eventBytes)
                total += 1
            }
        }
        if replaced {
            // The dropped sessions are freed by a walk, which must run before their ClientHellos are read.
            var now: coap_tick_t = 0
            coap_ticks(&now)
            _ = coap_io_prepare_epoll(context, now)
            counters.sessionWalks += 1
        }
        return total
    }


    // MARK: - Same-address reconnect

    /// Drops the session of an address that starts a new handshake; returns whether it did.
    func checkForReconnect(datagram: UnsafeRawBufferPointer, source: UnsafePointer<sockaddr>) -> Bool {
        guard DTLSRecord.isClientHello(datagram) else { return false }
        counters.clientHellos += 1
        let address = SocketTools.describe(sockaddr: source)
        guard let old = establishedByAddress.removeValue(forKey: address) else { return false }
        // The device rebooted or its NAT mapping was reused: the old session must go now, or libcoap
        // would hand the ClientHello to the old DTLS state and ignore it until the idle timeout.
        counters.sessionsReplaced += 1
        logger.info("lwm2m new handshake from an address with a session: replacing it", metadata: ["address": "\(address)"])
        forgetSession(old)
        coap_session_disconnected(old, COAP_NACK_NOT_DELIVERABLE)
        return true
    }
}
