import Foundation
@testable import LwM2M
import Testing

@Suite struct LogRateLimiterTests {
    @Test func oneLimitForEveryThreadAndTheSuppressedCountComesWithTheNextLine() async {
        let limiter = LogRateLimiter(perWindow: 10, window: .seconds(10))
        let start = ContinuousClock.now
        let admitted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var count = 0
                    for _ in 0..<1000 where limiter.admit("handshake failed", at: start) != nil { count += 1 }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted == 10)
        #expect(limiter.admit("other line", at: start) == 0)
        // The next window: the line goes out with the 7,990 held back.
        #expect(limiter.admit("handshake failed", at: start + .seconds(10)) == 7990)
        #expect(limiter.drainSuppressed(at: start + .seconds(30)).isEmpty)
        for _ in 0..<12 { _ = limiter.admit("again", at: start + .seconds(30)) }
        #expect(limiter.drainSuppressed(at: start + .seconds(41)).map(\.count) == [2])
    }

    @Test func keysAreBounded() {
        let limiter = LogRateLimiter(perWindow: 1, window: .seconds(10), maxKeys: 4)
        let now = ContinuousClock.now
        let admitted = (0..<100).filter { limiter.admit("line \($0)", at: now) != nil }.count
        #expect(admitted == 5) // 4 keys, then one line for all the others
    }

    @Test func libcoapLinesAreCleanedSplitAndKeyed() {
        let raw: [UInt8] = Array("** ".utf8) + [0] + Array("27.0.0.1:42712 <-> 127.0.0.1:5684 DTLS: Discarded message[4] due to invalid decryption\n".utf8)
        let text = raw.withUnsafeBytes { CoAPLog.clean($0) }
        #expect(!text.utf8.contains(0))
        let (session, message) = CoAPLog.split(text)
        #expect(session == "27.0.0.1:42712 <-> 127.0.0.1:5684 DTLS")
        #expect(message == "Discarded message[4] due to invalid decryption")
        #expect(CoAPLog.key(message) == CoAPLog.key("Discarded message[5] due to invalid decryption"))
        #expect(CoAPLog.level(4) == .warning)
    }

    @Test func clientHelloWithoutCookieStartsAHandshake() {
        // Record header, handshake header (offset 0), version, random, empty session id, cookie length.
        var hello: [UInt8] = [22, 0xFE, 0xFD, 0, 0] + [UInt8](repeating: 0, count: 6) + [0, 60]
        hello += [1, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0, 48] + [0xFE, 0xFD] + [UInt8](repeating: 7, count: 32) + [0]
        #expect(DTLSRecord.startsHandshake(hello + [0, 0, 2]))
        #expect(!DTLSRecord.startsHandshake(hello + [8] + [UInt8](repeating: 9, count: 8)))
        #expect(!DTLSRecord.startsHandshake(Array(hello.prefix(40))))
    }
}
