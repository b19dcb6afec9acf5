/// One parser of outside input (or a family of them) under coverage-guided fuzzing.
///
/// `edgegw-fuzz` built with libFuzzer feeds `run` mutated inputs (`make fuzz`, scripts/fuzz.sh);
/// `FuzzCorpusTests` replays the committed corpus, `Tests/Fuzz/<name>/` with its `regressions/`,
/// through the same `run` on every `make test`. `run` feeds the bytes to the production parser
/// and checks what the parser promises (round trips, bounds); a broken promise traps with a
/// message (`FuzzCheck`), which libFuzzer reports as a crash and keeps as a reproducer.
public struct FuzzTarget: Sendable {
    /// Kebab-case; also the name of the corpus folder, `Tests/Fuzz/<name>/`.
    public let name: String
    /// libFuzzer's `-max_len` for this target: room for the longest input the parser takes,
    /// and a little beyond its limit so that the limit itself is exercised.
    public let maxInputBytes: Int
    /// What the target feeds and checks, in a few words (`edgegw-fuzz list`).
    public let summary: String
    public let run: @Sendable ([UInt8]) -> Void

    public init(name: String, maxInputBytes: Int, summary: String, run: @escaping @Sendable ([UInt8]) -> Void) {
        self.name = name
        self.maxInputBytes = maxInputBytes
        self.summary = summary
        self.run = run
    }
}

/// Every fuzz target, by name.
public enum FuzzTargetRegistry {
    public static let all: [FuzzTarget] = [
        CodecDecodeTarget.target,
        CodecEncodeTarget.target,
        PCPTarget.target,
        LwM2MRegistrationTarget.target,
        LwM2MContentTarget.target,
        SerialFramingTarget.target,
        IoTDADownlinkTarget.target,
        TOMLConfigTarget.target,
        DeviceFilesTarget.target,
        NBIoTDeviceListTarget.target,
        ModbusPointsTarget.target,
    ]

    public static func target(named name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }

    /// Builds what the targets share (the sample products, codecs and devices) before the first
    /// input, so that a sample file that no longer parses stops the run at once, with its problems.
    public static func prepare() {
        _ = SampleFiles.products
        _ = SampleFiles.codecs
        _ = FuzzCodecs.all
    }
}

/// The checks a target makes. A failure is a defect (in the parser, or in what the target
/// assumes of it): it traps with a message saying what differed, so libFuzzer writes the input
/// to the regressions folder and the corpus test names it. `fatalError` rather than
/// `preconditionFailure`: its message is printed in optimised builds too.
enum FuzzCheck {
    static func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                        file: StaticString = #fileID, line: UInt = #line) {
        if !condition() { fatalError(message(), file: file, line: line) }
    }

    static func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        fatalError(message, file: file, line: line)
    }
}

/// Hex for messages: `AA 55 01`.
func hexText(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}
