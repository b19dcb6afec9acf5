#if canImport(Glibc)
import Glibc
#endif

/// The epoll events of one read batch of a libcoap context, shaped so that one
/// `coap_io_do_epoll` reads every datagram waiting on a listener: libcoap reads one datagram per
/// ready event and then walks all of the context's sessions, so each listener's event is repeated
/// once per datagram waiting on it and one walk serves the whole batch (the LwM2M server and the
/// bootstrap server read their listeners this way).
final class EpollBatch {
    /// Ready descriptors taken from one `epoll_wait` (listeners and libcoap's timer).
    let maxReadyEvents: Int
    /// Datagrams one listener hands to libcoap in one batch.
    let maxDatagramsPerEvent: Int
    /// Room for every ready event repeated up to `maxDatagramsPerEvent` times.
    let events: UnsafeMutableRawPointer

    init(maxReadyEvents: Int, maxDatagramsPerEvent: Int) {
        self.maxReadyEvents = maxReadyEvents
        self.maxDatagramsPerEvent = maxDatagramsPerEvent
        events = UnsafeMutableRawPointer.allocate(byteCount: maxReadyEvents * maxDatagramsPerEvent * Epoll.eventBytes, alignment: 8)
    }

    deinit { events.deallocate() }

    /// The ready events of `epollFD`, without waiting (0 when none; nil without `epoll_wait`).
    func takeReady(epollFD: Int32) -> Int? {
        guard let wait = Epoll.wait else { return nil }
        return max(0, Int(wait(epollFD, events, Int32(maxReadyEvents), 0)))
    }

    /// The socket of ready event `index` when it is readable (libcoap's timer event carries none).
    func readableDescriptor(at index: Int) -> Int32? {
        let event = events + index * Epoll.eventBytes
        guard event.loadUnaligned(as: UInt32.self) & Epoll.readable != 0 else { return nil }
        return Epoll.libcoapDescriptor(data: Epoll.data(in: events, at: index))
    }

    /// Keeps each of the `ready` events `copies(index)` times (0 leaves it out, at most
    /// `maxDatagramsPerEvent`), the first copy in place and the others after all of them; returns
    /// how many events libcoap is to handle.
    func repeatEvents(ready: Int, copies: (Int) -> Int) -> Int {
        var repeats: [(index: Int, extra: Int)] = []
        var kept = 0
        for index in 0..<ready {
            let wanted = min(copies(index), maxDatagramsPerEvent)
            guard wanted > 0 else { continue }
            if kept != index {
                (events + kept * Epoll.eventBytes).copyMemory(from: events + index * Epoll.eventBytes, byteCount: Epoll.eventBytes)
            }
            if wanted > 1 { repeats.append((kept, wanted - 1)) }
            kept += 1
        }
        var total = kept
        for (index, extra) in repeats {
            for _ in 0..<extra {
                (events + total * Epoll.eventBytes).copyMemory(from: events + index * Epoll.eventBytes, byteCount: Epoll.eventBytes)
                total += 1
            }
        }
        return total
    }
}
