import Foundation
import PCP

/// `edgegw pcp encode`'s options checked against what the message code takes from each sender.
struct PCPEncodeRequest {
    enum Field: String, CaseIterable {
        case version, fragmentSize = "fragment-size", fragmentCount = "fragment-count", checkCode = "check-code"
        case index, result, data

        var option: String { "--" + rawValue }
    }

    struct Problem: Error { let text: String }

    /// What one sender's message with this code takes.
    struct Layout {
        let sender: PCPMessage.Sender
        let required: [Field]
        let optional: [Field]

        var takes: String {
            let all = required.map(\.option) + optional.map { "[\($0.option)]" }
            return all.isEmpty ? "no options" : all.joined(separator: " ")
        }
    }

    let code: String?
    let from: String?
    let given: [Field: String?]

    static func layouts(_ code: PCPMessageCode) -> [Layout] {
        switch code {
        case .queryVersion:
            return [Layout(sender: .platform, required: [], optional: []),
                    Layout(sender: .device, required: [.result, .version], optional: [])]
        case .newVersion:
            return [Layout(sender: .platform, required: [.version, .fragmentSize, .fragmentCount], optional: [.checkCode]),
                    Layout(sender: .device, required: [.result], optional: [])]
        case .requestFragment:
            return [Layout(sender: .device, required: [.version, .index], optional: []),
                    Layout(sender: .platform, required: [.result, .index], optional: [.data])]
        case .downloadResult:
            // Byte-identical either way (spec §2.8 rows 7 and 8); the device's report comes first.
            return [Layout(sender: .device, required: [.result], optional: []),
                    Layout(sender: .platform, required: [.result], optional: [])]
        case .execute:
            return [Layout(sender: .platform, required: [], optional: []),
                    Layout(sender: .device, required: [.result], optional: [])]
        case .upgradeResult:
            return [Layout(sender: .device, required: [.result, .version], optional: []),
                    Layout(sender: .platform, required: [.result], optional: [])]
        }
    }

    func message() throws(Problem) -> PCPMessage {
        guard let codeText = code else { throw Problem(text: "missing --code: the message code in decimal, 19…24") }
        guard let number = Self.number(codeText), let byte = UInt8(exactly: number),
              let code = PCPMessageCode(rawValue: byte) else {
            throw Problem(text: "--code \(codeText) is not a PCP message code: use 19…24 (0x13…0x18)")
        }
        let present = Set(given.compactMap { $0.value == nil ? nil : $0.key })
        let layout = try resolve(code, present: present)
        return try build(code, layout.sender)
    }

    /// The sender's layout: the one --from names, or the one the given options fit.
    private func resolve(_ code: PCPMessageCode, present: Set<Field>) throws(Problem) -> Layout {
        let layouts = Self.layouts(code)
        let name = "code \(code.rawValue) (\(code.name))"
        func sorted(_ fields: Set<Field>) -> String {
            Field.allCases.filter(fields.contains).map(\.option).joined(separator: ", ")
        }
        func missing(_ layout: Layout) -> Set<Field> { Set(layout.required).subtracting(present) }
        func surplus(_ layout: Layout) -> Set<Field> { present.subtracting(layout.required + layout.optional) }
        func sender(_ layout: Layout) -> String { layout.sender == .device ? "the device" : "the platform" }

        if let from {
            let wanted: PCPMessage.Sender
            switch from.lowercased() {
            case "device": wanted = .device
            case "platform": wanted = .platform
            default: throw Problem(text: "--from \(from): use device or platform")
            }
            guard let layout = layouts.first(where: { $0.sender == wanted }) else {
                throw Problem(text: "\(name) has no message from \(from)")
            }
            if !surplus(layout).isEmpty {
                throw Problem(text: "\(sorted(surplus(layout))) does not apply to \(name) from \(sender(layout)), which takes \(layout.takes)")
            }
            if !missing(layout).isEmpty {
                throw Problem(text: "\(name) from \(sender(layout)) needs \(sorted(missing(layout)))")
            }
            return layout
        }
        let fitting = layouts.filter { surplus($0).isEmpty }
        if let complete = fitting.first(where: { missing($0).isEmpty }) { return complete }
        let takes = layouts.map { "from \(sender($0)) \($0.takes)" }.joined(separator: "; ")
        switch fitting.count {
        case 0:
            let stray = layouts.map(surplus).min { $0.count < $1.count } ?? present
            throw Problem(text: "\(sorted(stray)) does not apply to \(name): it takes \(takes)")
        case 1:
            throw Problem(text: "\(name) from \(sender(fitting[0])) needs \(sorted(missing(fitting[0])))")
        default:
            throw Problem(text: "\(name) needs options: \(takes)")
        }
    }

    private func build(_ code: PCPMessageCode, _ sender: PCPMessage.Sender) throws(Problem) -> PCPMessage {
        switch (code, sender) {
        case (.queryVersion, .platform): return .queryVersion
        case (.queryVersion, .device): return .versionReport(result: try result(), version: text(.version))
        case (.newVersion, .platform):
            let checkCode = given[.checkCode].flatMap { $0 } == nil ? 0 : try word(.checkCode)
            return .newVersion(PCPNewVersion(targetVersion: text(.version), fragmentSize: try word(.fragmentSize),
                                             fragmentCount: try word(.fragmentCount), checkCode: checkCode))
        case (.newVersion, .device): return .newVersionAnswer(try result())
        case (.requestFragment, .device): return .fragmentRequest(targetVersion: text(.version), index: try word(.index))
        case (.requestFragment, .platform):
            var bytes: [UInt8] = []
            if let hex = given[.data].flatMap({ $0 }) {
                guard let decoded = CodecHex.bytes(hex) else {
                    throw Problem(text: "--data \"\(hex)\" is not hex: use two digits per byte, like 48 45 4C")
                }
                bytes = decoded
            }
            return .fragment(result: try result(), index: try word(.index), data: bytes)
        case (.downloadResult, .device): return .downloadResult(try result())
        case (.downloadResult, .platform): return .downloadResultAck(try result())
        case (.execute, .platform): return .execute
        case (.execute, .device): return .executeAnswer(try result())
        case (.upgradeResult, .device): return .upgradeResult(result: try result(), version: text(.version))
        case (.upgradeResult, .platform): return .upgradeResultAck(try result())
        }
    }

    private func text(_ field: Field) -> String { given[field].flatMap { $0 } ?? "" }

    private func result() throws(Problem) -> PCPResult {
        let value = text(.result)
        guard let number = Self.number(value), let byte = UInt8(exactly: number) else {
            throw Problem(text: "--result \(value) is not a result byte: use 0…255 (e.g. 0 success, 128 no task)")
        }
        return PCPResult(byte)
    }

    private func word(_ field: Field) throws(Problem) -> UInt16 {
        let value = text(field)
        guard let number = Self.number(value), let word = UInt16(exactly: number) else {
            throw Problem(text: "\(field.option) \(value) is not in 0…65535")
        }
        return word
    }

    /// Decimal, or hex with a 0x prefix.
    static func number(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix("0x") { return Int(trimmed.dropFirst(2), radix: 16) }
        return Int(trimmed)
    }
}
