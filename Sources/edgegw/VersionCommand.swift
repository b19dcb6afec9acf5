import ArgumentParser
import Gateway

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of edgegw and of the libraries it runs on.")

    func run() {
        for line in GatewayInfo.versionLines { print(line) }
    }
}
