/// The events the CoAP threads hand to the server's one consumer, in order, with a bound on the
/// uplinks waiting.
///
/// The policy: registrations, updates, offline, observe results and downlink results are never
/// dropped. The cloud side derives a child's status (online/offline) and each command's outcome
/// from them, and one lost would leave a device shown online for ever or a command unanswered;
/// they are bounded anyway, by the devices and by the commands in flight. Only data uplinks are
/// dropped, when `maxQueuedUplinks` are already waiting: the one arriving goes (the queue keeps
/// its order and stays O(1); an uplink is the device's next report superseded, not a state).
/// No backpressure: the CoAP threads must not wait on the consumer, or a slow consumer would
/// stall every device's handshake and Register (the modules' 4 s budget) behind one report.
struct ServerEventQueue: Sendable {
    let maxQueuedUplinks: Int
    private var buffer: [LwM2MServerEvent] = []
    private var head = 0
    private(set) var queuedUplinks = 0
    private(set) var droppedUplinks = 0

    init(maxQueuedUplinks: Int) {
        self.maxQueuedUplinks = max(0, maxQueuedUplinks)
    }

    var count: Int { buffer.count - head }
    var isEmpty: Bool { count == 0 }

    /// Queues the event; false when it was an uplink dropped by the bound (it is counted).
    mutating func push(_ event: LwM2MServerEvent) -> Bool {
        if case .uplink = event {
            guard queuedUplinks < maxQueuedUplinks else {
                droppedUplinks += 1
                return false
            }
            queuedUplinks += 1
        }
        buffer.append(event)
        return true
    }

    mutating func pop() -> LwM2MServerEvent? {
        guard head < buffer.count else { return nil }
        let event = buffer[head]
        head += 1
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 4096)
            head = 0
        } else if head >= 1024, head * 2 >= buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        if case .uplink = event { queuedUplinks -= 1 }
        return event
    }
}
