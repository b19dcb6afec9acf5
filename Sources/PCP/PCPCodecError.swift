/// Why a message cannot be encoded as a PCP frame.
public enum PCPEncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A version string longer than the 16 bytes of its field.
    case versionTooLong(String)
    /// A version string with a character outside ASCII 0x01…0x7F (0x00 is the field's padding).
    case versionNotASCII(String)
    /// A fragment longer than the largest fragment size (`PCPLimits.fragmentSizes.upperBound`).
    case fragmentTooLong(byteCount: Int)
    /// A fragment answer whose result is not success carries no data (spec §2.4.3).
    case dataOnFailedFragment(PCPResult)

    public var description: String {
        switch self {
        case .versionTooLong(let version):
            return "version \"\(version)\" has \(version.utf8.count) bytes; the field holds \(PCPLimits.versionBytes)"
        case .versionNotASCII(let version):
            return "version \"\(version)\" is not ASCII (characters 0x01…0x7F)"
        case .fragmentTooLong(let count):
            return "a fragment of \(count) bytes is longer than \(PCPLimits.fragmentSizes.upperBound)"
        case .dataOnFailedFragment(let result):
            return "a fragment answer with result \(result) carries no data"
        }
    }
}

/// Why bytes do not decode to a PCP message.
public enum PCPDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A step (3–7) of the recognition rule failed: the payload is business data, not PCP.
    case notPCP(PCPRecognition.Verdict)
    /// The data area's length does not fit the message (`expected` says what it must be).
    case dataLength(code: PCPMessageCode, sender: PCPMessage.Sender, expected: String, actual: Int)
    /// A version field holds a byte outside ASCII before its 0x00 padding.
    case versionNotASCII(code: PCPMessageCode, bytes: [UInt8])

    public var description: String {
        switch self {
        case .notPCP(let verdict):
            return "not PCP: step \(verdict.failedStep ?? 0) (\(verdict.check)) failed: \(verdict.reason)"
        case .dataLength(let code, let sender, let expected, let actual):
            return "\(PCPCodec.role(code, from: sender)): the data area must be \(expected), not \(actual) bytes"
        case .versionNotASCII(let code, let bytes):
            let hex = bytes.map { byte in
                let digits = String(byte, radix: 16, uppercase: true)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
            return "the version field of code 0x\(String(code.rawValue, radix: 16, uppercase: true)) is not ASCII: \(hex)"
        }
    }
}
