import Foundation
import Glibc

// Usage:
//   SerialBench edgegw PTY REPORTS [--baud 115200] [--device-file FILE] [--products DIR] [--timeout S] [--idle S]
//   SerialBench bare PTY BYTES [--baud 115200] [--timeout S] [--idle S]
//
// One measured run on the gateway end of a pty pair (scripts/bench-serial.sh starts socat and
// the simulated sensor, scripts/serial_sim.py, on the other end). Prints "ready" on standard
// error once the port is open (the sender may start then) and one JSON line on standard output
// when the run ends: after REPORTS reports (BYTES bytes), after --timeout seconds (default 120),
// or after --idle seconds (default 2) without a new one once the first came.
//
// edgegw: a real SerialService with one device, reporting on its own (no [poll]); node, product,
// address and [framing] from the device file (default etc/edgegw/devices/tank-level.toml), the
// product codecs from --products (default etc/edgegw/products), the port and its baud set here.
// A counting sink notes the first and the last report. Reported: reports, seconds from the first
// report to the last, frames/s over that span ((reports - 1) / seconds), the process's CPU
// (getrusage, user + system) from the port's opening to the end of the run and per report, and
// the port's counters (frames, checksum failures, resyncs, ...).
//
// bare: the same kind of port opened alike, poll(2) and read(2) into a buffer, counting bytes:
// the raw line with nothing of edgegw. Reported: bytes, reads, seconds from the first read to the
// last, bytes/s over that span (bytes after the first read / seconds), CPU and per byte.

func usage(_ problem: String) -> Never {
    FileHandle.standardError.write(Data("""
    SerialBench: \(problem)
    usage: SerialBench edgegw PTY REPORTS [--baud B] [--device-file FILE] [--products DIR] [--timeout S] [--idle S]
           SerialBench bare PTY BYTES [--baud B] [--timeout S] [--idle S]

    """.utf8))
    exit(64)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3, let target = Int(arguments[2]), target > 0 else { usage("a mode, a pty and a count are needed") }
let mode = arguments[0]
let path = arguments[1]
let options: [String: String] = {
    var options: [String: String] = [:]
    var rest = arguments.dropFirst(3)
    while let name = rest.popFirst() {
        guard name.hasPrefix("--"), let value = rest.popFirst() else { usage("\(name) needs a value") }
        options[String(name.dropFirst(2))] = value
    }
    return options
}()
let known: Set<String> = mode == "edgegw" ? ["baud", "device-file", "products", "timeout", "idle"] : ["baud", "timeout", "idle"]
if let unknown = options.keys.first(where: { !known.contains($0) }) { usage("unknown option --\(unknown) for \(mode)") }

func durationOption(_ name: String, default value: Double) -> Duration {
    guard let text = options[name] else { return .milliseconds(Int64(value * 1000)) }
    guard let number = Double(text), number > 0 else { usage("--\(name) is a number of seconds greater than 0") }
    return .milliseconds(Int64(number * 1000))
}

/// The termios speeds of the baud rates a serial device file accepts.
let speeds: [Int: speed_t] = [
    1200: speed_t(B1200), 2400: speed_t(B2400), 4800: speed_t(B4800), 9600: speed_t(B9600), 19200: speed_t(B19200),
    38400: speed_t(B38400), 57600: speed_t(B57600), 115_200: speed_t(B115200), 230_400: speed_t(B230400),
    460_800: speed_t(B460800), 921_600: speed_t(B921600),
]
let baud = Int(options["baud"] ?? "115200") ?? 0
guard let speed = speeds[baud] else { usage("--baud is one of \(speeds.keys.sorted().map(String.init).joined(separator: ", "))") }
let stop = StopRule(timeout: durationOption("timeout", default: 120), idle: durationOption("idle", default: 2))

switch mode {
case "edgegw":
    let result: EdgegwSerialRun.Result
    do {
        let device = try EdgegwSerialRun.device(file: options["device-file"] ?? "etc/edgegw/devices/tank-level.toml",
                                                path: path, baud: baud)
        result = try await EdgegwSerialRun.run(device: device, productsDirectory: options["products"] ?? "etc/edgegw/products",
                                               expectedService: "Tank", reports: target, stop: stop)
    } catch {
        FileHandle.standardError.write(Data("SerialBench: \(error)\n".utf8))
        exit(1)
    }
    let reports = result.tally.reports
    let c = result.counters
    printJSON([
        "path": "edgegw", "reports": reports, "target": target, "complete": result.complete,
        "seconds": result.seconds,
        "frames_per_second": reports > 1 && result.seconds > 0 ? Double(reports - 1) / result.seconds : 0.0,
        "cpu_seconds": result.cpuSeconds,
        "cpu_us_per_frame": reports > 0 ? result.cpuSeconds * 1e6 / Double(reports) : 0.0,
        "bytes": c.bytesReceived, "frames": c.framing.frames, "unexpected_reports": result.tally.unexpected,
        "checksum_failures": c.framing.checksumFailures, "resyncs": c.framing.resyncs, "discarded_bytes": c.framing.discardedBytes,
        "truncated": c.framing.truncated, "oversized": c.framing.oversized,
        "malformed": c.framing.badEnd + c.framing.badEscape + c.framing.badLength, "undecodable": c.undecodable,
        "unknown_address": c.unknownAddress, "dropped_reports": result.droppedReports,
    ])
case "bare":
    let result: BareReadRun.Result
    do {
        result = try BareReadRun.run(path: path, baud: speed, bytes: target, stop: stop)
    } catch {
        FileHandle.standardError.write(Data("SerialBench: \(error)\n".utf8))
        exit(1)
    }
    printJSON([
        "path": "bare", "bytes": result.bytes, "target": target, "complete": result.complete, "reads": result.reads,
        "seconds": result.seconds,
        "bytes_per_second": result.seconds > 0 ? Double(result.bytesAfterFirst) / result.seconds : 0.0,
        "cpu_seconds": result.cpuSeconds,
        "cpu_ns_per_byte": result.bytes > 0 ? result.cpuSeconds * 1e9 / Double(result.bytes) : 0.0,
    ])
default:
    usage("the mode is edgegw or bare, not \(mode)")
}
