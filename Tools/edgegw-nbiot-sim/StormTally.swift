import LwM2MSimulator

/// What the storm's modules saw, gathered from their events (one actor for every shard).
actor StormTally {
    var answers: [Duration] = []
    var observes: [Duration] = []
    var codes: [String: Int] = [:]
    private var seen: Set<Int> = []
    private var observed: Set<Int> = []

    func answer(_ shard: Int, _ device: Int, _ code: String, _ since: Duration) {
        guard seen.insert(shard << 32 | device).inserted else { return }
        answers.append(since)
        answerByDevice[shard << 32 | device] = since
        codes[code, default: 0] += 1
    }

    func observe(_ shard: Int, _ device: Int, _ since: Duration) {
        guard observed.insert(shard << 32 | device).inserted else { return }
        observes.append(since)
        observeByDevice[shard << 32 | device] = since
    }

    private var answerByDevice: [Int: Duration] = [:]
    private var observeByDevice: [Int: Duration] = [:]

    func perDevice(count: Int, owners: [(Int, Int)]) -> [String] {
        owners.map { shard, local in
            let key = shard << 32 | local
            let answer = answerByDevice[key].map(LatencySummary.ms) ?? "-1"
            let observe = observeByDevice[key].map(LatencySummary.ms) ?? "-1"
            return "\(answer) \(observe)"
        }
    }

    private var downloadedDevices: Set<Int> = []
    private var upgradedDevices: Set<Int> = []
    var versions: [String: Int] = [:]
    var fragmentRequests = 0
    /// Modules that reconnected after their server stopped answering (--reconnect-when-unanswered).
    var reconnects = 0

    func reconnected() { reconnects += 1 }

    func downloaded(_ shard: Int, _ device: Int) { downloadedDevices.insert(shard << 32 | device) }
    func upgraded(_ shard: Int, _ device: Int, _ version: String) {
        guard upgradedDevices.insert(shard << 32 | device).inserted else { return }
        versions[version, default: 0] += 1
    }
    func fragmentRequested() { fragmentRequests += 1 }
    /// Confirmable notifications the server never acknowledged (libcoap gave up retransmitting).
    var notificationsNacked = 0
    func notificationNacked() { notificationsNacked += 1 }
    var downloadedCount: Int { downloadedDevices.count }
    var upgradedCount: Int { upgradedDevices.count }

    var answeredCount: Int { answers.count }
    var observedCount: Int { observes.count }
}
