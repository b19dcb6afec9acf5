import Testing
@testable import CloudLink

@Suite struct ReconnectPolicyTests {
    @Test func backsOffExponentiallyFromOneSecondToSixtySeconds() {
        var policy = ReconnectPolicy()
        // random 0: no jitter taken away, so the raw schedule shows.
        let delays = (0..<9).map { _ in policy.delay(after: .failed(reason: "refused"), random: 0) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Duration.seconds($0) })
        #expect(ReconnectPolicy.defaultInitialDelay == .seconds(1))
        #expect(ReconnectPolicy.defaultMaximumDelay == .seconds(60))
    }

    @Test func jitterTakesAwayAtMostHalfAndNeverGoesBelowTheInitialDelay() {
        var policy = ReconnectPolicy()
        for _ in 0..<5 { _ = policy.delay(after: .failed(reason: "x"), random: 0) }
        // Sixth failure: base 32 s.
        let jittered = policy.delay(after: .failed(reason: "x"), random: 0.999)
        #expect(jittered > .seconds(16) && jittered < .seconds(17))
        var fresh = ReconnectPolicy()
        #expect(fresh.delay(after: .failed(reason: "x"), random: 0.999) == .seconds(1))
    }

    @Test func authRefusalWaitsFiveMinutesNotSeconds() {
        #expect(ReconnectPolicy.defaultRefusedDelay == .seconds(300))
        for code in [ConnackCode.badUsernameOrPassword, .notAuthorized, .identifierRejected, .unacceptableProtocolVersion] {
            var policy = ReconnectPolicy()
            let first = policy.delay(after: .refused(code), random: 0)
            let jittered = policy.delay(after: .refused(code), random: 1)
            #expect(first == .seconds(300))
            #expect(jittered == .seconds(240))
        }
        var policy = ReconnectPolicy()
        #expect(policy.delay(after: .refused(.serverUnavailable), random: 0) == .seconds(1))
    }

    @Test func onlyAStableConnectionResetsTheBackoff() {
        var policy = ReconnectPolicy()
        for _ in 0..<4 { _ = policy.delay(after: .failed(reason: "x"), random: 0) }
        // A link that the cloud drops right after CONNACK keeps backing off...
        #expect(policy.delay(after: .lost(connectedFor: .seconds(2)), random: 0) == .seconds(16))
        // ...one that stayed up a minute starts over.
        #expect(policy.delay(after: .lost(connectedFor: ReconnectPolicy.stableConnection), random: 0) == .seconds(1))
        #expect(policy.delay(after: .failed(reason: "x"), random: 0) == .seconds(2))
    }

    @Test func diagnosisNamesTheSecretAndTheClockForSignType1() {
        let signType0 = ConnackCode.badUsernameOrPassword.diagnosis(timestampChecked: false)
        let signType1 = ConnackCode.notAuthorized.diagnosis(timestampChecked: true)
        #expect(signType0.contains("secret"))
        #expect(!signType0.contains("clock"))
        #expect(signType1.contains("secret") && signType1.contains("clock"))
        #expect(ConnackCode.identifierRejected.diagnosis(timestampChecked: false).contains("keepalive"))
    }
}
