import GatewayCore
import Testing
@testable import Upgrade

@Suite struct UpgradeFanOutTests {
    static let rule: @Sendable (RadioConditions?) -> Int? = { radio in
        guard let radio, radio.cellId != nil else { return nil }
        guard let rsrp = radio.rsrp else { return 10 }
        return rsrp < -110 ? 1 : 50
    }

    @Test func globalCapAndRelease() {
        var fanOut = UpgradeFanOut(globalCap: 2, unknownCellCap: 50, cellLimit: Self.rule)
        #expect(fanOut.request("a") == ["a"])
        #expect(fanOut.request("b") == ["b"])
        #expect(fanOut.request("c") == [])
        #expect(fanOut.request("c") == [], "asking twice does not queue twice")
        #expect(fanOut.waiting == ["c"])
        #expect(fanOut.release("a") == ["c"])
        #expect(fanOut.release("x") == [])
        #expect(fanOut.running.count == 2)
    }

    @Test func cellCapsByCoverageAndUnknownCellGroup() {
        var fanOut = UpgradeFanOut(globalCap: 100, unknownCellCap: 2, cellLimit: Self.rule)
        fanOut.updateRadio(RadioConditions(rsrp: -120, cellId: "A"), for: "weak1")
        fanOut.updateRadio(RadioConditions(rsrp: -120, cellId: "A"), for: "weak2")
        fanOut.updateRadio(RadioConditions(rsrp: -70, cellId: "A"), for: "good")
        fanOut.updateRadio(RadioConditions(cellId: "B"), for: "cellOnly")
        #expect(fanOut.placement(of: "cellOnly").cap == 10)
        #expect(fanOut.placement(of: "nobody").group == .unknownCell)
        #expect(fanOut.placement(of: "nobody").cap == 2)
        #expect(fanOut.request("weak1") == ["weak1"])
        #expect(fanOut.request("weak2") == [], "level 2: one per cell")
        #expect(fanOut.request("good") == ["good"], "a good device starts beside it (its cap is 50)")
        #expect(fanOut.request("u1") == ["u1"])
        #expect(fanOut.request("u2") == ["u2"])
        #expect(fanOut.request("u3") == [], "unknown cell: the configured cap")
        #expect(fanOut.request("cellOnly") == ["cellOnly"], "a waiting device does not block other cells")
        #expect(fanOut.release("good") == [], "weak2 still sees weak1 in its cell")
        #expect(fanOut.release("weak1") == ["weak2"])
        #expect(fanOut.release("u1") == ["u3"])
    }

    @Test func occupyCountsWithoutAsking() {
        var fanOut = UpgradeFanOut(globalCap: 1, unknownCellCap: 5, cellLimit: Self.rule)
        fanOut.occupy("restored")
        #expect(fanOut.request("new") == [])
        #expect(fanOut.release("restored") == ["new"])
    }
}

@Suite struct FragmentBudgetTests {
    @Test func burstThenSteadyRate() {
        var budget = FragmentBudget<OffsetInstant>(perSecond: 4)
        let zero = OffsetInstant(offset: .zero)
        let dues = (0..<8).map { _ in budget.reserve(now: zero).offset }
        #expect(dues == [.zero, .zero, .zero, .zero, .milliseconds(250), .milliseconds(500), .milliseconds(750), .seconds(1)])
        // After a quiet time the bucket is full again.
        let later = OffsetInstant(offset: .seconds(10))
        #expect((0..<4).map { _ in budget.reserve(now: later) } == Array(repeating: later, count: 4))
        #expect(budget.reserve(now: later) > later)
    }
}
