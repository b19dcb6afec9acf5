import Foundation
import GatewayCore
@testable import LwM2M
import Testing
import TestSupport

/// Templates mangled at random (bytes replaced, inserted, lines cut): reading never traps, every
/// problem names the file and a line within it or none, and a read that finds no problem gives
/// rows the device list takes once merged.
@Suite struct PlatformDeviceTemplateRandomTests {
    static let template = """
        nodeId,name,productId,strategyTypeId,funcName,pk,bootstrapPk,secure,lifeTime,secret\r
        861234567890001,"Meter, north",water-meter,0,fn,0011223344556677,8899aabbccddeeff,DTLS,86400,s\r
        861234567890002,m2,water-meter,1,,,a0a1a2a3a4a5a6a7,DTLS+,3600,\r
        861234567890003,m3,water-meter,0,,0a0b0c0d,,NoSec,,\r

        """
    static let alphabet = Array(",\"\r\n\u{FEFF}#0123456789abcdefxyzXYZ-_. é".unicodeScalars)

    @Test func mangledTemplatesAreReadWithoutTrappingAndCleanOnesMergeIntoAValidList() {
        var random = SplitMix64(seed: 14)
        var clean = 0
        for index in 0..<3_000 {
            var scalars = Array(Self.template.unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<scalars.count, using: &random)
                let scalar = Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &random)]
                switch Int.random(in: 0..<3, using: &random) {
                case 0: scalars[at] = scalar
                case 1: scalars.insert(scalar, at: at)
                default: scalars.remove(at: at)
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
            let diagnostics = ConfigDiagnostics()
            let rows = PlatformDeviceTemplate.read(text, file: "t.csv", knownProducts: ["water-meter"], diagnostics: diagnostics)
            #expect(diagnostics.all.allSatisfy { $0.file == "t.csv" && ($0.line ?? 1) >= 1 && ($0.line ?? 1) <= lineCount },
                    "input \(index)")
            guard diagnostics.all.isEmpty else { continue }
            clean += 1
            let merged = NBIoTDeviceListMerge.merge(rows, into: nil)
            let listDiagnostics = ConfigDiagnostics()
            let devices = NBIoTDeviceList.parse(merged.text, file: "list.csv", knownProducts: ["water-meter"], diagnostics: listDiagnostics)
            // A secure row without either key is the one thing the list (not the template) refuses.
            let keyless = rows.filter { PlatformDeviceTemplate.secureMode($0.secure) != "NoSec" && $0.psk.isEmpty && $0.bootstrapPsk.isEmpty }
            #expect(listDiagnostics.all.count == keyless.count, "input \(index): \(listDiagnostics.all)")
            #expect(devices.count == rows.count - keyless.count, "input \(index)")
        }
        #expect(clean > 100, "some mangled templates stay valid (\(clean))")
    }
}
