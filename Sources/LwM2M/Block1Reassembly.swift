/// Block-wise requests (RFC 7959 Block1) to the registration interface, put back together in
/// order and bounded: a device whose object list does not fit one datagram sends it in blocks,
/// each non-final one answered 2.31 Continue, and the Register or Update is handled once, with the
/// whole body. libcoap 4.3.1's own reassembly (`COAP_BLOCK_SINGLE_BODY`) is not used: without a
/// Size1 option it hands the handler the first block alone, and it sizes its buffer from what the
/// client claims (Size1, block numbers) with no upper bound. Package access: the `lwm2m-registration`
/// fuzz target (Tools/FuzzTargets) drives it with hostile blocks.
package struct Block1Reassembly<Instant: InstantProtocol> where Instant.Duration == Duration {
    /// A Block1 option value: block number, more-flag and size exponent (block size 16 << szx).
    package struct Block: Sendable, Equatable {
        package var number: Int
        package var more: Bool
        package var sizeExponent: Int

        package var size: Int { 16 << sizeExponent }
        package var offset: Int { number * size }

        package init(number: Int, more: Bool, sizeExponent: Int) {
            self.number = number
            self.more = more
            self.sizeExponent = sizeExponent
        }

        /// Decodes the option's 0–3 bytes (RFC 7959 §2.2).
        package init?(optionValue bytes: [UInt8]) {
            guard bytes.count <= 3 else { return nil }
            let value = bytes.reduce(0) { $0 << 8 | Int($1) }
            self.init(number: value >> 4, more: value & 0x08 != 0, sizeExponent: value & 0x07)
        }

        package var optionValue: [UInt8] {
            let value = number << 4 | (more ? 0x08 : 0) | sizeExponent
            if value == 0 { return [] }
            if value < 0x100 { return [UInt8(value)] }
            if value < 0x1_0000 { return [UInt8(value >> 8), UInt8(value & 0xFF)] }
            return [UInt8(value >> 16), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
    }

    /// One transfer per session and path (`rd`, `rd/<id>`).
    package struct Key: Hashable {
        package var peer: UInt64
        package var path: String

        package init(peer: UInt64, path: String) {
            self.peer = peer
            self.path = path
        }
    }

    package enum Outcome: Equatable {
        /// Not the last block: answer 2.31 Continue with this Block1 option.
        case next(Block)
        /// The whole body; `query` is block 0's Uri-Query (each block should repeat it).
        case complete(body: [UInt8], query: String, last: Block)
        /// 4.13, with Size1 = the limit.
        case tooLarge(limit: Int)
        /// 4.08: a block out of order, or of a transfer this server does not hold.
        case incomplete
        case badRequest(String)
    }

    /// SZX 7 is BERT, for CoAP over TCP only (RFC 8323).
    static var largestSizeExponent: Int { 6 }

    package let maxBodyBytes: Int
    let maxTransfers: Int
    let idleTimeout: Duration
    private var transfers: [Key: Transfer] = [:]

    private struct Transfer {
        var body: [UInt8]
        var query: String
        var tag: [UInt8]?
        var last: Block
        var lastLength: Int
        var complete: Bool
        var lastSeen: Instant
    }

    package init(maxBodyBytes: Int, maxTransfers: Int, idleTimeout: Duration) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTransfers = maxTransfers
        self.idleTimeout = idleTimeout
    }

    var count: Int { transfers.count }

    package mutating func receive(_ block: Block, payload: [UInt8], size1: Int?, requestTag: [UInt8]?, query: String,
                          key: Key, at now: Instant) -> Outcome {
        guard block.sizeExponent <= Self.largestSizeExponent else {
            transfers[key] = nil
            return .badRequest("Block1 SZX 7 (BERT) is for reliable transports only")
        }
        if block.more && payload.count != block.size {
            transfers[key] = nil
            return .badRequest("block \(block.number) carries \(payload.count) bytes; every block but the last carries \(block.size)")
        }
        if payload.count > block.size {
            transfers[key] = nil
            return .badRequest("block \(block.number) carries \(payload.count) bytes, more than its size \(block.size)")
        }
        if block.number == 0 {
            if let size1, size1 > maxBodyBytes { transfers[key] = nil; return .tooLarge(limit: maxBodyBytes) }
            if transfers[key] == nil && transfers.count >= maxTransfers, let oldest = transfers.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
                transfers[oldest.key] = nil
            }
            transfers[key] = Transfer(body: [], query: query, tag: requestTag, last: block, lastLength: 0, complete: false, lastSeen: now)
        }
        guard var transfer = transfers[key], transfer.tag == requestTag else { return .incomplete }
        transfer.lastSeen = now
        // The same block again (our answer was lost): the same answer, nothing appended.
        if transfer.last == block && transfer.lastLength == payload.count && block.offset + payload.count == transfer.body.count
            && (block.number > 0 || transfer.complete) {
            transfers[key] = transfer
            return transfer.complete ? .complete(body: transfer.body, query: transfer.query, last: block) : .next(block)
        }
        guard !transfer.complete, block.offset == transfer.body.count else {
            transfers[key] = nil
            return .incomplete
        }
        guard transfer.body.count + payload.count <= maxBodyBytes else {
            transfers[key] = nil
            return .tooLarge(limit: maxBodyBytes)
        }
        transfer.body += payload
        transfer.last = block
        transfer.lastLength = payload.count
        transfer.complete = !block.more
        transfers[key] = transfer
        return block.more ? .next(block) : .complete(body: transfer.body, query: transfer.query, last: block)
    }

    /// Drops transfers idle for `idleTimeout` (a finished one is kept that long to answer a repeated last block).
    package mutating func expire(at now: Instant) {
        transfers = transfers.filter { $0.value.lastSeen.duration(to: now) < idleTimeout }
    }

    mutating func removeAll(peer: UInt64) {
        transfers = transfers.filter { $0.key.peer != peer }
    }
}
