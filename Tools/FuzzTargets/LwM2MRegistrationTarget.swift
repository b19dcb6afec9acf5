import Bootstrap
import GatewayCore
import LwM2M

/// `lwm2m-registration`: what an NB-IoT module sends the LwM2M server's registration interface.
/// The first byte chooses:
///
/// 0. a Register: Uri-Query, 00, the link-format object list (`RegistrationRequest.parse`, then
///    which data resources and radio object it announces);
/// 1. an Update or De-register: Uri-Path, 00, Uri-Query, 00, body (`registrationId(uriPath:)`,
///    then the same parse);
/// 2. a block-wise Register: Block1 options and payloads in turn (`Block1Reassembly`), the whole
///    body parsed once it is in;
/// 3. a read of object 4 (radio): a path choice, then the payload (`RadioResources.apply`);
/// 4. a datagram too long for libcoap (`OversizedDatagram.tooLargeReply`);
/// 5. a Bootstrap-Discover answer, the link format the bootstrap server reads the module's
///    Security and Server instances from (`DiscoveredObjects.parse`).
///
/// Properties: what parses respects the request's bounds (endpoint characters and length,
/// lifetime range, at most `LinkFormat.maxLinks` links, each non-empty and without `>`); a
/// Block1 option encodes back to itself; a reassembled body is never longer than the bound and
/// ends where its last block does; a 4.13 answer echoes the request's type, message id and token;
/// the instance id picked for a new account is one the module does not have.
enum LwM2MRegistrationTarget {
    static let target = FuzzTarget(
        name: "lwm2m-registration", maxInputBytes: 4096,
        summary: "RegistrationRequest.parse (query, link format), Update paths, Block1 reassembly, object 4 reads, oversized datagrams, Bootstrap-Discover answers",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        switch input.byte() % 6 {
        case 0:
            let query = text(input.field(until: 0))
            register(query: query, body: input.takeRest())
        case 1:
            let path = text(input.field(until: 0))
            let query = text(input.field(until: 0))
            let body = input.takeRest()
            guard let id = RegistrationRequest.registrationId(uriPath: path) else { return }
            FuzzCheck.require(!id.isEmpty && !id.contains("/") && path == "rd/" + id, "registration id \(id) of path \(path)")
            register(query: query, body: body)
        case 2:
            blockwise(&input)
        case 3:
            radio(&input)
        case 4:
            oversized(&input)
        default:
            discover(String(decoding: input.takeRest(), as: UTF8.self))
        }
    }

    static func discover(_ text: String) {
        guard let objects = DiscoveredObjects.parse(text) else { return }
        let security = objects.securityInstances.map(\.id)
        FuzzCheck.require(Set(objects.bootstrapAccount).isSubset(of: security), "bootstrap account \(objects.bootstrapAccount) of \(security)")
        for taken in [security, objects.serverInstances] where taken.count < Int(UInt16.max) {
            let free = DiscoveredObjects.free(taken)
            FuzzCheck.require(!taken.contains(free), "instance \(free) picked as free among \(taken)")
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func register(query: String, body: [UInt8]) {
        let request: RegistrationRequest
        do {
            request = try RegistrationRequest.parse(query: query, body: body)
        } catch {
            FuzzCheck.require(!error.description.isEmpty, "a refusal without a reason")
            return
        }
        if let endpoint = request.endpoint {
            FuzzCheck.require(!endpoint.isEmpty && endpoint.utf8.count <= RegistrationRequest.maxEndpointLength
                              && endpoint.utf8.allSatisfy { isEndpointByte($0) }, "endpoint \(endpoint) accepted")
        }
        if let lifetime = request.lifetime {
            FuzzCheck.require(RegistrationRequest.lifetimeRange.contains(lifetime), "lifetime \(lifetime) accepted")
        }
        FuzzCheck.require(request.objectLinks.count <= LinkFormat.maxLinks, "\(request.objectLinks.count) links kept")
        for link in request.objectLinks {
            FuzzCheck.require(!link.isEmpty && !link.contains(">"), "link \(link) kept")
        }
        let configured = request.objectLinks.first.map { DataResources(uplink: $0, downlink: $0) }
        for choice in [configured, nil] {
            if let resources = DataResources.announced(in: request.objectLinks, configured: choice) {
                FuzzCheck.require([choice, .tup, .lwm2m].contains(resources), "announced \(resources)")
            }
        }
        _ = RadioResources.announced(in: request.objectLinks)
    }

    static func isEndpointByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: ":")].contains(byte)
    }

    typealias Reassembly = Block1Reassembly<OffsetInstant>

    /// Blocks of one transfer, each: an option length (0–3) and the option, a payload length
    /// (two bytes, at most 1100) and the payload, and a byte whose low bits pick the peer.
    static func blockwise(_ input: inout FuzzInput) {
        let maxBody = RegistrationRequest.maxObjectListBytes
        var reassembly = Reassembly(maxBodyBytes: maxBody, maxTransfers: 2, idleTimeout: .seconds(60))
        var now = OffsetInstant(offset: .zero)
        let query = text(input.field(until: 0))
        while !input.isEmpty {
            let option = input.take(Int(input.byte() % 4))
            guard let block = Reassembly.Block(optionValue: option) else {
                FuzzCheck.fail("a Block1 option of \(option.count) bytes refused")
            }
            FuzzCheck.require(Reassembly.Block(optionValue: block.optionValue) == block, "Block1 \(hexText(option)) -> \(block) -> \(hexText(block.optionValue))")
            if option.first != 0 {
                FuzzCheck.require(block.optionValue == option, "Block1 \(hexText(option)) encodes as \(hexText(block.optionValue))")
            }
            let payload = input.take(Int(input.word() % 1100))
            let peer = UInt64(input.byte() % 2)
            now = now.advanced(by: .seconds(1))
            let outcome = reassembly.receive(block, payload: payload, size1: nil, requestTag: nil, query: query,
                                             key: Reassembly.Key(peer: peer, path: "rd"), at: now)
            switch outcome {
            case .next(let echo):
                FuzzCheck.require(echo == block && block.more, "block \(block) answered Continue with \(echo)")
            case .complete(let body, let firstQuery, let last):
                FuzzCheck.require(last == block && body.count <= maxBody && body.count == block.offset + payload.count,
                                  "block \(block) with \(payload.count) bytes completed a body of \(body.count)")
                register(query: firstQuery, body: body)
            case .tooLarge(let limit):
                FuzzCheck.require(limit == maxBody, "too large, limit \(limit)")
            case .incomplete, .badRequest:
                break
            }
        }
    }

    /// A path choice (RSRP, cell id, SINR, or another resource), then the payload.
    static func radio(_ input: inout FuzzInput) {
        let paths = RadioResources.paths + ["/4/0/3"]
        let path = paths[Int(input.byte()) % paths.count]
        var radio = RadioConditions()
        let applied = RadioResources.apply(path: path, payload: input.takeRest(), to: &radio)
        if !applied { FuzzCheck.require(radio == RadioConditions(), "a refused value changed \(radio)") }
    }

    /// Two bytes of Size1, two of the message id to use for a NON, then the datagram.
    static func oversized(_ input: inout FuzzInput) {
        let size1 = Int(input.word())
        let messageID = input.word()
        let datagram = input.takeRest()
        let reply = datagram.withUnsafeBytes { OversizedDatagram.tooLargeReply(to: $0, size1: size1, messageID: messageID) }
        guard let reply else { return }
        let tokenLength = Int(datagram[0] & 0x0F)
        let type = datagram[0] >> 4 & 0x03
        FuzzCheck.require(reply.count >= 4 + tokenLength && reply[0] >> 6 == 1 && reply[1] == 4 << 5 | 13
                          && reply[0] >> 4 & 0x03 == (type == 0 ? 2 : 1)
                          && Array(reply[4..<(4 + tokenLength)]) == Array(datagram[4..<(4 + tokenLength)])
                          && Array(reply[2..<4]) == (type == 0 ? Array(datagram[2..<4]) : [UInt8(messageID >> 8), UInt8(messageID & 0xFF)]),
                          "4.13 for \(hexText(datagram.prefix(16))): \(hexText(reply.prefix(16)))")
    }
}
