/// The platform's radio coverage levels and how many devices of one cell it upgrades at once
/// (spec lwm2m-coap §2.10):
///
/// | level | RSRP (dBm)          | SINR (dB)       | devices of the cell at once |
/// |-------|---------------------|-----------------|-----------------------------|
/// | 0     | −105 ≤ RSRP         | 7 ≤ SINR        | 50                          |
/// | 1     | −115 ≤ RSRP < −105  | −3 ≤ SINR < 7   | 10                          |
/// | 2     | −125 ≤ RSRP < −115  | −8 ≤ SINR < −3  | 1                           |
///
/// The weaker of the two values decides; a value below every range counts as level 2. The cell
/// known but its coverage not: 10 (the platform's cell-id-only fallback). The cell unknown: nil,
/// the caller's configured cap applies (the platform would fail the task; edgegw does not).
public enum CoverageLevel: Int, Sendable, Comparable, CaseIterable {
    case level0 = 0
    case level1 = 1
    case level2 = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Devices of one cell the platform upgrades at once when coverage is unknown but the cell is not.
    public static let unknownCoverageConcurrency = 10

    /// The level of one RSRP value (dBm); below −125 it is the weakest level.
    public static func of(rsrp: Int) -> CoverageLevel {
        if rsrp >= -105 { return .level0 }
        if rsrp >= -115 { return .level1 }
        return .level2
    }

    /// The level of one SINR value (dB); below −8 it is the weakest level.
    public static func of(sinr: Int) -> CoverageLevel {
        if sinr >= 7 { return .level0 }
        if sinr >= -3 { return .level1 }
        return .level2
    }

    /// The weaker of the two levels.
    public static func of(rsrp: Int, sinr: Int) -> CoverageLevel { max(of(rsrp: rsrp), of(sinr: sinr)) }

    /// The level when both values are known, nil otherwise (the platform needs both).
    public static func of(rsrp: Int?, sinr: Int?) -> CoverageLevel? {
        guard let rsrp, let sinr else { return nil }
        return of(rsrp: rsrp, sinr: sinr)
    }

    /// Devices with this coverage of one cell upgraded at once: 50, 10, 1.
    public var concurrentUpgradesPerCell: Int {
        switch self {
        case .level0: 50
        case .level1: 10
        case .level2: 1
        }
    }

    /// How many devices of this device's cell may upgrade at once, from what it reported: nil
    /// when its cell is unknown (the caller's configured cap). With one of RSRP/SINR known, its
    /// level bounds the combined one from below (the weaker decides): a level-2 value means 1,
    /// anything else the unknown-coverage 10 (never more than the platform would allow).
    public static func perCellConcurrency(_ radio: RadioConditions) -> Int? {
        guard radio.cellId != nil else { return nil }
        switch (radio.rsrp, radio.sinr) {
        case (let rsrp?, let sinr?):
            return of(rsrp: rsrp, sinr: sinr).concurrentUpgradesPerCell
        case (let rsrp?, nil):
            return min(unknownCoverageConcurrency, of(rsrp: rsrp).concurrentUpgradesPerCell)
        case (nil, let sinr?):
            return min(unknownCoverageConcurrency, of(sinr: sinr).concurrentUpgradesPerCell)
        case (nil, nil):
            return unknownCoverageConcurrency
        }
    }
}
