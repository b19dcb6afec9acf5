/// Device identities for load runs: IMEI-like endpoints and ASCII PSKs derived from a seed, so a
/// server and a load generator started separately agree on every key without a shared file.
public enum StormDevices {
    public static func endpoint(firstIMEI: UInt64, index: Int) -> String { String(firstIMEI + UInt64(index)) }

    /// 16 ASCII hex characters (FNV-1a over seed and index, then a SplitMix64 step).
    public static func psk(seed: UInt64, index: Int) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in withUnsafeBytes(of: seed.littleEndian, Array.init) + withUnsafeBytes(of: UInt64(index).littleEndian, Array.init) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        var z = hash &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let text = String(z, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    /// The bootstrap PSK of a storm device: a key of the same kind, never its connection key.
    public static func bootstrapPSK(seed: UInt64, index: Int) -> String { psk(seed: seed ^ 0xB007_57A9, index: index) }

    /// The storm index of `endpoint`, if it is one of `count` devices from `firstIMEI`.
    public static func index(of endpoint: String, firstIMEI: UInt64, count: Int) -> Int? {
        guard let value = UInt64(endpoint), value >= firstIMEI, value - firstIMEI < UInt64(count) else { return nil }
        return Int(value - firstIMEI)
    }
}

/// Percentiles of a list of durations, for load reports.
public struct LatencySummary: Sendable, CustomStringConvertible {
    public var count: Int
    public var p50: Duration
    public var p99: Duration
    public var max: Duration

    public init?(_ values: [Duration]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        p50 = sorted[(sorted.count - 1) / 2]
        p99 = sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        max = sorted[sorted.count - 1]
    }

    public var description: String {
        "n=\(count) p50=\(Self.ms(p50)) ms p99=\(Self.ms(p99)) ms max=\(Self.ms(max)) ms"
    }

    public static func ms(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return String(format: "%.1f", value)
    }
}
