import Foundation
import Testing
import TestSupport

/// Ports the tests pick for their peers: never one the kernel may give an outgoing socket or a
/// `bind(0)` meanwhile (a server's own listener sockets start on one), never the same twice.
@Suite struct FreePortTests {
    static func ephemeralRange() -> ClosedRange<Int>? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else { return nil }
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        return bounds.count == 2 ? bounds[0]...bounds[1] : nil
    }

    @Test func portsAreOutsideTheKernelsEphemeralRangeAndHandedOutOnce() throws {
        let ephemeral = try #require(Self.ephemeralRange())
        let ports = (0..<200).map { FreePort.next(udp: $0.isMultiple(of: 2)) }
        #expect(ports.allSatisfy { !ephemeral.contains(Int($0)) }, "\(ports.filter { ephemeral.contains(Int($0)) })")
        #expect(Set(ports).count == ports.count)
        #expect(ports.allSatisfy { FreePort.isFree($0, udp: true) && FreePort.isFree($0, udp: false) })
    }
}
