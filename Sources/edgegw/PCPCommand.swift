import ArgumentParser
import DeviceCodec
import Foundation
import PCP

/// `edgegw pcp`: lets a technician read a captured PCP frame and build one by hand.
struct PCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcp",
        abstract: "Decode or encode a PCP upgrade frame (the platform's upgrade protocol for NB-IoT devices).",
        subcommands: [Decode.self, Encode.self])

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a PCP frame as JSON, or which recognition step it fails.",
            discussion: """
                A request and its answer share one message code, so a frame means different things \
                depending on who sent it. Without --from both readings are printed, as "from_device" \
                and "from_platform"; a reading whose data area does not fit the message holds an \
                "error" instead of the fields. A payload that is not PCP (business data for the \
                product's codec) prints "pcp": false and the failed recognition step (3 start marker, \
                4 version, 5 message code, 6 checksum, 7 data length) with the reason. The CRC is shown \
                as stored and as computed. The exit status is 0 whenever JSON is printed, 1 when HEX \
                is not hex.
                """)

        @Option(name: .long, help: "Who sent the frame: device or platform (default: print both readings).")
        var from: String?

        @Argument(help: "The frame in hex, in one or more parts; spaces, colons and a 0x prefix are ignored.")
        var hex: [String]

        func run() throws {
            let senders = try PCPCommand.senders(from)
            let text = hex.joined(separator: " ")
            guard let frame = CodecHex.bytes(text), !frame.isEmpty else {
                PCPCommand.fail("decode", "\"\(text)\" is not hex: use two digits per byte, like FF FE 01 13")
            }
            print(JSONText.serialize(PCPDescription.frame(frame, senders: senders)))
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the hex frame of a PCP message.",
            discussion: """
                Numbers are decimal (or hex with 0x). What a code needs, by sender:
                  19 query version:     platform: nothing;  device: --result --version
                  20 new version:       platform: --version --fragment-size --fragment-count [--check-code] (default 0);  device: --result
                  21 request fragment:  device: --version --index;  platform: --result --index [--data] (only with result 0)
                  22 download result:   device: --result (the download status);  platform: --result
                  23 execute upgrade:   platform: nothing;  device: --result
                  24 upgrade result:    device: --result --version;  platform: --result
                Without --from the sender is the one whose options were given (code 22 reads the \
                same either way). A missing, surplus or out-of-range option prints one line saying \
                which and exits 1.
                """)

        @Option(name: .long, help: "The message code in decimal, 19…24 (e.g. 21 for a fragment).")
        var code: String?

        @Option(name: .long, help: "The version string (ASCII, at most 16 bytes): current or target version.")
        var version: String?

        @Option(name: .customLong("fragment-size"), help: "Bytes per fragment (code 20).")
        var fragmentSize: String?

        @Option(name: .customLong("fragment-count"), help: "Number of fragments (code 20).")
        var fragmentCount: String?

        @Option(name: .customLong("check-code"), help: "The package check code (code 20), default 0.")
        var checkCode: String?

        @Option(name: .long, help: "The fragment index, 0-based (code 21).")
        var index: String?

        @Option(name: .long, help: "The result or status byte, 0…255 (e.g. 0 success, 128 no task).")
        var result: String?

        @Option(name: .long, help: "The fragment's bytes in hex (code 21 answer).")
        var data: String?

        @Option(name: .long, help: "Who sends it: device or platform (default: inferred from the options).")
        var from: String?

        func run() throws {
            do {
                let message = try PCPEncodeRequest(
                    code: code, from: from,
                    given: [.version: version, .fragmentSize: fragmentSize, .fragmentCount: fragmentCount,
                            .checkCode: checkCode, .index: index, .result: result, .data: data]
                ).message()
                print(CodecHex.string(try PCPCodec.encode(message)))
            } catch let error as PCPEncodeRequest.Problem {
                PCPCommand.fail("encode", error.text)
            } catch let error as PCPEncodeError {
                PCPCommand.fail("encode", error.description)
            }
        }
    }

    static func senders(_ from: String?) throws -> [PCPMessage.Sender] {
        switch from?.lowercased() {
        case nil: return [.device, .platform]
        case "device": return [.device]
        case "platform": return [.platform]
        case let other?: fail("decode", "--from \(other): use device or platform")
        }
    }

    /// One line on stderr, exit status 1.
    static func fail(_ command: String, _ message: String) -> Never {
        FileHandle.standardError.write(Data("edgegw pcp \(command): \(message)\n".utf8))
        Self.exit(withError: ExitCode(1))
    }
}
