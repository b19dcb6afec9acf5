import Foundation
import GatewayCore

/// What the admin socket asks the daemon. Called on the socket's own thread: every answer comes
/// from snapshots the daemon keeps, never from a wait on the cloud, the store or the field.
public protocol AdminResponder: Sendable {
    func status() -> AdminStatus
    func devices() -> [AdminDevice]
    /// Starts a trace of a bus (`modbus`) or an IMEI (`nbiot`); an error says why not (no such
    /// bus, no such device, no such subsystem running).
    func trace(kind: String, target: String, capacity: Int,
               wake: @escaping @Sendable () -> Void) -> Result<TraceSubscription, AdminRefusal>
}

public struct AdminRefusal: Error, Sendable, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }
}

extension AdminResponder {
    /// `devices` with the request's filters applied (case-insensitive).
    func devices(matching request: AdminRequest) -> Result<[AdminDevice], AdminRefusal> {
        let kind = request.kind?.lowercased()
        let status = request.status?.uppercased()
        if let kind, !["modbus", "serial", "nbiot"].contains(kind) {
            return .failure(AdminRefusal("unknown kind \(kind): use modbus, serial or nbiot"))
        }
        if let status, !["ONLINE", "OFFLINE", "ABNORMAL", "UNKNOWN"].contains(status) {
            return .failure(AdminRefusal("unknown status \(status.lowercased()): use online, offline, abnormal or unknown"))
        }
        return .success(devices().filter { ($0.kind == kind || kind == nil) && ($0.status == status || status == nil) })
    }
}
