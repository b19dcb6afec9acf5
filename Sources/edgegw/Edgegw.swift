import ArgumentParser
import Foundation
import Gateway

@main
struct Edgegw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgegw",
        abstract: "Edge gateway: Modbus and NB-IoT (LwM2M/CoAP) field devices as children of one IoTDA gateway device.",
        version: GatewayInfo.version,
        subcommands: [RunCommand.self, CheckCommand.self, CodecCommand.self, PCPCommand.self, CredentialsCommand.self, ProvisionCommand.self,
                      StatusCommand.self, DevicesCommand.self, TraceCommand.self, VersionCommand.self])
}

/// The default configuration file on an edge box.
let defaultConfigPath = "/etc/edgegw/edgegw.toml"
