import GatewayCore
import Logging

// The LwM2M side of upgrades: PCP frames up to the upgrade side and down to the device's
// downlink resource, "the device reported", and the device's radio (object 4 read after its
// Register, radio properties of its reports). Fragment answers are the bulk of an upgrade: one
// actor hop per frame, logs at debug, counters in `stats`.
extension LwM2MService: UpgradeDownlink {
    /// Writes the frame to the device's downlink resource now (a confirmable write, like a
    /// command's, outside the command queue: a PCP exchange happens while the device is awake,
    /// right after its uplink). False when the device has no registration: the upgrade side
    /// waits for its next report. A write that then fails (no session, no ACK, refused) is
    /// counted in `stats.pcpSendFailures` and logged at debug; the upgrade side's timers cover it.
    public func sendPCP(_ frame: [UInt8], nodeId: String) async -> Bool {
        guard server.isRegistered(nodeId: nodeId) else {
            stats.pcpSendFailures += 1
            logger.debug("lwm2m PCP frame not sent: device not registered", metadata: ["node": "\(nodeId)"])
            return false
        }
        let tag = nextTag
        nextTag += 1
        pcpTags[tag] = nodeId
        stats.pcpFramesDown += 1
        logger.debug("lwm2m PCP frame down", metadata: ["node": "\(nodeId)", "code": "\(frame.count > 3 ? frame[3] : 0)", "bytes": "\(frame.count)"])
        server.send(Downlink(nodeId: nodeId, payload: frame, tag: tag))
        return true
    }

    /// A data-channel payload that `PCPRecognition` took as PCP: to the upgrade side, never to
    /// the codec. Without an upgrade side it is counted and logged, not answered.
    func pcpFrameReceived(_ frame: [UInt8], nodeId: String) async {
        stats.pcpFramesUp += 1
        guard let upgrades else {
            logger.info("lwm2m PCP frame: no upgrade side, not answered", metadata: ["node": "\(nodeId)", "code": "\(frame[3])", "bytes": "\(frame.count)"])
            return
        }
        logger.debug("lwm2m PCP frame up", metadata: ["node": "\(nodeId)", "code": "\(frame[3])", "bytes": "\(frame.count)",
                                                      "hex": "\(Self.hex(frame.prefix(Self.loggedFrameBytes)))"])
        await upgrades.pcpFrame(frame, nodeId: nodeId)
    }

    /// The delivery result of a PCP write (never a command's: its tag is in `pcpTags`).
    func pcpDelivered(nodeId: String, result: DownlinkDeliveryResult) {
        if case .acknowledged = result { return }
        stats.pcpSendFailures += 1
        logger.debug("lwm2m PCP frame not delivered", metadata: ["node": "\(nodeId)", "result": "\(result)"])
    }

    /// A Register: the device reported; its radio is read from object 4 when it announces it and
    /// could be upgraded (an upgrade side is attached, the device list marks it PCP-capable).
    func registeredForUpgrades(_ info: RegistrationInfo) async {
        forgetUpgradeExchanges(info.nodeId)
        guard let upgrades else { return }
        await upgrades.deviceReported(nodeId: info.nodeId)
        guard RadioResources.announced(in: info.objectLinks),
              directory.device(nodeId: info.nodeId)?.pcpUpgradeCapable ?? false else { return }
        radioPending[info.nodeId] = RadioResources.paths
        readNextRadioResource(info.nodeId)
    }

    /// One GET at a time (a constrained device serves one request at once).
    private func readNextRadioResource(_ nodeId: String) {
        guard var paths = radioPending[nodeId], !paths.isEmpty else {
            radioPending[nodeId] = nil
            return
        }
        let path = paths.removeFirst()
        radioPending[nodeId] = paths
        let tag = nextTag
        nextTag += 1
        radioReads[tag] = nodeId
        server.read(nodeId: nodeId, path: path, tag: tag)
    }

    /// An object 4 resource's answer. A refusal (4.04: e.g. no SignalSNR before object 4 v1.2)
    /// goes on to the next resource; a device gone (no ACK, no session) ends the reads. Once all
    /// are done, what is known goes to the upgrade side.
    func radioRead(tag: UInt64, nodeId: String, path: String, result: ResourceReadResult) async {
        guard radioReads.removeValue(forKey: tag) != nil else { return }
        var known = radio[nodeId] ?? RadioConditions()
        switch result {
        case .content(_, let payload) where RadioResources.apply(path: path, payload: payload, to: &known):
            stats.radioReads += 1
            radio[nodeId] = known
        case .content, .failed(.refused):
            logger.debug("lwm2m radio resource not read", metadata: ["node": "\(nodeId)", "path": "\(path)", "result": "\(result)"])
        case .failed:
            logger.debug("lwm2m radio reads ended", metadata: ["node": "\(nodeId)", "path": "\(path)", "result": "\(result)"])
            radioPending[nodeId] = []
        }
        readNextRadioResource(nodeId)
        guard radioPending[nodeId] == nil, known != RadioConditions() else { return }
        logger.debug("lwm2m device radio", metadata: ["node": "\(nodeId)", "rsrp": "\(known.rsrp.map(String.init) ?? "-")",
                                                      "sinr": "\(known.sinr.map(String.init) ?? "-")", "cell": "\(known.cellId ?? "-")"])
        await upgrades?.radioConditions(known, nodeId: nodeId)
    }

    /// Radio properties of a decoded report (`RadioResources.fromReport`), merged into what is
    /// known and passed on when they change it.
    func reportedRadio(_ services: [ServiceReport], nodeId: String) async {
        guard let upgrades, let reported = RadioResources.fromReport(services) else { return }
        var known = radio[nodeId] ?? RadioConditions()
        let before = known
        if let rsrp = reported.rsrp { known.rsrp = rsrp }
        if let sinr = reported.sinr { known.sinr = sinr }
        if let cellId = reported.cellId { known.cellId = cellId }
        guard known != before else { return }
        radio[nodeId] = known
        await upgrades.radioConditions(known, nodeId: nodeId)
    }

    /// The device's registration ended (or began anew): its PCP writes and radio reads in flight
    /// are forgotten (their late results are ignored).
    func forgetUpgradeExchanges(_ nodeId: String) {
        if pcpTags.values.contains(nodeId) { pcpTags = pcpTags.filter { $0.value != nodeId } }
        if radioReads.values.contains(nodeId) { radioReads = radioReads.filter { $0.value != nodeId } }
        radioPending[nodeId] = nil
    }

    /// Bytes of a PCP frame shown in the debug log (the header and a fragment request whole).
    static let loggedFrameBytes = 64

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map { ($0 < 0x10 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined()
    }
}
