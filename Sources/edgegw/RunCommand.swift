import ArgumentParser
import Gateway

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the gateway until SIGTERM or SIGINT; SIGHUP reloads the configuration.")

    @Option(name: .shortAndLong, help: "The main configuration file.")
    var config: String = defaultConfigPath

    func run() async throws {
        let status = await Daemon.run(configPath: config)
        if status != 0 { throw ExitCode(status) }
    }
}
