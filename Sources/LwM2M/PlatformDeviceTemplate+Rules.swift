import Foundation
import GatewayCore

/// The platform's rules for a template row (seed UG §11.4.1, for NB devices), each limit named.
extension PlatformDeviceTemplate {
    /// A node id (the module's IMEI) is 1-64 characters ...
    public static let nodeIdLength = 1...64
    /// ... of these.
    public static let nodeIdCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    private static let nodeIdCharacterSet = Set(nodeIdCharacters.utf8)
    /// A PSK (psk and bootstrapPsk) is 8-32 hex digits: 4-16 bytes, so an even count.
    public static let pskHexDigits = 8...32
    /// `secure`: DTLS and DTLS+ carry a PSK; NoSec is plain CoAP.
    public static let secureModes = ["DTLS", "DTLS+", "NoSec"]
    /// `lifeTime` in seconds: 0 (the default, 86400) up to 7 days.
    public static let lifetimeSeconds = 0...604_800

    /// `spelled`: each column's name as the file writes it, for the problems.
    static func check(_ rows: [PlatformDeviceRow], file: String, knownProducts: Set<String>?, spelled: [String: String] = [:],
                      diagnostics: ConfigDiagnostics) {
        var firstLine: [String: Int] = [:]
        for row in rows {
            func problem(_ column: String, _ text: String, fix: String) {
                diagnostics.report(file: file, line: row.line, keyPath: spelled[column] ?? column, problem: text, fix: fix)
            }
            if let text = nodeIdProblem(row.nodeId) {
                problem("nodeId", text, fix: "the module's IMEI: \(nodeIdLength.lowerBound)-\(nodeIdLength.upperBound) letters, digits, _ or -")
            } else if let earlier = firstLine[row.nodeId] {
                problem("nodeId", "duplicate nodeId \(row.nodeId) (first on line \(earlier))", fix: "each node id may appear once")
            } else {
                firstLine[row.nodeId] = row.line
            }
            if row.productId.isEmpty {
                problem("productId", "empty", fix: "the product id the platform gave the product")
            } else if let knownProducts, !knownProducts.contains(row.productId) {
                problem("productId", "unknown product \(row.productId)", fix: "add products/\(row.productId).toml or fix the id")
            }
            for (column, value) in [("psk", row.psk), ("bootstrapPsk", row.bootstrapPsk)] where !value.isEmpty {
                if let text = pskProblem(value) {
                    problem(column, text, fix: "\(pskHexDigits.lowerBound)-\(pskHexDigits.upperBound) hex digits (0-9, a-f), an even count")
                }
            }
            if secureMode(row.secure) == nil {
                problem("secure", row.secure.isEmpty ? "empty" : "'\(row.secure)' is not \(secureModes.joined(separator: ", "))",
                        fix: "one of \(secureModes.joined(separator: ", "))")
            }
            if !row.lifeTime.isEmpty, Int(row.lifeTime).map(lifetimeSeconds.contains) != true {
                problem("lifeTime", "'\(row.lifeTime)' is not a number of seconds in \(lifetimeSeconds.lowerBound)...\(lifetimeSeconds.upperBound)",
                        fix: "seconds, at most 7 days; empty or 0 for the default")
            }
        }
    }

    /// Why `nodeId` is not a node id the platform takes; nil when it is one.
    public static func nodeIdProblem(_ nodeId: String) -> String? {
        if nodeId.isEmpty { return "empty" }
        if !nodeIdLength.contains(nodeId.count) {
            return "\(nodeId.count) characters (allowed \(nodeIdLength.lowerBound)-\(nodeIdLength.upperBound))"
        }
        if let bad = nodeId.first(where: { $0.utf8.count != 1 || !nodeIdCharacterSet.contains($0.utf8.first ?? 0) }) {
            return "'\(nodeId)' has the character '\(bad)'"
        }
        return nil
    }

    /// Why `text` is not a template PSK; nil when it is one. Never quotes the key.
    public static func pskProblem(_ text: String) -> String? {
        if !text.allSatisfy(\.isHexDigit) || !text.allSatisfy(\.isASCII) { return "not hex digits" }
        if !pskHexDigits.contains(text.count) {
            return "\(text.count) hex digits (allowed \(pskHexDigits.lowerBound)-\(pskHexDigits.upperBound))"
        }
        if text.count % 2 != 0 { return "an odd number of hex digits (\(text.count)): a key is whole bytes" }
        return nil
    }

    /// The template's spelling of a `secure` cell (any case), or nil when it is none of them.
    public static func secureMode(_ text: String) -> String? {
        secureModes.first { $0.caseInsensitiveCompare(text) == .orderedSame }
    }

    /// The bytes of a template PSK already checked by `pskProblem`; nil otherwise.
    public static func keyBytes(_ hex: String) -> [UInt8]? {
        guard pskProblem(hex) == nil else { return nil }
        let digits = Array(hex)
        return stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(digits[$0...$0 + 1]), radix: 16) }
    }

    /// A key as the template writes it: lowercase hex, or nil when its length has no such form
    /// (4-16 bytes).
    public static func keyText(_ bytes: [UInt8]) -> String? {
        guard pskHexDigits.contains(bytes.count * 2) else { return nil }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
