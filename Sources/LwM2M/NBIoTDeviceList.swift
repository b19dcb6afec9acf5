import Foundation
import GatewayCore

/// The NB-IoT device list (`nbiot-devices.csv`) in the platform's batch-registration columns
/// (spec lwm2m-coap §4.6): nodeId, name, productId, strategyTypeId, funcName, psk, bootstrapPsk,
/// secure, lifeTime, secret; plus edgegw's optional pskIdentity, uplinkPath, downlinkPath, pcp.
/// Every problem is reported with file:line; a file with problems yields no devices from those lines.
public enum NBIoTDeviceList {
    public static let platformColumns = ["nodeId", "name", "productId", "strategyTypeId", "funcName", "psk", "bootstrapPsk",
                                         "secure", "lifeTime", "secret"]
    /// The template also prints `pk` / `bootstrapPk` (spec §4.6 erratum): accepted as the same columns.
    public static let columnAliases = ["pk": "psk", "bootstrapPk": "bootstrapPsk"]
    public static let edgegwColumns = ["pskIdentity", "uplinkPath", "downlinkPath", "pcp"]
    /// ASCII PSKs: the platform's examples are 8 digits ("12345678").
    public static let asciiPSKLength = 8...32
    /// `hex:` PSKs, in bytes.
    public static let hexPSKBytes = 4...64
    /// Most devices in one list (bounded memory for a bad file).
    public static let maxDevices = 100_000

    /// Parses the CSV text. `secrets` (node id → PSK) fills empty `psk` cells of secure devices.
    public static func parse(_ text: String, file: String, secrets: [String: [UInt8]] = [:], knownProducts: Set<String>? = nil,
                             diagnostics: ConfigDiagnostics) -> [NBIoTDevice] {
        var header: [String]?
        var devices: [NBIoTDevice] = []
        var firstLine: [String: Int] = [:]
        // "\r\n" is one Character in Swift, not "\n": a CRLF file splits on it too.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (offset, rawLine) in lines.enumerated() {
            let lineNumber = offset + 1
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            guard let cells = splitCSV(line) else {
                diagnostics.report(file: file, line: lineNumber, keyPath: "", problem: "unterminated quoted field",
                                   fix: "close the double quote or remove it")
                continue
            }
            guard let columns = header else {
                header = readHeader(cells, file: file, line: lineNumber, diagnostics: diagnostics)
                if header == nil { return [] }
                continue
            }
            guard devices.count < maxDevices else {
                diagnostics.report(file: file, line: lineNumber, keyPath: "", problem: "more than \(maxDevices) devices")
                break
            }
            guard cells.count <= columns.count else {
                diagnostics.report(file: file, line: lineNumber, keyPath: "",
                                   problem: "\(cells.count) fields but the header names \(columns.count) columns",
                                   fix: "quote fields that contain commas")
                continue
            }
            var row: [String: String] = [:]
            for (index, column) in columns.enumerated() where index < cells.count {
                row[column] = cells[index].trimmingCharacters(in: .whitespaces)
            }
            guard let device = readDevice(row, file: file, line: lineNumber, secrets: secrets, knownProducts: knownProducts,
                                          diagnostics: diagnostics) else { continue }
            if let earlier = firstLine[device.nodeId] {
                diagnostics.report(file: file, line: lineNumber, keyPath: "nodeId",
                                   problem: "duplicate nodeId \(device.nodeId) (first on line \(earlier))",
                                   fix: "each IMEI may appear once")
                continue
            }
            firstLine[device.nodeId] = lineNumber
            devices.append(device)
        }
        if header == nil {
            diagnostics.report(file: file, line: nil, keyPath: "", problem: "no header line",
                               fix: "start with: \(platformColumns.joined(separator: ","))")
        }
        checkIdentities(devices, firstLine: firstLine, file: file, diagnostics: diagnostics)
        return devices
    }

    /// The TOML form: one `[[devices]]` table per module, with the CSV's column names as keys
    /// (`nodeId`, `productId`, `psk`, `secure`, …); numbers and booleans may be written bare.
    public static func parse(toml document: ConfigDocument, secrets: [String: [UInt8]] = [:], knownProducts: Set<String>? = nil,
                             diagnostics: ConfigDiagnostics) -> [NBIoTDevice] {
        let root = ConfigReader(document: document, diagnostics: diagnostics)
        var devices: [NBIoTDevice] = []
        var firstLine: [String: Int] = [:]
        let aliases = columnAliases
        for table in root.tables("devices", required: true) {
            var row: [String: String] = [:]
            for key in platformColumns + edgegwColumns + Array(aliases.keys) {
                guard let node = table.rawNode(key) else { continue }
                let column = aliases[key] ?? key
                switch node.value {
                case .string(let text): row[column] = text
                case .integer(let number): row[column] = String(number)
                case .bool(let flag): row[column] = flag ? "true" : "false"
                default: table.report(key, "expected a string, number or boolean, found \(node.typeName)")
                }
            }
            table.finish()
            let line = table.line(of: "nodeId") ?? table.table.line ?? 0
            guard devices.count < maxDevices else {
                table.report(nil, "more than \(maxDevices) devices")
                break
            }
            guard let device = readDevice(row, file: document.file, line: line, secrets: secrets, knownProducts: knownProducts,
                                          diagnostics: diagnostics) else { continue }
            if let earlier = firstLine[device.nodeId] {
                table.report("nodeId", "duplicate nodeId \(device.nodeId) (first on line \(earlier))", fix: "each IMEI may appear once")
                continue
            }
            firstLine[device.nodeId] = line
            devices.append(device)
        }
        root.finish()
        checkIdentities(devices, firstLine: firstLine, file: document.file, diagnostics: diagnostics)
        return devices
    }

    /// A second device claiming the same PSK identity would make the key lookup ambiguous.
    private static func checkIdentities(_ devices: [NBIoTDevice], firstLine: [String: Int], file: String,
                                        diagnostics: ConfigDiagnostics) {
        var identities: [String: String] = [:]
        for device in devices where device.secure {
            if let other = identities[device.pskIdentity] {
                diagnostics.report(file: file, line: firstLine[device.nodeId], keyPath: "pskIdentity",
                                   problem: "PSK identity \(device.pskIdentity) is also used by \(other)")
            }
            identities[device.pskIdentity] = device.nodeId
        }
    }

    private static func readHeader(_ cells: [String], file: String, line: Int, diagnostics: ConfigDiagnostics) -> [String]? {
        let known = Set(platformColumns + edgegwColumns)
        var columns: [String] = []
        var ok = true
        for cell in cells {
            let name = cell.trimmingCharacters(in: .whitespaces)
            let column = columnAliases[name] ?? name
            if !known.contains(column) {
                let hint = ConfigReader.closest(to: column, in: known, maxDistance: 2)
                diagnostics.report(file: file, line: line, keyPath: name, problem: "unknown column",
                                   fix: hint.map { "did you mean \($0)?" } ?? "columns are \(platformColumns.joined(separator: ","))")
                ok = false
            }
            columns.append(column)
        }
        for required in ["nodeId", "productId"] where !columns.contains(required) {
            diagnostics.report(file: file, line: line, keyPath: required, problem: "missing required column")
            ok = false
        }
        return ok ? columns : nil
    }

    private static func readDevice(_ row: [String: String], file: String, line: Int, secrets: [String: [UInt8]],
                                   knownProducts: Set<String>?, diagnostics: ConfigDiagnostics) -> NBIoTDevice? {
        func problem(_ column: String, _ text: String, fix: String? = nil) {
            diagnostics.report(file: file, line: line, keyPath: column, problem: text, fix: fix)
        }
        let before = diagnostics.all.count
        let nodeId = row["nodeId"] ?? ""
        if !RegistrationRequest.isValidEndpoint(nodeId) {
            problem("nodeId", "'\(nodeId)' is not a valid node id", fix: "the module's IMEI: letters, digits, . _ : -, at most \(RegistrationRequest.maxEndpointLength)")
        }
        let productId = row["productId"] ?? ""
        if productId.isEmpty {
            problem("productId", "empty")
        } else if let knownProducts, !knownProducts.contains(productId) {
            problem("productId", "unknown product \(productId)", fix: "add products/\(productId).toml or fix the id")
        }
        let secureText = (row["secure"] ?? "").uppercased()
        let secure: Bool
        switch secureText {
        case "DTLS", "DTLS+", "TRUE", "YES", "1": secure = true
        case "", "NOSEC", "NO_SEC", "NONE", "FALSE", "NO", "0": secure = false
        default:
            problem("secure", "'\(row["secure"] ?? "")' is not DTLS, DTLS+ or NoSec")
            secure = false
        }
        var psk: [UInt8] = []
        if let text = row["psk"], !text.isEmpty {
            switch parsePSK(text) {
            case .success(let bytes): psk = bytes
            case .failure(let error): problem("psk", error.description, fix: error.fix)
            }
        } else if let secret = secrets[nodeId] {
            psk = secret
        }
        var bootstrapPSK: [UInt8] = []
        if let text = row["bootstrapPsk"], !text.isEmpty {
            switch parsePSK(text) {
            case .success(let bytes): bootstrapPSK = bytes
            case .failure(let error): problem("bootstrapPsk", error.description, fix: error.fix)
            }
        }
        // With a bootstrap PSK an empty psk is fine: edgegw generates the connection key.
        if secure && psk.isEmpty && (row["psk"] ?? "").isEmpty && (row["bootstrapPsk"] ?? "").isEmpty {
            problem("psk", "secure device \(nodeId) has no PSK",
                    fix: "fill the psk column, add \(nodeId) to the secrets file, or give a bootstrapPsk so that edgegw generates one")
        }
        var lifetime: Int?
        if let text = row["lifeTime"], !text.isEmpty {
            if let seconds = Int(text), seconds >= 0 && seconds <= 7 * 86_400 {
                lifetime = seconds > 0 ? seconds : nil
            } else {
                problem("lifeTime", "'\(text)' is not a number of seconds in 0...604800")
            }
        }
        var resources: DataResources?
        let uplink = row["uplinkPath"] ?? ""
        let downlink = row["downlinkPath"] ?? ""
        if !uplink.isEmpty || !downlink.isEmpty {
            if !uplink.hasPrefix("/") || !downlink.hasPrefix("/") {
                problem(uplink.hasPrefix("/") ? "downlinkPath" : "uplinkPath", "both paths must be given and start with /",
                        fix: "e.g. /19/0/0 and /19/1/0, or /t/d and /t/d")
            } else {
                resources = DataResources(uplink: uplink, downlink: downlink)
            }
        }
        let pcp = ["TRUE", "YES", "1", "PCP"].contains((row["pcp"] ?? "").uppercased())
        guard diagnostics.all.count == before else { return nil }
        let identity = row["pskIdentity"].flatMap { $0.isEmpty ? nil : $0 }
        return NBIoTDevice(nodeId: nodeId, name: row["name"].flatMap { $0.isEmpty ? nil : $0 }, productId: productId,
                           pskIdentity: identity, psk: psk, secure: secure, resources: resources, pcpUpgradeCapable: pcp,
                           bootstrapPSK: bootstrapPSK, lifetime: lifetime)
    }

    public struct PSKError: Error, Equatable, CustomStringConvertible {
        public var description: String
        public var fix: String
    }

    /// `hex:0011…` for raw bytes, otherwise the ASCII text itself (letters and digits, as the platform shows).
    public static func parsePSK(_ text: String) -> Result<[UInt8], PSKError> {
        if text.lowercased().hasPrefix("hex:") {
            let digits = Array(text.dropFirst(4))
            guard digits.count % 2 == 0, digits.allSatisfy(\.isHexDigit) else {
                return .failure(PSKError(description: "hex PSK has an odd length or a non-hex digit",
                                         fix: "write bytes as pairs of hex digits after hex:"))
            }
            var bytes: [UInt8] = []
            var index = 0
            while index < digits.count {
                guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else {
                    return .failure(PSKError(description: "hex PSK has a non-hex digit", fix: "use 0-9 and a-f"))
                }
                bytes.append(byte)
                index += 2
            }
            guard hexPSKBytes.contains(bytes.count) else {
                return .failure(PSKError(description: "hex PSK of \(bytes.count) bytes (allowed \(hexPSKBytes.lowerBound)-\(hexPSKBytes.upperBound))",
                                         fix: "use a longer key"))
            }
            return .success(bytes)
        }
        guard asciiPSKLength.contains(text.count) else {
            return .failure(PSKError(description: "PSK of \(text.count) characters (allowed \(asciiPSKLength.lowerBound)-\(asciiPSKLength.upperBound))",
                                     fix: "use \(asciiPSKLength.lowerBound)-\(asciiPSKLength.upperBound) letters/digits, or hex:<bytes>"))
        }
        guard text.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }) else {
            return .failure(PSKError(description: "PSK has characters other than letters and digits", fix: "use only letters and digits, or write the key as hex:<bytes>"))
        }
        return .success(Array(text.utf8))
    }

    /// Splits one CSV line (RFC 4180 quoting); nil for an unterminated quote.
    static func splitCSV(_ line: String) -> [String]? {
        var cells: [String] = []
        var current = ""
        var quoted = false
        var iterator = Array(line).makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && current.trimmingCharacters(in: .whitespaces).isEmpty {
                current = ""
                quoted = true
            } else if character == "," {
                cells.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if quoted { return nil }
        cells.append(current)
        return cells
    }
}

/// The secrets file for PSKs: `nodeId = psk` per line (`#` comments), same PSK syntax as the CSV.
/// It holds every device's key, so it is read like every secret (`Config.SecretFile`: mode 0600,
/// never printed); this only parses its text.
public enum NBIoTSecretsFile {
    /// Large enough for any site's list (about 40 bytes a device).
    public static let maxFileBytes = 16 * 1024 * 1024

    public static func parse(_ text: String, file: String, diagnostics: ConfigDiagnostics) -> [String: [UInt8]] {
        var secrets: [String: [UInt8]] = [:]
        var seen: [String: Int] = [:]
        for (offset, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                diagnostics.report(file: file, line: offset + 1, keyPath: "", problem: "expected nodeId = psk")
                continue
            }
            if let earlier = seen[parts[0]] {
                diagnostics.report(file: file, line: offset + 1, keyPath: parts[0], problem: "duplicate nodeId (first on line \(earlier))")
                continue
            }
            switch NBIoTDeviceList.parsePSK(parts[1]) {
            case .success(let key):
                secrets[parts[0]] = key
                seen[parts[0]] = offset + 1
            case .failure(let error):
                // Never echo the key itself.
                diagnostics.report(file: file, line: offset + 1, keyPath: parts[0], problem: error.description, fix: error.fix)
            }
        }
        return secrets
    }
}
