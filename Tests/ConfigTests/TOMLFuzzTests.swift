import Foundation
import Testing
@testable import Config
import GatewayCore
import TestSupport

/// A quick libFuzzer-style smoke test: thousands of mutated config files, the same on every run
/// (a failing input is replayed from the seed and its index). Each must give a table or a
/// `TOMLSyntaxError` whose line is in the file; a trap would end the test process.
@Suite struct TOMLFuzzTests {
    static let iterations = 4000

    static let fragments = [
        "[a]\nb = \"x\\t\\u00e9\"\nc.d = 'lit'\n[[e]]\nf = [1, 2.5, -3e2, true, 1979-05-27T07:32:00Z]\n",
        "g = { h = 1, i.j = \"k\" }\nl = \"\"\"\nm \\\n  n\"\"\"\no = '''p'''\nq = 0x_ff\n",
        "[[s.t]]\nu = [[1], [\"v\"], [{w = 1}]]\n[s.t.x]\ny = 07:32:00.5\nz = +inf\n",
    ]

    /// Pieces of TOML syntax and bytes TOML forbids, to insert.
    static let tokens: [[UInt8]] = [
        "[", "]", "[[", "]]", "{", "}", "=", ".", ",", "\"", "'", "\"\"\"", "'''", "\\", "\\u", "\\U0010FFFF", "\\uD800",
        "\n", "\r\n", "#", " ", "\t", "0x", "0o", "0b", "1e", "_", "-", "+", ":", "inf", "nan", "true", "1979-05-27", "T07:",
        "a", "a.b", "\"k\"", "9223372036854775808", "é",
    ].map { Array($0.utf8) } + [[0x00], [0x0D], [0x7F], [0xFF], [0xC3], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF]]

    static func seeds() throws -> [[UInt8]] {
        let etc = "\(Paths.packageRoot)/etc/edgegw"
        let files = ["edgegw.toml", "nbiot-devices.toml", "products/power-meter.toml", "devices/power-meter.toml"]
        return try files.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(etc)/\($0)"))) } + fragments.map { Array($0.utf8) }
    }

    static func mutate(_ seed: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        func position() -> Int { Int.random(in: 0...bytes.count, using: &rng) }
        func token() -> [UInt8] { tokens.randomElement(using: &rng)! }
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty:   // a byte changed
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1:                        // a piece of syntax inserted
                bytes.insert(contentsOf: token(), at: position())
            case 2:                        // a few bytes deleted
                let start = position()
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &rng)))
            case 3:                        // a stretch copied elsewhere
                let start = position(), end = min(bytes.count, start + Int.random(in: 1...64, using: &rng))
                bytes.insert(contentsOf: Array(bytes[start..<end]), at: position())
            case 4:                        // cut short
                bytes.removeSubrange(position()...)
            case 5:                        // one piece repeated: brackets, quotes, dots
                bytes.insert(contentsOf: Array(repeating: token(), count: Int.random(in: 2...300, using: &rng)).flatMap { $0 }, at: position())
            default:                       // a line swapped for another's
                let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                if lines.count > 1 {
                    var moved = lines.map(Array.init)
                    moved.swapAt(Int.random(in: 0..<moved.count, using: &rng), Int.random(in: 0..<moved.count, using: &rng))
                    bytes = Array(moved.joined(separator: [0x0A]))
                }
            }
        }
        return bytes
    }

    @Test func mutatedFilesGiveATableOrATypedError() async throws {
        let seeds = try Self.seeds()
        var rng = SplitMix64(seed: 0x70_6D_6C_25)
        var accepted = 0, refused = 0
        for index in 0..<Self.iterations {
            // Seconds of work on a 2-core runner: let the other tests' tasks in now and then.
            if index % 50 == 0 { await Task.yield() }
            let input = Self.mutate(seeds.randomElement(using: &rng)!, &rng)
            let lines = input.filter { $0 == 0x0A }.count + 1
            do {
                let table = try TOMLDocumentParser.parseTable(bytes: input)
                accepted += 1
                #expect(Self.lines(of: table).allSatisfy { (1...lines).contains($0) }, "input \(index): a line outside the file")
            } catch {
                refused += 1
                #expect((1...lines).contains(error.line) && error.column >= 1, "input \(index): \(error)")
            }
        }
        print("TOML fuzz: \(Self.iterations) inputs, \(accepted) parsed, \(refused) refused")
        // Both paths were exercised.
        #expect(accepted > Self.iterations / 20 && refused > Self.iterations / 2, "accepted \(accepted), refused \(refused)")
    }

    static func lines(of table: ConfigTable) -> [Int] {
        table.keys.flatMap { key -> [Int] in
            guard let node = table[key] else { return [] }
            return lines(of: node)
        } + (table.line.map { [$0] } ?? [])
    }

    static func lines(of node: ConfigNode) -> [Int] {
        let own = node.line.map { [$0] } ?? []
        switch node.value {
        case .table(let table): return own + lines(of: table)
        case .array(let items): return own + items.flatMap { lines(of: $0) }
        default: return own
        }
    }
}
