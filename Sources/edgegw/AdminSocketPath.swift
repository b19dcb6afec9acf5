import Admin
import ArgumentParser
import Config
import Foundation
import GatewayCore

/// Where the running daemon's admin socket is: `[admin] socket` of the configuration it runs
/// with (only that table is read: no secret file, no device list).
enum AdminSocketPath {
    static func find(config: String) throws -> String {
        switch TOMLDocumentParser.load(path: config) {
        case .failure(let diagnostic):
            throw AdminCommandError("\(diagnostic) — pass --config with the file the daemon runs with")
        case .success(let document):
            let reader = ConfigReader(table: document.root, file: config, diagnostics: ConfigDiagnostics())
            let base = (config as NSString).deletingLastPathComponent
            let admin = GatewayConfig.Admin.parse(reader.table("admin")) {
                $0.hasPrefix("/") ? $0 : (base as NSString).appendingPathComponent($0)
            }
            guard admin.enabled else {
                throw AdminCommandError("\(config) sets [admin] enabled = false: the daemon has no admin socket")
            }
            return admin.socket
        }
    }
}

/// A one-line failure on stderr and exit status 1.
struct AdminCommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

enum AdminCLI {
    /// Asks the daemon and returns its reply, or prints why not and exits 1.
    static func ask(_ request: AdminRequest, config: String) throws -> AdminReply {
        let reply: AdminReply
        do {
            reply = try AdminClient(path: try AdminSocketPath.find(config: config)).ask(request)
        } catch {
            fail("\(error)")
        }
        if let error = reply.error { fail(error) }
        return reply
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("edgegw: \(message)\n".utf8))
        exit(1)
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(AdminTime.format(date))
        }
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    /// Columns padded to their widest cell, two spaces apart; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return AdminTime.format(date)
    }

    static func age(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min" }
        if s < 172_800 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        return "\(s / 86400) d \(s % 86400 / 3600) h"
    }
}
