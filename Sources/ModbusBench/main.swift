import Foundation

// Usage: ModbusBench HOST PORT [SECONDS] — against a libmodbus TCP server serving holding
// registers 0…1249 on unit 1 (scripts/bench-modbus.sh builds and starts one).
let arguments = CommandLine.arguments
let host = arguments.count > 1 ? arguments[1] : "127.0.0.1"
let port = arguments.count > 2 ? Int(arguments[2]) ?? 1502 : 1502
let seconds = arguments.count > 3 ? Double(arguments[3]) ?? 3 : 3
let registersPerRead = 125
let readsPerCycle = 10

func format(_ rate: Double) -> String { String(format: "%.0f", rate) }

var bare: [Double] = []
var edgegw: [Double] = []
for round in 1...2 {
    guard let b = BareReadLoop.run(host: host, port: port, count: registersPerRead, seconds: seconds) else {
        print("bare libmodbus loop could not read from \(host):\(port)")
        exit(1)
    }
    guard let e = await EdgegwPollLoop.run(host: host, port: port, count: registersPerRead, reads: readsPerCycle, seconds: seconds) else {
        print("edgegw polling could not read from \(host):\(port)")
        exit(1)
    }
    bare.append(b)
    edgegw.append(e)
    print("round \(round): bare libmodbus \(format(b)) registers/s, edgegw \(format(e)) registers/s")
}
let bareMean = bare.reduce(0, +) / Double(bare.count)
let edgegwMean = edgegw.reduce(0, +) / Double(edgegw.count)
let ratio = edgegwMean / bareMean
print("bare libmodbus: \(format(bareMean)) registers/s (\(format(bareMean / Double(registersPerRead))) requests/s of \(registersPerRead))")
print("edgegw polling: \(format(edgegwMean)) registers/s (\(readsPerCycle) reads of \(registersPerRead) per cycle, \(registersPerRead * readsPerCycle) uint16 points)")
print(String(format: "ratio edgegw/bare: %.3f (goal >= 0.9)", ratio))
