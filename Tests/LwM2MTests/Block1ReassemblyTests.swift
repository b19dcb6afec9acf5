import GatewayCore
@testable import LwM2M
import Testing

@Suite struct Block1ReassemblyTests {
    typealias Reassembly = Block1Reassembly<ContinuousClock.Instant>
    let t0 = ContinuousClock.now
    let key = Reassembly.Key(peer: 1, path: "rd")

    func block(_ number: Int, more: Bool, szx: Int = 0) -> Reassembly.Block { .init(number: number, more: more, sizeExponent: szx) }

    @Test func blocksInOrderMakeTheWholeBodyAndARepeatedBlockIsAnsweredAgain() {
        var reassembly = Reassembly(maxBodyBytes: 2048, maxTransfers: 4, idleTimeout: .seconds(60))
        let body = (0..<40).map { UInt8($0) }
        #expect(reassembly.receive(block(0, more: true), payload: Array(body[0..<16]), size1: 40, requestTag: [7], query: "ep=1", key: key, at: t0) == .next(block(0, more: true)))
        #expect(reassembly.receive(block(1, more: true), payload: Array(body[16..<32]), size1: nil, requestTag: [7], query: "", key: key, at: t0) == .next(block(1, more: true)))
        #expect(reassembly.receive(block(1, more: true), payload: Array(body[16..<32]), size1: nil, requestTag: [7], query: "", key: key, at: t0) == .next(block(1, more: true)))
        #expect(reassembly.receive(block(2, more: false), payload: Array(body[32...]), size1: nil, requestTag: [7], query: "", key: key, at: t0)
            == .complete(body: body, query: "ep=1", last: block(2, more: false)))
        // The last block again (our 2.01 was lost): the same body, once more.
        #expect(reassembly.receive(block(2, more: false), payload: Array(body[32...]), size1: nil, requestTag: [7], query: "", key: key, at: t0)
            == .complete(body: body, query: "ep=1", last: block(2, more: false)))
        reassembly.expire(at: t0 + .seconds(61))
        #expect(reassembly.count == 0)
    }

    @Test func gapsStrangersOversizeAndBERTAreRefused() {
        var reassembly = Reassembly(maxBodyBytes: 64, maxTransfers: 2, idleTimeout: .seconds(60))
        let sixteen = [UInt8](repeating: 1, count: 16)
        #expect(reassembly.receive(block(3, more: true), payload: sixteen, size1: nil, requestTag: nil, query: "", key: key, at: t0) == .incomplete)
        #expect(reassembly.receive(block(0, more: true), payload: sixteen, size1: 65, requestTag: nil, query: "", key: key, at: t0) == .tooLarge(limit: 64))
        _ = reassembly.receive(block(0, more: true), payload: sixteen, size1: nil, requestTag: nil, query: "", key: key, at: t0)
        #expect(reassembly.receive(block(2, more: true), payload: sixteen, size1: nil, requestTag: nil, query: "", key: key, at: t0) == .incomplete)
        for number in 0..<4 { _ = reassembly.receive(block(number, more: true), payload: sixteen, size1: nil, requestTag: nil, query: "", key: key, at: t0) }
        #expect(reassembly.receive(block(4, more: false), payload: [1], size1: nil, requestTag: nil, query: "", key: key, at: t0) == .tooLarge(limit: 64))
        #expect(reassembly.receive(block(0, more: true), payload: [1], size1: nil, requestTag: nil, query: "", key: key, at: t0) == .badRequest("block 0 carries 1 bytes; every block but the last carries 16"))
        if case .badRequest = reassembly.receive(block(0, more: true, szx: 7), payload: [], size1: nil, requestTag: nil, query: "", key: key, at: t0) {} else { Issue.record("BERT accepted") }
        // At most `maxTransfers` at once: the oldest goes.
        for peer in 1...3 {
            _ = reassembly.receive(block(0, more: true), payload: sixteen, size1: nil, requestTag: nil, query: "", key: .init(peer: UInt64(peer), path: "rd"), at: t0 + .seconds(peer))
        }
        #expect(reassembly.count == 2)
    }

    @Test func optionValuesRoundTrip() {
        for (number, more, szx) in [(0, false, 0), (0, true, 6), (5, false, 2), (4095, true, 6), (1_048_575, false, 6)] {
            let value = Reassembly.Block(number: number, more: more, sizeExponent: szx)
            #expect(Reassembly.Block(optionValue: value.optionValue) == value)
        }
        #expect(Reassembly.Block(optionValue: [1, 2, 3, 4]) == nil)
    }
}
