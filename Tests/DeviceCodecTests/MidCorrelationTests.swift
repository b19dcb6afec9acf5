import DeviceCodec
import GatewayCore
import Testing

@Suite struct MidCorrelationTests {
    func response(mid: UInt16, command: String = "SET_INTERVAL", errcode: Int64? = 0) -> DecodedCommandResponse {
        DecodedCommandResponse(message: "m", serviceId: "S", command: command, mid: mid, errcode: errcode, paras: ["r": 1])
    }

    @Test func midsCountFromOne() {
        var allocator = MidAllocator()
        #expect(allocator.allocate() == 1)
        #expect(allocator.allocate() == 2)
        #expect(MidAllocator.range == 1...65535)
    }

    @Test func midWrapsFrom65535ToOneSkippingZero() {
        var allocator = MidAllocator(next: 65534)
        #expect(allocator.allocate() == 65534)
        #expect(allocator.allocate() == 65535)
        #expect(allocator.allocate() == 1)
        #expect(MidAllocator(next: 0).next == 1)
    }

    @Test func aFullCycleHandsOutEveryMidOnce() {
        var allocator = MidAllocator(next: 40000)
        var seen = Set<UInt16>()
        for _ in 0..<65535 { if let mid = allocator.allocate() { seen.insert(mid) } }
        #expect(seen.count == 65535)
        #expect(!seen.contains(0))
        #expect(allocator.next == 40000)
    }

    @Test func wrapAroundSkipsMidsStillWaiting() {
        var correlator = CommandCorrelator(allocator: MidAllocator(next: 65535))
        #expect(correlator.send(commandId: "a", serviceId: "S", command: "SET_INTERVAL") == 65535)
        #expect(correlator.send(commandId: "b", serviceId: "S", command: "SET_INTERVAL") == 1)
        // Around the circle again: 65535 and 1 still wait, so the next free one after them is 2.
        var skipping = CommandCorrelator(allocator: MidAllocator(next: 65535))
        _ = skipping.send(commandId: "old", serviceId: "S", command: "SET_INTERVAL")   // 65535 waits
        for _ in 1...65533 {   // 1 … 65533
            guard let mid = skipping.send(commandId: "x", serviceId: "S", command: "SET_INTERVAL") else {
                Issue.record("ran out early"); return
            }
            skipping.forget(mid: mid)
        }
        #expect(skipping.send(commandId: "new", serviceId: "S", command: "SET_INTERVAL") == 65534)
        #expect(skipping.send(commandId: "newer", serviceId: "S", command: "SET_INTERVAL") == 1)
        #expect(skipping.pending[65535]?.commandId == "old")
    }

    @Test func allMidsWaitingGivesNil() {
        var correlator = CommandCorrelator()
        for index in 0..<65535 {
            guard correlator.send(commandId: "\(index)", serviceId: "S", command: "C") != nil else {
                Issue.record("nil at \(index)"); return
            }
        }
        #expect(correlator.send(commandId: "one too many", serviceId: "S", command: "C") == nil)
    }

    @Test func responseCompletesOnlyItsCommand() {
        var correlator = CommandCorrelator()
        let first = correlator.send(commandId: "first", serviceId: "S", command: "SET_INTERVAL")
        let second = correlator.send(commandId: "second", serviceId: "S", command: "SET_INTERVAL")
        #expect(first == 1 && second == 2)
        #expect(correlator.receive(response(mid: 2)) == .completed(
            commandId: "second", result: CommandResult(status: .successful, errcode: 0, paras: ["r": 1])))
        // A wrong mid does not make any command SUCCESSFUL.
        #expect(correlator.receive(response(mid: 9)) == .unmatched(mid: 9))
        // A duplicate of the same response finds nothing waiting.
        #expect(correlator.receive(response(mid: 2)) == .unmatched(mid: 2))
        #expect(correlator.pending.keys.sorted() == [1])
    }

    @Test func responseForAnotherCommandDoesNotComplete() {
        var correlator = CommandCorrelator()
        let mid = correlator.send(commandId: "a", serviceId: "S", command: "SET_INTERVAL") ?? 0
        guard case .mismatched(let seen, let waiting) = correlator.receive(response(mid: mid, command: "SET_VALVE")) else {
            Issue.record("expected mismatched"); return
        }
        #expect(seen == mid && waiting.commandId == "a")
        #expect(correlator.pending[mid] != nil)
    }

    @Test func errcodeGivesFailed() {
        var correlator = CommandCorrelator()
        let mid = correlator.send(commandId: "a", serviceId: "S", command: "SET_INTERVAL") ?? 0
        #expect(correlator.receive(response(mid: mid, errcode: 3)) == .completed(
            commandId: "a", result: CommandResult(status: .failed, errcode: 3, paras: ["r": 1])))
        let next = correlator.send(commandId: "b", serviceId: "S", command: "SET_INTERVAL") ?? 0
        #expect(correlator.receive(response(mid: next, errcode: nil)) == .completed(
            commandId: "b", result: CommandResult(status: .successful, errcode: nil, paras: ["r": 1])))
    }

    @Test func forgottenCommandsNoLongerMatch() {
        var correlator = CommandCorrelator()
        let mid = correlator.send(commandId: "a", serviceId: "S", command: "SET_INTERVAL") ?? 0
        #expect(correlator.forget(mid: mid)?.commandId == "a")
        #expect(correlator.receive(response(mid: mid)) == .unmatched(mid: mid))
    }

    @Test func resumedCommandsAreMatchedAndTheirMidsSkipped() {
        var correlator = CommandCorrelator()
        correlator.resume(mid: 1, commandId: "before-restart", serviceId: "S", command: "SET_INTERVAL")
        #expect(correlator.send(commandId: "new", serviceId: "S", command: "SET_INTERVAL") == 2)
        #expect(correlator.receive(response(mid: 1)) == .completed(
            commandId: "before-restart", result: CommandResult(status: .successful, errcode: 0, paras: ["r": 1])))
    }
}
