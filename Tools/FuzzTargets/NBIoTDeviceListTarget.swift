import Config
import GatewayCore
import LwM2M

/// `nbiot-device-list`: the NB-IoT device list's text through every reader of it: the CSV list
/// (`NBIoTDeviceList.parse`), its TOML form, the PSK secrets file, the platform's batch
/// template (`PlatformDeviceTemplate.read`), the rows `edgegw provision` keeps, and the merge of
/// a template into a list.
///
/// Properties: an accepted device has a valid node id (its LwM2M endpoint name), a key when it
/// is secure, a lifetime in range, and no other device shares its node id; a template read
/// without problems renders (`render`) to text that reads back to the same rows; merging rows
/// into a new list lists every one of them.
enum NBIoTDeviceListTarget {
    static let target = FuzzTarget(
        name: "nbiot-device-list", maxInputBytes: 16_384,
        summary: "NBIoTDeviceList.parse (CSV, TOML), NBIoTSecretsFile, PlatformDeviceTemplate read/render, rows, merge",
        run: run)

    static let knownProducts = Set(SampleFiles.products.keys)

    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let file = "nbiot-devices.csv"
        let secrets = NBIoTSecretsFile.parse(text, file: "nbiot-secrets", diagnostics: ConfigDiagnostics())
        for (nodeId, key) in secrets {
            FuzzCheck.require(!nodeId.isEmpty && !key.isEmpty, "a secret \(nodeId) of \(key.count) bytes")
        }
        check(NBIoTDeviceList.parse(text, file: file, secrets: secrets, knownProducts: knownProducts, diagnostics: ConfigDiagnostics()))
        check(NBIoTDeviceList.parse(text, file: file, diagnostics: ConfigDiagnostics()))
        _ = NBIoTDeviceListRows.read(text)
        if case .success(let document) = TOMLDocumentParser.parse(bytes: bytes, file: "nbiot-devices.toml") {
            check(NBIoTDeviceList.parse(toml: document, knownProducts: knownProducts, diagnostics: ConfigDiagnostics()))
            _ = NBIoTDeviceListRows.read(toml: document)
        }
        template(text)
    }

    static func check(_ devices: [NBIoTDevice]) {
        var seen = Set<String>()
        for device in devices {
            FuzzCheck.require(seen.insert(device.nodeId).inserted, "node id \(device.nodeId) listed twice")
            FuzzCheck.require((try? RegistrationRequest.parse(query: "ep=" + device.nodeId, body: []))?.endpoint == device.nodeId,
                              "node id \(device.nodeId) is no endpoint name a module can register with")
            FuzzCheck.require(!device.secure || !device.psk.isEmpty || !device.bootstrapPSK.isEmpty, "secure device \(device.nodeId) without a key")
            if let lifetime = device.lifetime {
                FuzzCheck.require(RegistrationRequest.lifetimeRange.contains(lifetime), "device \(device.nodeId) with lifetime \(lifetime)")
            }
            FuzzCheck.require(!device.pskIdentity.isEmpty, "device \(device.nodeId) with an empty PSK identity")
        }
    }

    static func template(_ text: String) {
        let diagnostics = ConfigDiagnostics()
        let rows = PlatformDeviceTemplate.read(text, file: "template.csv", knownProducts: nil, diagnostics: diagnostics)
        let merged = NBIoTDeviceListMerge.merge(rows, into: nil)
        FuzzCheck.require(merged.added.count == rows.count && merged.updated.isEmpty && merged.unchanged.isEmpty,
                          "merging \(rows.count) rows into a new list: \(merged.added.count) added")
        let listed = NBIoTDeviceListRows.read(merged.text)
        for row in rows where !row.nodeId.isEmpty {
            FuzzCheck.require(listed[row.nodeId] != nil, "row \(row.nodeId) missing from the merged list:\n\(merged.text)")
        }
        let again = NBIoTDeviceListMerge.merge(rows, into: merged.text)
        FuzzCheck.require(again.added.count + again.updated.count + again.unchanged.count == rows.count,
                          "merging \(rows.count) rows again: \(again.added.count) added, \(again.updated.count) updated, \(again.unchanged.count) unchanged")
        guard diagnostics.all.isEmpty else { return }
        let rendered = PlatformDeviceTemplate.render(rows)
        let reread = ConfigDiagnostics()
        let back = PlatformDeviceTemplate.read(rendered, file: "rendered.csv", knownProducts: nil, diagnostics: reread)
        FuzzCheck.require(reread.all.isEmpty && back.map(\.cells) == rows.map(\.cells),
                          "template rows \(rows.map(\.cells)) render as\n\(rendered)\nwhich reads as \(back.map(\.cells)) \(reread.all)")
    }
}
