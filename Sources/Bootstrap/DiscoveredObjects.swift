/// A Bootstrap-Discover answer (CoRE link format, OMA-TS-LightweightM2M-V1_1 §5.2.7.3), e.g.
/// `lwm2m="1.1",</0/0>,</0/1>;ssid=101;uri="coaps://...",</1/0>;ssid=101,</3/0>`: the instances
/// of the Security and Server objects. The bootstrap account is the Security instance without an
/// `ssid` (only LwM2M server accounts have one).
public struct DiscoveredObjects: Equatable, Sendable {
    public var securityInstances: [(id: UInt16, ssid: UInt16?)]
    public var serverInstances: [UInt16]

    public init(securityInstances: [(id: UInt16, ssid: UInt16?)], serverInstances: [UInt16]) {
        self.securityInstances = securityInstances
        self.serverInstances = serverInstances
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.securityInstances.map(\.id) == b.securityInstances.map(\.id)
            && a.securityInstances.map(\.ssid) == b.securityInstances.map(\.ssid) && a.serverInstances == b.serverInstances
    }

    /// The Security instances of the bootstrap account (kept as they are).
    public var bootstrapAccount: [UInt16] { securityInstances.filter { $0.ssid == nil }.map(\.id) }

    /// The lowest instance id not in `taken`.
    public static func free(_ taken: [UInt16]) -> UInt16 {
        var id: UInt16 = 0
        while taken.contains(id), id < UInt16.max { id += 1 }
        return id
    }

    /// Parses a link-format payload; nil when it is not one (no `<…>` link at all, or a link
    /// that does not close).
    public static func parse(_ text: String) -> DiscoveredObjects? {
        var security: [(id: UInt16, ssid: UInt16?)] = []
        var server: [UInt16] = []
        var sawLink = false
        for link in splitOutsideQuotes(text, on: ",") {
            let trimmed = link.trimmingSpaces
            guard trimmed.hasPrefix("<") else { continue } // e.g. lwm2m="1.1"
            guard let close = trimmed.firstIndex(of: ">") else { return nil }
            sawLink = true
            let path = trimmed[trimmed.index(after: trimmed.startIndex)..<close].split(separator: "/").map(String.init)
            var ssid: UInt16?
            for attribute in splitOutsideQuotes(String(trimmed[trimmed.index(after: close)...]), on: ";") {
                let pair = attribute.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2, pair[0].trimmingSpaces == "ssid" { ssid = UInt16(pair[1].trimmingSpaces) }
            }
            guard path.count == 2, let instance = UInt16(path[1]) else { continue }
            switch path[0] {
            case "0": security.append((instance, ssid))
            case "1": server.append(instance)
            default: break
            }
        }
        return sawLink ? DiscoveredObjects(securityInstances: security, serverInstances: server) : nil
    }

    static func splitOutsideQuotes(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == separator && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }
}

extension StringProtocol {
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
