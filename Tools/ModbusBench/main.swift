import Foundation

// Usage: ModbusBench HOST PORT [SECONDS_PER_PHASE] [ROUNDS] — against a libmodbus TCP server
// serving holding registers 0…1249 on unit 1 (scripts/bench-modbus.sh builds and starts one).
//
// Phases alternate bare, edgegw, bare, edgegw, …, bare. Each edgegw phase is compared with the
// mean of the bare phases just before and after it, so load from other processes on the
// machine weighs on both sides of a ratio; the result is the median of those ratios.
//
// Both sides run alike: on a thread started for the phase (edgegw's bus thread; the bare loop's
// own), warmed up for the same time before the clock starts. A request here is a loopback round
// trip whose cost is mostly the kernel waking the other side, and that depends on where the
// scheduler puts a thread: the same bare loop measured on the long-lived main thread ran
// 0.70–0.95× as fast on a fresh thread. The main-thread figure is printed for reference.
let arguments = CommandLine.arguments
let host = arguments.count > 1 ? arguments[1] : "127.0.0.1"
let port = arguments.count > 2 ? Int(arguments[2]) ?? 1502 : 1502
let seconds = arguments.count > 3 ? Double(arguments[3]) ?? 1 : 1
let rounds = arguments.count > 4 ? Int(arguments[4]) ?? 15 : 15
let registersPerRead = 125
let warmUp = 0.3
let readsPerCycle = 10

func format(_ rate: Double) -> String { String(format: "%.0f", rate) }

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func bare() -> PhaseResult {
    guard let rate = BareReadLoop.runOnOwnThread(host: host, port: port, count: registersPerRead, warmUp: warmUp, seconds: seconds) else {
        print("bare libmodbus loop could not read from \(host):\(port)")
        exit(1)
    }
    return rate
}

let mainThreadBefore = BareReadLoop.run(host: host, port: port, count: registersPerRead, warmUp: warmUp, seconds: seconds)
let first = bare()
var bareRates = [first.registersPerSecond]
var bareCPU = [first.cpuPerThousand]
var edgegwRates: [Double] = []
var edgegwCPU: [Double] = []
var ratios: [Double] = []
for round in 1...rounds {
    guard let phase = await EdgegwPollLoop.run(host: host, port: port, count: registersPerRead, reads: readsPerCycle,
                                              warmUp: warmUp, seconds: seconds) else {
        print("edgegw polling could not read from \(host):\(port)")
        exit(1)
    }
    let e = phase.registersPerSecond
    let afterPhase = bare()
    let after = afterPhase.registersPerSecond
    let reference = (bareRates[bareRates.count - 1] + after) / 2
    bareRates.append(after)
    bareCPU.append(afterPhase.cpuPerThousand)
    edgegwRates.append(e)
    edgegwCPU.append(phase.cpuPerThousand)
    ratios.append(e / reference)
    print("round \(round): edgegw \(format(e)) registers/s, bare libmodbus around it \(format(reference)) registers/s, ratio \(String(format: "%.3f", e / reference))")
}
let mainThreadAfter = BareReadLoop.run(host: host, port: port, count: registersPerRead, warmUp: warmUp, seconds: seconds)
let bareMedian = median(bareRates)
print("bare libmodbus: median \(format(bareMedian)) registers/s (\(format(bareMedian / Double(registersPerRead))) requests/s of \(registersPerRead))")
print("edgegw polling: median \(format(median(edgegwRates))) registers/s (\(readsPerCycle) reads of \(registersPerRead) per cycle, \(registersPerRead * readsPerCycle) uint16 points)")
let mainThread = [mainThreadBefore, mainThreadAfter].compactMap { $0?.registersPerSecond }
print("bare libmodbus on the main thread (reference, first and last phase): \(mainThread.map(format).joined(separator: ", ")) registers/s")
print(String(format: "ratio edgegw/bare: %.3f (median of %d rounds; goal >= 0.9)", median(ratios), rounds))
print(String(format: "CPU per 1000 registers (this process, user+system): bare %.1f us, edgegw %.1f us (medians); cost ratio bare/edgegw %.3f",
             median(bareCPU), median(edgegwCPU), median(bareCPU) / median(edgegwCPU)))
