import ArgumentParser
import Config
import Foundation
import IoTDA

/// Prints the MQTT CONNECT fields the way the platform's online generator does, so a technician
/// can check a link with MQTT.fx or mosquitto_sub.
struct CredentialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Print the MQTT client_id, username and password for a device.",
        discussion: """
            The password is the lowercase hex HMAC-SHA256 keyed with the timestamp (YYYYMMDDHH, UTC) \
            over the device secret. The secret file must not be readable by group or others (chmod 600).
            """)

    @Option(name: .customLong("device-id"), help: "The device id on the platform.")
    var deviceId: String

    @Option(name: .customLong("secret-file"), help: "File holding the device secret (mode 0600).")
    var secretFile: String

    @Option(name: .customLong("time"), help: "Timestamp YYYYMMDDHH (UTC); defaults to the current hour.")
    var time: String?

    @Option(name: .customLong("sign-type"), help: "0: timestamp not checked by the platform; 1: checked.")
    var signType: Int = 0

    func run() throws {
        do {
            let secret = try SecretFile.read(secretFile)
            let lines = try CredentialsReport.lines(deviceId: deviceId, secret: secret.value, time: time,
                                                    signType: signType, now: Date())
            for line in lines { print(line) }
        } catch let error as SecretFile.Problem {
            fail(error.description)
        } catch let error as CredentialsReport.Error {
            fail(error.description)
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("edgegw credentials: \(message)\n".utf8))
        Self.exit(withError: ExitCode(1))
    }
}
