import Foundation
import GatewayCore
import Testing
import TestSupport

/// The README's `result_code` table is the cloud side's only reference for edgegw's own codes:
/// every code `DownlinkResultCode` can put in a response has its row.
@Suite struct ResultCodeTableTests {
    @Test func everyResultCodeHasARowInTheREADME() throws {
        let readme = try String(contentsOfFile: Paths.packageRoot + "/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "| result_code | meaning |"))
        let rows = readme[start.upperBound...].split(separator: "\n").dropFirst().prefix { $0.hasPrefix("|") }
        let documented = Set(rows.compactMap { row in
            Int(row.split(separator: "|").first?.trimmingCharacters(in: .whitespaces) ?? "")
        })
        let codes = Set(DownlinkResultCode.allCases.map(\.rawValue)).subtracting([DownlinkResultCode.success.rawValue])
        #expect(codes.subtracting(documented).isEmpty, "codes without a row: \(codes.subtracting(documented).sorted())")
        #expect(documented.subtracting(codes).isEmpty, "rows for no code: \(documented.subtracting(codes).sorted())")
    }
}
