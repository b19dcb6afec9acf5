import Foundation
import Testing
import TestSupport

/// The systemd unit and the Debian package, as far as they are checked without root.
/// `make package-check` installs, upgrades, removes and purges the release build's package in a
/// throwaway Debian root.
@Suite struct PackagingTests {
    static let unit = Paths.packageRoot + "/systemd/edgegw.service"

    func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> (Int32?, String) {
        let process = try ChildProcess(executable, arguments, environment: environment, currentDirectory: Paths.packageRoot)
        let status = await process.waitForExit(timeout: .seconds(120))
        try? await Task.sleep(for: .milliseconds(50))   // let the output pipe drain
        return (status, process.text)
    }

    @Test(.enabled(if: Paths.hasProgram("systemd-analyze"),
                   "systemd-analyze is not installed (scripts/install-deps.sh installs systemd for it)"))
    func unitHardeningExposureIsAtMost2() async throws {
        let (status, output) = try await run("systemd-analyze", ["security", "--offline=true", Self.unit])
        #expect(status == 0, "\(output)")
        // "→ Overall exposure level for edgegw.service: 1.6 OK 🙂"
        let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(output)")
        let figure = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(figure <= 2.0, "\(output)")
    }

    @Test func unitKeepsNotifyWatchdogReloadAndItsDirectories() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        for line in ["Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID",
                     "ExecStart=/usr/bin/edgegw run --config /etc/edgegw/edgegw.toml",
                     "User=edgegw", "Group=edgegw", "StateDirectory=edgegw", "RuntimeDirectory=edgegw"] {
            #expect(lines.contains(line), "the unit lacks \(line)")
        }
        #expect(lines.contains { $0.hasPrefix("WatchdogSec=") })
        #expect(!text.contains("/usr/local/"), "the package installs /usr/bin/edgegw")
    }

    /// The package's shape with a stand-in binary, so that it costs a second: file list, modes,
    /// conffiles, control fields, maintainer scripts' syntax, and the changelog's version
    /// matching GatewayInfo.version.
    @Test(.enabled(if: Paths.hasProgram("dpkg-deb") && Paths.hasProgram("dpkg-shlibdeps"),
                   "dpkg-deb or dpkg-shlibdeps is not installed (scripts/install-deps.sh installs dpkg-dev)"))
    func packageHasItsShape() async throws {
        let tmp = TemporaryDirectory()
        let standIn = tmp.file("edgegw")
        try FileManager.default.copyItem(atPath: "/usr/bin/true", toPath: standIn)
        let (status, output) = try await run(Paths.packageRoot + "/scripts/build-deb.sh", [],
                                             environment: ["EDGEGW_BINARY": standIn, "DEB_OUTDIR": tmp.path])
        #expect(status == 0, "\(output)")
        let debs = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasSuffix(".deb") }
        let deb = try #require(debs.first, "no .deb in \(tmp.path): \(output)")
        #expect(deb.hasPrefix("edgegw_\(GatewayVersion.source)_"))
        let (checkStatus, checkOutput) = try await run(Paths.packageRoot + "/scripts/check-deb.sh", [tmp.file(deb)])
        #expect(checkStatus == 0, "\(checkOutput)")
    }
}

/// GatewayInfo.version as its source file spells it (the test target does not link Gateway).
enum GatewayVersion {
    static var source: String {
        let text = (try? String(contentsOfFile: Paths.packageRoot + "/Sources/Gateway/GatewayInfo.swift", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.contains("static let version = \"") } ?? ""
        return line.split(separator: "\"").dropFirst().first.map(String.init) ?? "?"
    }
}
