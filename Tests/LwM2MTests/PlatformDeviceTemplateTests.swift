import Foundation
import GatewayCore
@testable import LwM2M
import Testing

/// The platform's batch template: both header spellings, CRLF, quoted cells, every rule with its
/// file:line, every named limit at its edges, and the text written back.
@Suite struct PlatformDeviceTemplateTests {
    static let header = "nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret"
    static let pkHeader = "nodeId,name,productId,strategyTypeId,funcName,pk,bootstrapPk,secure,lifeTime,secret"

    func read(_ text: String, products: Set<String>? = ["water-meter"]) -> ([PlatformDeviceRow], [ConfigDiagnostic]) {
        let diagnostics = ConfigDiagnostics()
        let rows = PlatformDeviceTemplate.read(text, file: "batch.csv", knownProducts: products, diagnostics: diagnostics)
        return (rows, diagnostics.all)
    }

    @Test(arguments: [header, pkHeader])
    func bothHeaderSpellingsReadTheSameCells(header: String) {
        let (rows, problems) = read("""
            \(header)
            861234567890001,meter 1,water-meter,0,fn,0011223344556677,8899aabbccddeeff,DTLS,86400,s3
            """)
        #expect(problems.isEmpty, "\(problems)")
        #expect(rows == [PlatformDeviceRow(line: 2, nodeId: "861234567890001", name: "meter 1", productId: "water-meter",
                                           strategyTypeId: "0", funcName: "fn", psk: "0011223344556677",
                                           bootstrapPsk: "8899aabbccddeeff", secure: "DTLS", lifeTime: "86400", secret: "s3")])
    }

    @Test func crlfLinesQuotedCellsAByteOrderMarkAndBlankLinesAreRead() {
        let text = "\u{FEFF}\(Self.header)\r\n861234567890001,\"Meter, \"\"north\"\"\",water-meter,0,,,0011223344556677,DTLS,,\r\n\r\n"
        let (rows, problems) = read(text)
        #expect(problems.isEmpty, "\(problems)")
        #expect(rows.count == 1)
        #expect(rows.first?.name == "Meter, \"north\"")
        #expect(rows.first?.secret == "", "no carriage return is left in the last cell")
        #expect(rows.first?.line == 2)
    }

    @Test func everyProblemOfEveryRowIsListedWithItsLineAndColumn() {
        let (_, problems) = read("""
            \(Self.header)
            861234567890001,,water-meter,0,,0011223344556677,,DTLS,86400,
            bad.node,,water-meter,0,,0011223344556677,,DTLS,86400,
            861234567890001,,gas-meter,0,,abc,,TLS,604801,
            861234567890003,,,0,,00112233445566778899aabbccddeeff00,0011223,,x,
            """)
        let found = problems.map { "\($0.line ?? 0) \($0.keyPath)" }
        #expect(found == ["3 nodeId", "4 nodeId", "4 productId", "4 psk", "4 secure", "4 lifeTime",
                          "5 productId", "5 psk", "5 bootstrapPsk", "5 secure", "5 lifeTime"], "\(problems)")
        #expect(problems.allSatisfy { $0.file == "batch.csv" && $0.fix != nil })
        #expect(problems[1].problem.contains("duplicate nodeId 861234567890001 (first on line 2)"))
        #expect(!problems.contains { $0.description.contains("0011223344556677") }, "a key is never quoted")
    }

    @Test func aProblemNamesTheColumnAsTheFileSpellsIt() {
        let (_, problems) = read("\(Self.pkHeader)\n1,,water-meter,,,0011,0011,NoSec,,\n")
        #expect(problems.map(\.keyPath) == ["pk", "bootstrapPk"], "\(problems)")
    }

    @Test func aHeaderThatIsNotTheTemplatesIsRefusedWithAHint() {
        let (rows, problems) = read("nodeId,name,productID,psk,pk\n861234567890001,,water-meter,,\n")
        #expect(rows.isEmpty)
        #expect(problems.map(\.keyPath) == ["productID", "pk", "productId"], "\(problems)")
        #expect(problems[0].fix == "did you mean productId?")
        #expect(read("").1.first?.problem == "no header line")
    }

    @Test func moreCellsThanColumnsAndAnOpenQuoteAreProblemsOfTheirLine() {
        let (_, problems) = read("nodeId,productId,secure\n1,water-meter,DTLS,extra\n2,\"water-meter,DTLS\n")
        #expect(problems.map(\.line) == [2, 3])
    }

    @Test func nodeIdLimits() {
        #expect(PlatformDeviceTemplate.nodeIdLength == 1...64)
        #expect(PlatformDeviceTemplate.nodeIdProblem(String(repeating: "a", count: 64)) == nil)
        #expect(PlatformDeviceTemplate.nodeIdProblem(String(repeating: "a", count: 65)) != nil)
        #expect(PlatformDeviceTemplate.nodeIdProblem("") == "empty")
        #expect(PlatformDeviceTemplate.nodeIdProblem("Ab_9-x") == nil)
        for bad in ["a.b", "a:b", "a b", "é", "a/b"] { #expect(PlatformDeviceTemplate.nodeIdProblem(bad) != nil, "\(bad)") }
    }

    @Test func pskLimits() {
        #expect(PlatformDeviceTemplate.pskHexDigits == 8...32)
        #expect(PlatformDeviceTemplate.pskProblem("0123abCD") == nil)
        #expect(PlatformDeviceTemplate.pskProblem(String(repeating: "f", count: 32)) == nil)
        #expect(PlatformDeviceTemplate.pskProblem("0123456") != nil, "7 digits")
        #expect(PlatformDeviceTemplate.pskProblem(String(repeating: "f", count: 34)) != nil, "17 bytes")
        #expect(PlatformDeviceTemplate.pskProblem("012345678")?.contains("odd") == true)
        #expect(PlatformDeviceTemplate.pskProblem("hex:01234567") == "not hex digits")
        #expect(PlatformDeviceTemplate.pskProblem("1234567g") == "not hex digits")
        #expect(PlatformDeviceTemplate.keyBytes("0aFF0aff") == [0x0A, 0xFF, 0x0A, 0xFF])
        #expect(PlatformDeviceTemplate.keyText([0x0A, 0xFF, 0x0A, 0xFF]) == "0aff0aff")
        #expect(PlatformDeviceTemplate.keyText([1, 2, 3]) == nil, "3 bytes have no template form")
        #expect(PlatformDeviceTemplate.keyText(Array(repeating: 1, count: 17)) == nil)
        #expect(PlatformDeviceTemplate.keyText(Array(repeating: 1, count: 16))?.count == 32)
    }

    @Test func secureModesAndLifetimeLimits() {
        #expect(PlatformDeviceTemplate.secureModes == ["DTLS", "DTLS+", "NoSec"])
        #expect(PlatformDeviceTemplate.secureMode("dtls+") == "DTLS+")
        #expect(PlatformDeviceTemplate.secureMode("NOSEC") == "NoSec")
        #expect(PlatformDeviceTemplate.secureMode("TLS") == nil)
        #expect(PlatformDeviceTemplate.lifetimeSeconds == 0...604_800)
        for (lifetime, ok) in [("0", true), ("604800", true), ("604801", false), ("-1", false), ("1d", false), ("", true)] {
            let (_, problems) = read("\(Self.header)\n1,,water-meter,,,,,NoSec,\(lifetime),\n")
            #expect(problems.isEmpty == ok, "\(lifetime): \(problems)")
        }
    }

    @Test func withoutAProductListAnyProductIsTaken() {
        #expect(read("\(Self.header)\n1,,any,,,,,NoSec,,\n", products: nil).1.isEmpty)
    }

    @Test func renderedTextReadsBackToTheSameCells() {
        let rows = [
            PlatformDeviceRow(nodeId: "861234567890001", name: "Meter, \"north\"", productId: "water-meter", strategyTypeId: "0",
                              psk: "0011223344556677", bootstrapPsk: "8899aabbccddeeff", secure: "DTLS", lifeTime: "3600", secret: " s "),
            PlatformDeviceRow(nodeId: "861234567890002", productId: "water-meter", secure: "NoSec"),
        ]
        let text = PlatformDeviceTemplate.render(rows)
        #expect(text.hasPrefix(Self.header + "\n"))
        let (read, problems) = read(text)
        #expect(problems.isEmpty, "\(problems)")
        #expect(read.map(\.cells) == [rows[0].cells.map { $0 == " s " ? "s" : $0 }, rows[1].cells],
                "cells round-trip (blanks around a cell are trimmed, as the list's reader does)")
        #expect(PlatformDeviceTemplate.quoted(" s ") == "\" s \"")
    }

    @Test func theRowLimitIsNamed() {
        #expect(PlatformDeviceTemplate.maxRows == 100_000)
        let rows = (0...PlatformDeviceTemplate.maxRows).map { "\($0),p,NoSec" }
        let (read, problems) = read((["nodeId,productId,secure"] + rows).joined(separator: "\n"), products: nil)
        #expect(read.count == PlatformDeviceTemplate.maxRows)
        #expect(problems.map(\.problem) == ["more than 100000 rows"])
    }
}
