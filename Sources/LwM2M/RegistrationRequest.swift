/// The parameters of an LwM2M Register or Update request (`POST /rd?ep=&lt=&lwm2m=&b=` with a
/// link-format object list), parsed without trusting any of it.
public struct RegistrationRequest: Sendable, Equatable {
    /// Longest endpoint name accepted (IMEIs are 15 digits; custom node ids stay short).
    public static let maxEndpointLength = 64
    /// Longest object-list body read; anything longer is refused with 4.13.
    public static let maxObjectListBytes = 2048
    /// Lifetime bounds in seconds: LwM2M's default is 86400; the upper bound is the platform's
    /// 7-day bootstrap maximum (spec §4.6), so a stale registration cannot live forever.
    public static let lifetimeRange: ClosedRange<Int> = 1...(7 * 86_400)

    public var endpoint: String?
    public var lifetime: Int?
    public var lwm2mVersion: String?
    public var binding: String?
    /// Object links as sent, e.g. `["/1/0", "/19/0", "/t/d"]` (attributes dropped).
    public var objectLinks: [String]

    public init(endpoint: String? = nil, lifetime: Int? = nil, lwm2mVersion: String? = nil,
                binding: String? = nil, objectLinks: [String] = []) {
        self.endpoint = endpoint
        self.lifetime = lifetime
        self.lwm2mVersion = lwm2mVersion
        self.binding = binding
        self.objectLinks = objectLinks
    }

    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case badEndpoint(String)
        case badLifetime(String)
        case objectListTooLong(Int)

        public var description: String {
            switch self {
            case .badEndpoint(let value): "endpoint name '\(value.prefix(80))' is empty, too long or has characters outside [A-Za-z0-9._:-]"
            case .badLifetime(let value): "lifetime '\(value.prefix(20))' is not an integer in \(RegistrationRequest.lifetimeRange)"
            case .objectListTooLong(let count): "object list of \(count) bytes exceeds \(RegistrationRequest.maxObjectListBytes)"
            }
        }
    }

    /// Parses a query string (`ep=...&lt=...`) and a link-format body. Unknown query keys are ignored.
    public static func parse(query: String, body: [UInt8]) throws(ParseError) -> RegistrationRequest {
        var request = RegistrationRequest()
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            switch key {
            case "ep":
                guard isValidEndpoint(value) else { throw .badEndpoint(value) }
                request.endpoint = value
            case "lt":
                guard let seconds = Int(value), lifetimeRange.contains(seconds) else { throw .badLifetime(value) }
                request.lifetime = seconds
            case "lwm2m": request.lwm2mVersion = String(value.prefix(8))
            case "b": request.binding = String(value.prefix(8))
            default: continue
            }
        }
        guard body.count <= maxObjectListBytes else { throw .objectListTooLong(body.count) }
        request.objectLinks = LinkFormat.paths(in: body)
        return request
    }

    /// The `<id>` of an Update or De-register path, `rd/<id>` (libcoap's Uri-Path, segments joined
    /// by `/`): nil for any other path.
    package static func registrationId(uriPath path: String) -> String? {
        guard path.hasPrefix("rd/") else { return nil }
        let id = path.dropFirst(3)
        return id.isEmpty || id.contains("/") ? nil : String(id)
    }

    static func isValidEndpoint(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= maxEndpointLength else { return false }
        return value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
        }
    }
}

/// The few link-format (RFC 6690) facts registration needs: the paths inside `<...>`.
public enum LinkFormat {
    /// Most links read from one object list; the rest are ignored.
    public static let maxLinks = 64

    public static func paths(in body: [UInt8]) -> [String] {
        var paths: [String] = []
        var index = 0
        while index < body.count, paths.count < maxLinks {
            guard body[index] == UInt8(ascii: "<") else { index += 1; continue }
            let start = index + 1
            var end = start
            while end < body.count, body[end] != UInt8(ascii: ">") { end += 1 }
            guard end < body.count else { break }
            let path = String(decoding: body[start..<end], as: UTF8.self)
            if !path.isEmpty { paths.append(path) }
            index = end + 1
        }
        return paths
    }
}

/// Which resources carry a device's data: uplink (observed) and downlink (written).
public struct DataResources: Sendable, Equatable {
    public var uplink: String
    public var downlink: String

    public init(uplink: String, downlink: String) {
        self.uplink = uplink
        self.downlink = downlink
    }

    /// LwM2M object 19 (BinaryAppDataContainer): instance 0 up, instance 1 down.
    public static let lwm2m = DataResources(uplink: "/19/0/0", downlink: "/19/1/0")
    /// The Huawei TUP flavour: one `t/d` resource both ways.
    public static let tup = DataResources(uplink: "/t/d", downlink: "/t/d")

    /// The data resources the device announces, in order of preference: the configured ones
    /// (the device list's `uplinkPath` / `downlinkPath`), the TUP `/t/d`, then object 19. Nil
    /// when its object list names none of them: it must not be observed blindly (it would
    /// answer 4.04 and stay registered with no data path).
    public static func announced(in objectLinks: [String], configured: DataResources?) -> DataResources? {
        let links = Set(objectLinks.map(normalised))
        func announces(_ path: String) -> Bool {
            // `</19/0>` (the instance) or `</19>` (the object) announces `/19/0/0`.
            var prefix = normalised(path)
            while !prefix.isEmpty {
                if links.contains(prefix) { return true }
                guard let cut = prefix.lastIndex(of: "/") else { break }
                prefix = String(prefix[..<cut])
            }
            return false
        }
        return [configured, .tup, .lwm2m].compactMap { $0 }.first { announces($0.uplink) }
    }

    /// `t/d/` and `/t/d` alike: one leading slash, none trailing.
    static func normalised(_ link: String) -> String {
        let trimmed = link.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        return trimmed.isEmpty ? "" : "/" + trimmed
    }
}
