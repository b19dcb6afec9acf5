import Config
import GatewayCore
import Testing
@testable import SerialFraming

/// Layouts from TOML text, as a device file declares them, and helpers to drive a framer.
enum Fixture {
    struct ParseFailure: Error, CustomStringConvertible {
        var diagnostics: [ConfigDiagnostic]
        var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    }

    /// The `[framing]` table of `text`, and every problem reported while reading it.
    static func parse(_ text: String, file: String = "device.toml") -> (FramingSpec?, [ConfigDiagnostic]) {
        switch TOMLDocumentParser.parse(text: text, file: file) {
        case .failure(let diagnostic):
            return (nil, [diagnostic])
        case .success(let document):
            let diagnostics = ConfigDiagnostics()
            let root = ConfigReader(document: document, diagnostics: diagnostics)
            let spec = root.table("framing", required: true).flatMap { FramingSpec.parse($0) }
            return (spec, diagnostics.all)
        }
    }

    /// A layout that must parse without a problem.
    static func spec(_ text: String) throws -> FramingSpec {
        let (spec, diagnostics) = parse(text)
        guard let spec, diagnostics.isEmpty else { throw ParseFailure(diagnostics: diagnostics) }
        return spec
    }

    /// The problems of a layout that must not parse.
    static func problems(_ text: String) -> [ConfigDiagnostic] {
        let (spec, diagnostics) = parse(text)
        #expect(spec == nil)
        return diagnostics
    }

    static func bytes(_ hex: String) -> [UInt8] { HexBytes.parse(hex) ?? [] }

    static func instant(milliseconds: Int) -> OffsetInstant { OffsetInstant(offset: .milliseconds(milliseconds)) }

    /// The sample sensor's layout: AA 55 | address | length of the payload | payload | CRC-16/MODBUS, low byte first.
    static let sensorLayout = """
        [framing]
        start = "AA 55"
        address_offset = 2
        payload_offset = 4
        [framing.length_field]
        offset = 3
        size = 1
        counts = "payload"
        [framing.checksum]
        type = "crc16_modbus"
        from = 2
        order = "little"
        """

    /// HDLC-like: 7E flags shared between frames, 7D escapes with XOR 0x20, CRC-32.
    static let hdlcLayout = """
        [framing]
        start = "7E"
        end = "7E"
        escape = "7D"
        escape_xor = 0x20
        [framing.checksum]
        type = "crc32"
        """

    /// Two start bytes, every frame 12 bytes, CRC-16/CCITT-FALSE.
    static let fixedLayout = """
        [framing]
        start = "5A A5"
        length = 12
        [framing.checksum]
        type = "crc16_ccitt_false"
        """
}

extension Framer where Instant == OffsetInstant {
    /// Feeds `bytes` in one read at instant zero.
    mutating func feed(_ bytes: [UInt8], at milliseconds: Int = 0) -> [FramerEvent] {
        receive(bytes, at: Fixture.instant(milliseconds: milliseconds))
    }
}

extension [FramerEvent] {
    var frames: [ReceivedFrame] {
        compactMap { if case .frame(let frame) = $0 { frame } else { nil } }
    }

    var rejections: [FrameRejection] {
        compactMap { if case .rejected(let rejection) = $0 { rejection } else { nil } }
    }

    var discardedBytes: Int {
        reduce(0) { if case .discarded(let count) = $1 { $0 + count } else { $0 } }
    }
}
