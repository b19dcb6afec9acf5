import Testing
@testable import Modbus

/// Which points a bus decodes after a read: those whose words changed, and those without a value.
@Suite struct RegisterChangeDetectorTests {
    /// Holding 0…5 in one read: p0 at 0 (1 word), p1 at 1…2 (2 words), an unused gap at 3…4, p2 at 5.
    static let points: [(address: Int, count: Int)] = [(0, 1), (1, 2), (5, 1)]
    static let read = ModbusReadRequest(table: .holding, address: 0, count: 6, points: [0, 1, 2])

    struct Call: Equatable, CustomStringConvertible {
        var point: Int, offset: Int, count: Int
        var description: String { "p\(point)@\(offset)+\(count)" }
    }

    /// The decode calls for one answer; points in `failing` do not decode.
    static func answer(_ detector: inout RegisterChangeDetector, _ words: [UInt16], group: Int = 0, read: Int = 0,
                       request: ModbusReadRequest = read, failing: Set<Int> = []) -> [Call] {
        var calls: [Call] = []
        words.withUnsafeBufferPointer { buffer in
            detector.update(group: group, read: read, request: request, words: buffer) { point, offset, count in
                calls.append(Call(point: point, offset: offset, count: count))
                return !failing.contains(point)
            }
        }
        return calls
    }

    @Test func theFirstAnswerDecodesEveryPointEvenWhenItIsAllZero() {
        var detector = RegisterChangeDetector(points: Self.points, plans: [[Self.read]])
        #expect(Self.answer(&detector, [0, 0, 0, 0, 0, 0]) == [Call(point: 0, offset: 0, count: 1), Call(point: 1, offset: 1, count: 2),
                                                              Call(point: 2, offset: 5, count: 1)])
        #expect(detector.known == [true, true, true])
    }

    @Test func anAnswerThatDidNotChangeDecodesNothing() {
        var detector = RegisterChangeDetector(points: Self.points, plans: [[Self.read]])
        _ = Self.answer(&detector, [1, 2, 3, 4, 5, 6])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6]) == [])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6]) == [])
    }

    @Test func onlyThePointsBetweenTheFirstAndTheLastChangedWordAreDecoded() {
        var detector = RegisterChangeDetector(points: Self.points, plans: [[Self.read]])
        _ = Self.answer(&detector, [1, 2, 3, 4, 5, 6])
        // The second word of p1.
        #expect(Self.answer(&detector, [1, 2, 9, 4, 5, 6]) == [Call(point: 1, offset: 1, count: 2)])
        // The last word: p2 only (found by the search, p0 and p1 not looked at).
        #expect(Self.answer(&detector, [1, 2, 9, 4, 5, 7]) == [Call(point: 2, offset: 5, count: 1)])
        // The first and the last word: everything between them too.
        #expect(Self.answer(&detector, [0, 2, 9, 4, 5, 8]).map(\.point) == [0, 1, 2])
        // Words no point uses.
        #expect(Self.answer(&detector, [0, 2, 9, 0, 0, 8]) == [])
        // The last answer is what the next is compared with.
        #expect(Self.answer(&detector, [0, 2, 9, 0, 0, 8]) == [])
    }

    @Test func aPointThatDidNotDecodeIsTriedAgainEveryPollUntilItDoes() {
        var detector = RegisterChangeDetector(points: Self.points, plans: [[Self.read]])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6], failing: [1]).map(\.point) == [0, 1, 2])
        #expect(detector.known == [true, false, true])
        // Same words: only the point without a value.
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6], failing: [1]) == [Call(point: 1, offset: 1, count: 2)])
        // A change elsewhere while it still fails: both.
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 7], failing: [1]).map(\.point) == [1, 2])
        // It decodes: from now on only changes.
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 7]) == [Call(point: 1, offset: 1, count: 2)])
        #expect(detector.known == [true, true, true])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 7]) == [])
        // Once every point of the read had a value, a point that stops decoding is decoded again
        // when its words change (the same words would only fail again).
        #expect(Self.answer(&detector, [2, 2, 3, 4, 5, 7], failing: [0]) == [Call(point: 0, offset: 0, count: 1)])
        #expect(detector.known == [false, true, true])
        #expect(Self.answer(&detector, [2, 2, 3, 4, 5, 7]) == [])
        #expect(Self.answer(&detector, [3, 2, 3, 4, 5, 7]) == [Call(point: 0, offset: 0, count: 1)])
        #expect(detector.known == [true, true, true])
    }

    @Test func everyPlannedReadIsComparedWithItsOwnLastAnswer() {
        // Group 0: holding 0…5 as above; group 1: input 10…11 holding p3 (2 words).
        let input = ModbusReadRequest(table: .input, address: 10, count: 2, points: [3])
        var detector = RegisterChangeDetector(points: Self.points + [(10, 2)], plans: [[Self.read], [input]])
        _ = Self.answer(&detector, [1, 2, 3, 4, 5, 6])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6], group: 1, request: input).map(\.point) == [3])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6], group: 1, request: input) == [])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6]) == [])
        #expect(Self.answer(&detector, [1, 3], group: 1, request: input) == [Call(point: 3, offset: 0, count: 2)])
        #expect(Self.answer(&detector, [1, 2, 3, 4, 5, 6]) == [])
    }
}
