import GatewayCore
import Testing

/// Spec lwm2m-coap §2.10's coverage table at every boundary, and the per-cell concurrency.
@Suite struct CoverageLevelTests {
    @Test(arguments: [
        (-60, CoverageLevel.level0), (-105, .level0), (-106, .level1), (-115, .level1),
        (-116, .level2), (-125, .level2), (-126, .level2), (-140, .level2),
    ])
    func rsrpLevels(rsrp: Int, level: CoverageLevel) {
        #expect(CoverageLevel.of(rsrp: rsrp) == level)
    }

    @Test(arguments: [
        (30, CoverageLevel.level0), (7, .level0), (6, .level1), (-3, .level1),
        (-4, .level2), (-8, .level2), (-9, .level2), (-20, .level2),
    ])
    func sinrLevels(sinr: Int, level: CoverageLevel) {
        #expect(CoverageLevel.of(sinr: sinr) == level)
    }

    /// The weaker value decides; outside all ranges (both obtainable) is level 2 → 1 device.
    @Test(arguments: [
        (-105, 7, 50), (-105, 6, 10), (-106, 7, 10), (-115, -3, 10), (-105, -4, 1), (-116, 7, 1),
        (-125, -8, 1), (-126, -9, 1), (-126, 20, 1), (-90, -9, 1),
    ])
    func combinedConcurrency(rsrp: Int, sinr: Int, devices: Int) {
        #expect(CoverageLevel.of(rsrp: rsrp, sinr: sinr).concurrentUpgradesPerCell == devices)
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(rsrp: rsrp, sinr: sinr, cellId: "21456")) == devices)
    }

    @Test func bothValuesAreNeededForALevel() {
        #expect(CoverageLevel.of(rsrp: -90, sinr: nil) == nil)
        #expect(CoverageLevel.of(rsrp: nil, sinr: 10) == nil)
        #expect(CoverageLevel.of(rsrp: -90, sinr: 10) == .level0)
    }

    @Test func theCellUnknownLeavesTheConfiguredCap() {
        #expect(CoverageLevel.perCellConcurrency(RadioConditions()) == nil)
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(rsrp: -90, sinr: 10)) == nil)
    }

    /// The cell known, coverage not (or half): 10, or 1 when the known half is already level 2.
    @Test func theCellKnownAndCoverageUnknownIsTen() {
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(cellId: "7")) == 10)
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(rsrp: -80, cellId: "7")) == 10)
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(rsrp: -110, cellId: "7")) == 10)
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(rsrp: -120, cellId: "7")) == 1)
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(sinr: 10, cellId: "7")) == 10)
        #expect(CoverageLevel.perCellConcurrency(RadioConditions(sinr: -5, cellId: "7")) == 1)
    }
}
