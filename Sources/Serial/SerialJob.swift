import Foundation
import GatewayCore

/// What a serial line reports to its service.
enum SerialLineEvent: Sendable {
    case report(nodeId: String, services: [ServiceReport], time: Date)
    case status(nodeId: String, status: ChildStatus, time: Date)
}

/// One transaction a line runs for the cloud: a command, or a poll asked for by a property get.
struct SerialJob: Sendable {
    enum Awaited: Sendable, Equatable {
        /// The codec's command response carrying this `mid`.
        case commandResponse(mid: UInt16)
        /// The device's next report (a poll's answer).
        case report
        /// Nothing: written is done.
        case nothing
    }

    enum Outcome: Sendable, Equatable {
        case report([ServiceReport])
        case commandResponse(success: Bool, paras: JSONObject)
        case written
        case timeout
        /// Not answered: why, and the result code the cloud gets for it.
        case failed(DownlinkResultCode, String)
    }

    var device: Int
    var bytes: [UInt8]
    var awaited: Awaited
    /// The answer must be back by then (the cloud's deadline, or the device's own timeout).
    var deadline: GatewayClock.Instant
    var completion: @Sendable (Outcome) -> Void
}

/// The transaction on the wire: sent, its echo (2-wire RS-485) being dropped, its answer awaited.
struct SerialTransaction {
    enum Origin {
        /// The line's own poll of a device.
        case poll
        /// The product's report response, sent back after a report.
        case acknowledgement
        case job(SerialJob)
    }

    var device: Int
    var origin: Origin
    var awaited: SerialJob.Awaited
    var deadline: GatewayClock.Instant
    /// The bytes written that the adapter may still echo back.
    var echo: ArraySlice<UInt8>
}
