/// What a field subsystem (the LwM2M server for NB-IoT modules) tells the upgrade side about a
/// device, and how the upgrade side reaches the device. The gateway wires the two together; the
/// field module knows nothing of upgrade tasks, the upgrade side nothing of CoAP.
public protocol UpgradeUplinkHandler: Sendable {
    /// The device sent something (data or PCP). A PSM device is reachable only right after it
    /// sends, so this is when a task waiting for it may start.
    func deviceReported(nodeId: String) async
    /// A PCP frame from the device: a data-channel payload that `PCPRecognition` took as PCP.
    func pcpFrame(_ frame: [UInt8], nodeId: String) async
    /// What the device says of its radio, for the platform's per-cell upgrade limits.
    func radioConditions(_ conditions: RadioConditions, nodeId: String) async
}

/// How the upgrade side sends a PCP frame to a device through its field subsystem.
public protocol UpgradeDownlink: Sendable {
    /// Sends one PCP frame on the device's data channel now. False when the device cannot be
    /// reached now (not registered, no session): the upgrade side waits for its next report.
    func sendPCP(_ frame: [UInt8], nodeId: String) async -> Bool
}

/// A device's radio as it reports it (LwM2M object 4, or properties its product declares):
/// what the platform's coverage levels are computed from (spec lwm2m-coap §2.10).
public struct RadioConditions: Sendable, Equatable, Codable {
    /// Reference signal received power, dBm.
    public var rsrp: Int?
    /// Signal to interference plus noise ratio, dB.
    public var sinr: Int?
    /// The serving cell's id, as the device reports it.
    public var cellId: String?

    public init(rsrp: Int? = nil, sinr: Int? = nil, cellId: String? = nil) {
        self.rsrp = rsrp
        self.sinr = sinr
        self.cellId = cellId
    }
}
