import Bootstrap
import GatewayCore
import LwM2MContent
import Testing

/// The content format of the bootstrap writes: chosen by the device's `pct`, TLV otherwise, and
/// the same account whichever format carries it.
struct WriteFormatTests {
    typealias Session = BootstrapSession<ManualClock>
    static let t0 = OffsetInstant(offset: .seconds(100))
    static let plan = BootstrapPlan(serverURI: "coaps://192.0.2.10:5684", pskIdentity: Array("861234567890001".utf8),
                                    psk: Array(repeating: 0x5A, count: 16), lifetime: 3600, binding: "UQ")

    @Test func thePreferredContentFormatChoosesSenMLAndAnythingElseIsTLV() {
        #expect(WriteFormat(preferredContentFormat: "112") == .senmlCBOR)
        #expect(WriteFormat(preferredContentFormat: "110") == .senmlJSON)
        for other: Substring? in ["11542", nil, "", "40", "0112x", "-112", "99999999", "11543", "60"] {
            #expect(WriteFormat(preferredContentFormat: other) == .tlv, "\(other ?? "none")")
        }
        #expect(WriteFormat.allCases.map(\.contentFormat) == [11542, 110, 112])
    }

    /// The Security and Server writes of a 1.0 client's sequence (no Discover) in `format`.
    static func writes(_ format: WriteFormat) -> [BootstrapRequest] {
        var session = Session(endpoint: "861234567890001", plan: plan, format: format, discover: false)
        var requests: [BootstrapRequest] = []
        var actions = session.start(now: t0)
        while case .send(let request) = actions.first {
            requests.append(request)
            actions = session.received(request.method == .delete ? .deleted : .changed, payload: [], now: t0)
        }
        return requests.filter { $0.method == .put }
    }

    static func resources(_ request: BootstrapRequest, _ format: WriteFormat) throws -> [SenMLResource] {
        switch format {
        case .senmlCBOR: try LwM2MSenML.resources(SenMLCBOR.decode(request.payload))
        case .senmlJSON: try LwM2MSenML.resources(SenMLJSON.decode(request.payload))
        case .tlv:
            try TLV.decode(request.payload).flatMap { instance in
                instance.children.map { SenMLResource(path: [request.path == "/1/0" ? 1 : 0, instance.id, $0.id], value: .opaque($0.value)) }
            }
        }
    }

    @Test func eachFormatWritesTheSameAccountUnderItsContentFormat() throws {
        let security = Self.plan.securityResources.map { SenMLResource(path: [0, 1, $0.id], value: $0.value) }
        let server = Self.plan.serverResources.map { SenMLResource(path: [1, 0, $0.id], value: $0.value) }
        for format in [WriteFormat.senmlCBOR, .senmlJSON] {
            let writes = Self.writes(format)
            #expect(writes.map(\.path) == ["/0/1", "/1/0"])
            #expect(writes.allSatisfy { $0.contentFormat == format.contentFormat }, "\(format)")
            #expect(try Self.resources(writes[0], format) == security, "\(format)")
            #expect(try Self.resources(writes[1], format) == server, "\(format)")
        }
        // The key and identity are opaque (vd), the URI and binding strings, the ids integers.
        #expect(security.map(\.value) == [.string("coaps://192.0.2.10:5684"), .boolean(false), .integer(0),
                                          .opaque(Array("861234567890001".utf8)), .opaque([]), .opaque(Array(repeating: 0x5A, count: 16)),
                                          .integer(Int64(BootstrapPlan.defaultShortServerId))])
        let tlv = Self.writes(.tlv)
        #expect(tlv.allSatisfy { $0.contentFormat == BootstrapRequest.tlv })
        #expect(tlv.map(\.payload) == [try TLV.encode([Self.plan.securityInstance(1)]), try TLV.encode([Self.plan.serverInstance(0)])])
        #expect(Self.writes(.tlv) == Self.writes(WriteFormat(preferredContentFormat: nil)), "TLV when the device names no format")
    }

    @Test func theSenMLJSONWriteIsWhatLwM2M11Prints() {
        let json = String(decoding: Self.writes(.senmlJSON)[1].payload, as: UTF8.self)
        #expect(json == #"[{"bn":"/1/0/","n":"0","v":123},{"n":"1","v":3600},{"n":"6","vb":true},{"n":"7","vs":"UQ"}]"#)
    }
}
