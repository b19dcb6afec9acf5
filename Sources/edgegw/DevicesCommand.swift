import Admin
import ArgumentParser
import Foundation

/// `edgegw devices`: one line per child, asked through the daemon's admin socket.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the running daemon's children: status, last seen, last values, address, last error.",
        discussion: """
            Asks the daemon through its admin socket ([admin] socket of --config). Times are UTC. STATUS is what the \
            field said last (UNKNOWN before the first poll or registration since the start); LAST ERROR is a Modbus \
            device's latest failed request kind.
            """)

    @Option(name: .shortAndLong, help: "The main configuration file the daemon runs with.")
    var config: String = defaultConfigPath

    @Flag(help: "Print the answer as JSON.")
    var json = false

    @Option(help: "Only children of this kind: modbus, serial or nbiot.")
    var kind: String?

    @Option(help: "Only children with this status: online, offline, abnormal or unknown.")
    var status: String?

    func run() throws {
        let request = AdminRequest(command: .devices, kind: kind, status: status)
        guard let devices = try AdminCLI.ask(request, config: config).devices else {
            AdminCLI.fail("the daemon's answer has no devices")
        }
        if json {
            print(AdminCLI.json(devices))
            return
        }
        let rows = devices.map { d in
            [d.nodeId, d.deviceId ?? "-", d.kind, d.status, AdminCLI.time(d.lastSeen), AdminCLI.time(d.lastValue), d.address,
             d.lastError.map { "\(AdminCLI.time(d.lastErrorAt)) \($0)" } ?? "-"]
        }
        print(AdminCLI.table(["NODE ID", "DEVICE ID", "KIND", "STATUS", "LAST SEEN", "LAST VALUE", "ADDRESS", "LAST ERROR"], rows))
        print("\(devices.count) device(s)")
    }
}
