import Admin
import ArgumentParser
import Foundation

/// `edgegw status`: what the running daemon is doing, asked through its admin socket.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask the running daemon how it is: uptime, cloud link, outbox, listeners, children.",
        discussion: """
            Asks the daemon through its admin socket ([admin] socket of --config). The answer comes from what the \
            daemon keeps in memory, so it is immediate even while the cloud is unreachable. Exit 1 when the daemon \
            is not running or refuses the user.
            """)

    @Option(name: .shortAndLong, help: "The main configuration file the daemon runs with.")
    var config: String = defaultConfigPath

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func run() throws {
        guard let status = try AdminCLI.ask(AdminRequest(command: .status), config: config).status else {
            AdminCLI.fail("the daemon's answer has no status")
        }
        if json {
            print(AdminCLI.json(status))
            return
        }
        print(Self.text(status))
    }

    static func text(_ s: AdminStatus) -> String {
        var lines = [
            "edgegw \(s.version), pid \(s.pid), up \(AdminCLI.age(s.uptimeSeconds)) (since \(AdminCLI.time(s.started)))",
            "gateway   \(s.gatewayDeviceId)",
            "cloud     \(s.cloud.state) since \(AdminCLI.time(s.cloud.since)), \(s.cloud.endpoint)",
        ]
        if let error = s.cloud.lastError {
            lines.append("          last error \(AdminCLI.time(s.cloud.lastErrorAt)): \(error)")
        }
        let age = s.outbox.oldestAgeSeconds.map { ", oldest \(AdminCLI.age($0))" } ?? ""
        lines.append("outbox    \(s.outbox.messages) message(s), \(s.outbox.bytes) bytes\(age), \(s.outbox.dropped) dropped")
        let order = ["ONLINE", "OFFLINE", "ABNORMAL", "UNKNOWN"]
        func counts(_ byStatus: [String: Int]) -> String {
            order.compactMap { key in byStatus[key].map { "\($0) \(key.lowercased())" } }.joined(separator: ", ")
        }
        let total = s.children.values.reduce(0, +)
        lines.append("children  \(total)" + (total == 0 ? "" : ": \(counts(s.children))"))
        for kind in s.childrenByKind.keys.sorted() {
            lines.append("          \(kind): \(counts(s.childrenByKind[kind] ?? [:]))")
        }
        if s.listeners.isEmpty {
            lines.append("listeners none")
        } else {
            for (i, l) in s.listeners.enumerated() {
                let at = l.port.map { l.address.contains(":") ? "[\(l.address)]:\($0)" : "\(l.address):\($0)" } ?? l.address
                lines.append("\(i == 0 ? "listeners" : "         ") \(l.name) \(l.transport) \(at)")
            }
        }
        for (i, port) in (s.serialPorts ?? []).enumerated() {
            lines.append("\(i == 0 ? "serial   " : "         ") \(port.port) \(port.open ? "open" : "NOT OPEN")"
                + (port.sharedWithModbus ? " (shared with Modbus)" : "")
                + ": \(port.frames) frames, \(port.checksumFailures) checksum failures, \(port.resyncs) resyncs, \(port.rejected) rejected, "
                + "\(port.timeouts) timeouts of \(port.requests) requests, lost \(port.lost) time(s)")
        }
        lines.append("config    \(s.configFile), loaded \(AdminCLI.time(s.configLoaded))")
        return lines.joined(separator: "\n")
    }
}
