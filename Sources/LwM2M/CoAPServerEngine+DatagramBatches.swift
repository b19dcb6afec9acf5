import GatewayCore
import CCoAP
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

// Reading the listeners in batches: the epoll events handed to libcoap, what is peeked at before
// it reads them (ClientHellos, datagrams too long for it), and memory given back after a burst.
extension CoAPServerEngine {
    /// Read batches before the loop's own bookkeeping runs again.
    static let batchesPerWakeup = 8
    /// Ready descriptors taken from one `epoll_wait` (listeners and libcoap's timer).
    static let maxReadyEvents = 8
    /// Datagrams one listener hands to libcoap in one batch. libcoap walks every session after each
    /// batch, and the Observe of a Register in the batch leaves right after it: 16 datagrams take
    /// about 2 ms to handle.
    static let maxDatagramsPerBatch = 16

    /// `coap_io_do_epoll` reads one datagram per ready event and then walks every session (idle
    /// timeouts, a DTLS clock read per session, retransmissions): with thousands of sessions in a
    /// storm that walk dominates if it runs per datagram (measured: a quarter of the server's CPU at
    /// 2,000 sessions). So each listener's event is repeated once per datagram waiting on it
    /// (`EpollBatch`), counted by peeking at the queue, and one walk serves the whole batch. The
    /// peek also finds ClientHellos from addresses with a session (same-address reconnect) before
    /// libcoap reads them.
    func processDatagrams(context: OpaquePointer, epollFD: Int32) {
        var batches = 0
        while batches < Self.batchesPerWakeup {
            guard let ready = batch.takeReady(epollFD: epollFD) else {
                coap_io_process(context, UInt32.max) // COAP_IO_NO_WAIT: no epoll_wait to batch with
                flushAfterReply()
                return
            }
            guard ready > 0 else { break }
            let events = expandListenerEvents(ready: ready, context: context)
            coap_io_do_epoll(context, OpaquePointer(batch.events), events)
            core.counters.sessionWalks += 1
            // Right after the batch that carried a Register: its Observe, before anything else is read.
            flushAfterReply()
            batches += 1
        }
    }

    /// How many times each ready event goes to libcoap: a listener's once per datagram waiting on
    /// it (none when its queue held only datagrams too long for libcoap, taken off here).
    func expandListenerEvents(ready: Int, context: OpaquePointer) -> Int {
        var replaced = false
        let total = batch.repeatEvents(ready: ready) { index in
            // Trust the socket only when it names one of our listeners.
            guard let fd = batch.readableDescriptor(at: index), let dtls = listenerIsDTLS[fd] else { return 1 }
            var waiting = 0
            for _ in 0..<Self.maxDatagramsPerBatch {
                var stoppedAtOversized = false
                waiting = queuePeek.peekWhile(fd: fd, limit: Self.maxDatagramsPerBatch, accept: { datagram, source in
                    guard datagram.count <= OversizedDatagram.libcoapReadBytes else {
                        stoppedAtOversized = true
                        return false
                    }
                    if dtls, checkForReconnect(datagram: datagram, source: source) { replaced = true }
                    return true
                })
                // Datagrams before a long one go to libcoap first; a long one at the head is taken here.
                guard waiting == 0, stoppedAtOversized else { break }
                guard takeOversizedDatagram(fd: fd, dtls: dtls) else { break }
            }
            core.counters.datagrams += waiting
            return waiting
        }
        if replaced {
            // The dropped sessions are freed by a walk, which must run before their ClientHellos are read.
            var now: coap_tick_t = 0
            coap_ticks(&now)
            _ = coap_io_prepare_epoll(context, now)
            core.counters.sessionWalks += 1
        }
        return total
    }

    /// Takes the datagram at the head of a listener's queue, too long for libcoap to read whole:
    /// a plain CoAP request is answered 4.13, a DTLS record dropped. False when the queue was empty.
    func takeOversizedDatagram(fd: Int32, dtls: Bool) -> Bool {
        let messageID = nextNonMessageID
        guard let taken = OversizedDatagram.take(fd: fd, answer: { datagram in
            dtls ? nil : OversizedDatagram.tooLargeReply(to: datagram, size1: RegistrationRequest.maxObjectListBytes,
                                                         messageID: messageID)
        }) else { return false }
        nextNonMessageID &+= 1
        core.counters.oversizedDatagrams += 1
        logRepeated(.warning, dtls ? "lwm2m DTLS datagram longer than libcoap reads dropped (the device must send block-wise)"
                                   : "lwm2m CoAP datagram longer than libcoap reads answered 4.13 (the device must send block-wise)",
                    metadata: ["address": "\(taken.source)", "bytes": "\(taken.bytes)", "limit": "\(OversizedDatagram.libcoapReadBytes)"])
        return true
    }

    /// Handshakes leave freed buffers behind that glibc keeps; give them back once a burst is over.
    func trimMemoryAfterBurst() {
        if !core.handshaking.isEmpty { trimmedAfterBurst = false; return }
        guard !trimmedAfterBurst else { return }
        trimmedAfterBurst = true
        _ = Epoll.mallocTrim?(0)
    }
}
