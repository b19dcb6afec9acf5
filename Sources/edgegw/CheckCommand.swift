import ArgumentParser
import Foundation
import Gateway

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and every file it names; print every problem.",
        discussion: "Exits 0 and prints a summary when the configuration is valid, 1 otherwise.")

    @Option(name: .shortAndLong, help: "The main configuration file.")
    var config: String = defaultConfigPath

    func run() throws {
        switch ConfigLoader.load(path: config) {
        case .success(let loaded):
            print("\(config): OK")
            for line in loaded.summary { print("  \(line)") }
        case .failure(let errors):
            for diagnostic in errors.diagnostics {
                FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
            }
            let n = errors.diagnostics.count
            FileHandle.standardError.write(Data("\(n) problem\(n == 1 ? "" : "s") found\n".utf8))
            throw ExitCode(1)
        }
    }
}
