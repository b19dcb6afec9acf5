import GatewayCore
import CCoAP
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Simulated NB-IoT modules on libcoap's client API: each device has its own DTLS-PSK session
/// (own identity and key), registers (`POST /rd`), accepts the server's Observe on its data
/// resource, sends binary notifications, accepts downlink writes and ACKs them, sleeps (closes its
/// session, so nothing answers) and wakes (new session, Register or Update).
/// One thread drives all devices of one simulator (libcoap is not thread-safe).
public final class NBIoTDeviceSimulator: @unchecked Sendable {
    public let events: AsyncStream<Event>
    let continuation: AsyncStream<Event>.Continuation
    let server: (host: String, port: UInt16)
    let commands = SimulatorLocked<[Command]>([])
    let stopFlag = SimulatorLocked(false)
    var wakeRead: Int32 = -1
    var wakeWrite: Int32 = -1
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    /// Reply written to the uplink resource after each downlink write, if set (command responses).
    let responder: (@Sendable (Int, [UInt8]) -> [UInt8]?)?

    // CoAP-thread state.
    var context: OpaquePointer?
    var devices: [DeviceState] = []
    /// When the PCP timers were last looked at (`pcpTick`).
    var lastPCPTick = ContinuousClock.now
    /// PCP fragment request (first send, retries included) → the fragment's arrival, per fragment.
    let fragmentLatencies = SimulatorLocked<[Duration]>([])
    /// The fragment latencies measured so far (devices with a PCP personality).
    public var pcpFragmentLatencies: [Duration] { fragmentLatencies.withLock { $0 } }

    /// Resources every simulated module could serve; each device answers only on those its
    /// object list announces (4.04 otherwise, as a module does).
    public static let defaultResources = ["19/0/0", "t/d", "19/1/0"]
    private let resourcePaths: [String]

    public init(serverHost: String = "127.0.0.1", serverPort: UInt16, resources: [String] = defaultResources,
                responder: (@Sendable (Int, [UInt8]) -> [UInt8]?)? = nil) {
        server = (serverHost, serverPort)
        resourcePaths = resources.map { $0.split(separator: "/").joined(separator: "/") }
        self.responder = responder
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    deinit {
        stop()
    }

    public func start() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SimulatorError("pipe failed") }
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        wakeRead = ends[0]
        wakeWrite = ends[1]
        let ready = DispatchSemaphore(value: 0)
        let failure = SimulatorLocked<String?>(nil)
        let thread = Thread { [self] in
            coap_startup()
            guard let context = coap_new_context(nil) else {
                failure.withLock { $0 = "coap_new_context failed" }
                ready.signal()
                finished.signal()
                return
            }
            self.context = context
            coap_set_app_data(context, Unmanaged.passUnretained(self).toOpaque())
            coap_register_response_handler(context, simulatorResponseHandler)
            coap_register_nack_handler(context, simulatorNackHandler)
            for path in resourcePaths { addResource(path) }
            addBootstrapResources()
            ready.signal()
            loop()
            finished.signal()
        }
        thread.name = "nbiot-sim"
        self.thread = thread
        thread.start()
        ready.wait()
        if let message = failure.withLock({ $0 }) { throw SimulatorError(message) }
    }

    public func stop() {
        guard thread != nil else { return }
        stopFlag.withLock { $0 = true }
        wake()
        finished.wait()
        thread = nil
        close(wakeRead)
        close(wakeWrite)
        continuation.finish()
    }

    /// Adds a device; returns its index (devices are numbered from 0 in the order added).
    @discardableResult
    public func add(_ device: Device) -> Int {
        let index = addedCount.withLock { count -> Int in
            defer { count += 1 }
            return count
        }
        send(.add(device))
        return index
    }
    private let addedCount = SimulatorLocked(0)

    /// Opens the device's session (DTLS handshake) and sends Register.
    public func register(_ device: Int) { send(.register(device)) }
    public func update(_ device: Int) { send(.update(device)) }
    public func deregister(_ device: Int) { send(.deregister(device)) }
    /// A notification on the observed data resource.
    public func notify(_ device: Int, payload: [UInt8], confirmable: Bool = true) {
        send(.notify(device, payload, confirmable: confirmable))
    }
    /// PSM: the device closes its session and answers nothing.
    public func sleep(_ device: Int) { send(.sleep(device)) }
    /// Out of PSM: a new session, then Register (`reregister`) or Update of the old registration.
    public func wake(_ device: Int, reregister: Bool = false) { send(.wake(device, reregister: reregister)) }

    /// A module reboot behind the same address: the session vanishes silently (DTLS sends no
    /// close_notify here) and a new handshake and Register come from the same local port.
    public func reboot(_ device: Int) { send(.reboot(device)) }

    /// Power cut: the session goes silent (as `sleep`); a module with a PCP personality keeps the
    /// fragments it holds and stops its retries.
    public func powerLoss(_ device: Int) { send(.powerLoss(device)) }
    /// Power back: a new session and a Register; a download in progress resumes from the first
    /// fragment missing once the server observes the data resource.
    public func powerOn(_ device: Int) { send(.powerOn(device)) }
    /// Client-initiated bootstrap with the device's `bootstrap` account; the module registers
    /// with the written account after Bootstrap-Finish.
    public func bootstrap(_ device: Int) { send(.bootstrap(device)) }

    func send(_ command: Command) {
        commands.withLock { $0.append(command) }
        wake()
    }

    func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }
}
