import Foundation
import GatewayCore
import IoTDA

/// Upgrades (`$ota`): the cloud's notices and version queries for children go to the upgrade
/// side; its reports go up as the children's events.
extension CloudBridge {
    /// A child's `$ota` events (each checked on its own, so a bad one is answered and the others
    /// still go): upgrade notices and version queries to the upgrade side; a notice that cannot be
    /// taken is answered with an `upgrade_progress_report` saying why (result 255).
    func receivedOTA(_ payload: Data) {
        guard let downlink = try? OTADownlink.decode(payload), !downlink.items.isEmpty else { return }
        guard let deviceId = downlink.objectDeviceId, let nodeId = sync.nodeId(ofDeviceId: deviceId) else {
            logger.warning("$ota event for \(downlink.objectDeviceId ?? "the gateway itself") ignored: not a child of this gateway")
            return
        }
        for item in downlink.items {
            switch item.result {
            case .failure(let error):
                counters.badDownlink += 1
                logger.warning("bad $ota \(item.eventType) for child \(nodeId): \(error)")
                answerOTA(nodeId: nodeId, deviceId: deviceId, UpgradeProgress(resultCode: .internalError, version: Self.unknownVersion,
                                                                              description: "\(error)"))
            case .success(.versionQuery):
                guard let ota else {
                    logger.info("version_query for child \(nodeId) not answered: upgrades are not configured on this gateway")
                    continue
                }
                Task { await ota.versionQuery(nodeId: nodeId) }
            case .success(.upgrade(let notice)):
                guard let ota else {
                    answerOTA(nodeId: nodeId, deviceId: deviceId, UpgradeProgress(
                        resultCode: .internalError, version: Self.unknownVersion,
                        description: "upgrades are not configured on this gateway (no LwM2M device with an upgrade-capable product)"))
                    continue
                }
                logger.info("upgrade of child \(nodeId) to \(notice.version) asked (\(notice.eventType))")
                Task {
                    if let refusal = await ota.upgrade(nodeId: nodeId, notice: notice) {
                        await self.refuseUpgrade(nodeId: nodeId, refusal)
                    }
                }
            }
        }
    }

    /// The version an upgrade report names when the child's is not known (the field is required).
    static let unknownVersion = "unknown"

    private func refuseUpgrade(nodeId: String, _ description: String) {
        logger.warning("upgrade of child \(nodeId) refused: \(description)")
        guard let deviceId = sync.deviceId(of: nodeId) else { return }
        answerOTA(nodeId: nodeId, deviceId: deviceId, UpgradeProgress(resultCode: .internalError, version: Self.unknownVersion,
                                                                      description: description))
    }

    private func answerOTA(nodeId: String, deviceId: String, _ progress: UpgradeProgress) {
        append(kind: .event, nodeId: nodeId) {
            try topics.publication(EventsMessage.upgradeProgressReport(child: deviceId, progress, at: clock.wallTime()))
        }
    }

    /// An `$ota` event about a child, once the platform knows the child.
    func publishOTA(nodeId: String, kind: String, _ make: (String, Date) -> EventsMessage) {
        guard let deviceId = sync.deviceId(of: nodeId) else {
            logger.info("\(kind) of child \(nodeId) dropped: the platform does not have the child yet")
            return
        }
        let message = make(deviceId, clock.wallTime())
        append(kind: .event, nodeId: nodeId) { try topics.publication(message) }
    }
}
