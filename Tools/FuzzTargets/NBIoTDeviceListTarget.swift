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
/// without problems renders (`render`) to text that reads back to the same rows, and merged into
/// a list (the input's text before a 00 byte, or a new list) each of its rows is a row of the list.
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
        template(bytes)
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

    /// `edgegw provision import`: a template read without problems is merged into the list (the
    /// input's text before its first 00 byte, when it has one and it reads as a list without
    /// problems; else a new list), and every row is then a device of the list.
    static func template(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let templateText = String(decoding: parts.count == 2 ? parts[1] : parts[0], as: UTF8.self)
        var existing = parts.count == 2 ? String(decoding: parts[0], as: UTF8.self) : nil
        if let list = existing {
            let problems = ConfigDiagnostics()
            _ = NBIoTDeviceList.parse(list, file: "nbiot-devices.csv", diagnostics: problems)
            if !problems.all.isEmpty { existing = nil }
        }
        let diagnostics = ConfigDiagnostics()
        let rows = PlatformDeviceTemplate.read(templateText, file: "template.csv", knownProducts: knownProducts, diagnostics: diagnostics)
        let rendered = PlatformDeviceTemplate.render(rows)
        guard diagnostics.all.isEmpty else { return }
        let reread = ConfigDiagnostics()
        let back = PlatformDeviceTemplate.read(rendered, file: "rendered.csv", knownProducts: knownProducts, diagnostics: reread)
        FuzzCheck.require(reread.all.isEmpty && back.map(\.cells) == rows.map(\.cells),
                          "template rows \(rows.map(\.cells)) render as\n\(rendered)\nwhich reads as \(back.map(\.cells)) \(reread.all)")

        let merged = NBIoTDeviceListMerge.merge(rows, into: existing)
        FuzzCheck.require(merged.added.count + merged.updated.count + merged.unchanged.count == rows.count,
                          "\(rows.count) rows merged: \(merged.added.count) added, \(merged.updated.count) updated, \(merged.unchanged.count) unchanged")
        let listed = NBIoTDeviceListRows.read(merged.text)
        for row in rows {
            FuzzCheck.require(listed[row.nodeId] != nil, "row \(row.nodeId) (\(row.cells)) is missing from the merged list:\n\(merged.text)")
        }
    }
}
