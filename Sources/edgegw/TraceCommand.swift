import Admin
import ArgumentParser
import Foundation
import GatewayCore

/// `edgegw trace modbus BUS` / `edgegw trace nbiot IMEI`: the frames of one bus or one NB-IoT
/// device, streamed by the running daemon through its admin socket until Ctrl-C.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Follow one Modbus bus or one NB-IoT device live: every frame in hex, decoded, until Ctrl-C.",
        discussion: """
            Asks the daemon through its admin socket ([admin] socket of --config). modbus BUS (a bus id as \
            edgegw devices shows it, e.g. tcp:192.168.1.20:502 or rtu:/dev/ttyUSB0): each request and response \
            ADU as it is on the wire, with the round trip and ok, timeout, crc error or the exception. nbiot IMEI: \
            the device's CoAP messages after DTLS decryption (type, code, MID, token, options, payload; a PCP \
            frame decoded). Times are UTC. When this terminal does not keep up, the daemon drops records and \
            says how many; the bus and the device are never slowed. Ctrl-C ends the trace (exit 0); exit 1 when \
            the daemon refuses it or ends it.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case modbus, nbiot
    }

    @Argument(help: "modbus or nbiot.")
    var kind: Kind

    @Argument(help: "The bus id (modbus) or the IMEI (nbiot).")
    var target: String

    @Option(name: .shortAndLong, help: "The main configuration file the daemon runs with.")
    var config: String = defaultConfigPath

    @Flag(help: "Print the daemon's lines as they come, one JSON object each.")
    var json = false

    func run() throws {
        let path: String
        do {
            path = try AdminSocketPath.find(config: config)
        } catch {
            // Exit 1 for a configuration that does not lead to a socket, too.
            let text = "\(error)"
            AdminCLI.fail(text.hasPrefix("edgegw: ") ? String(text.dropFirst(8)) : text)
        }
        let counts = Locked((records: 0, dropped: 0))
        let interrupt = Self.endOnInterrupt(counts)
        defer { interrupt.cancel() }
        let json = json
        do {
            try AdminClient(path: path).stream(AdminRequest(command: .trace, traceKind: kind.rawValue, target: target)) { reply in
                if let error = reply.error { AdminCLI.fail(error) }
                if json {
                    Self.write(String(decoding: reply.line(), as: UTF8.self))
                } else if let start = reply.trace {
                    FileHandle.standardError.write(Data("tracing \(start.kind) \(start.target); Ctrl-C to stop\n".utf8))
                } else if let record = reply.record {
                    Self.write(Self.text(record))
                } else if let dropped = reply.dropped {
                    Self.write("... \(dropped) record(s) dropped: this terminal did not keep up\n")
                }
                counts.withLock {
                    if reply.record != nil { $0.records += 1 }
                    $0.dropped += reply.dropped ?? 0
                }
                return true
            }
        } catch {
            AdminCLI.fail("\(error)")
        }
        AdminCLI.fail("the daemon ended the trace (it stopped or restarted)")
    }

    /// Ctrl-C ends the trace with exit status 0 and a count on stderr.
    private static func endOnInterrupt(_ counts: Locked<(records: Int, dropped: Int)>) -> any DispatchSourceSignal {
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        signal(SIGINT, SIG_IGN)
        source.setEventHandler {
            let (records, dropped) = counts.withLock { $0 }
            FileHandle.standardError.write(Data("trace ended: \(records) record(s)\(dropped > 0 ? ", \(dropped) dropped" : "")\n".utf8))
            Foundation.exit(0)
        }
        source.resume()
        return source
    }

    /// Written at once, unbuffered: a trace is read live, often through a pipe.
    private static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Two lines a record: time, direction, round trip, status and fields; then the hex in byte pairs.
    static func text(_ record: TraceRecord) -> String {
        var head = [AdminTime.format(record.time), record.direction.padding(toLength: 8, withPad: " ", startingAt: 0)]
        if let rtt = record.roundTripMilliseconds { head.append(String(format: "%.1f ms", rtt)) }
        if let status = record.status { head.append(status) }
        head += record.fields.map { $0.value.contains(" ") ? "\($0.name)=\"\($0.value)\"" : "\($0.name)=\($0.value)" }
        var hex = ""
        for (index, digit) in record.hex.enumerated() {
            if index > 0, index % 2 == 0 { hex.append(" ") }
            hex.append(digit)
        }
        return head.joined(separator: "  ") + "\n    " + (hex.isEmpty ? "(no bytes)" : hex) + "\n"
    }
}
