import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Datagrams longer than libcoap 4.3.1 reads. It reads 1,472 bytes (`COAP_RXBUFFER_SIZE`) and
/// silently drops the rest of a longer datagram, so a long request would be parsed cut short.
/// They are taken off the listener before libcoap reads: over plain CoAP a request is answered
/// 4.13 Request Entity Too Large with Size1 (the largest body the server takes) and a Block1
/// option that invites block-wise transfer; over DTLS the record cannot be read without its
/// session's keys, so it is dropped (and counted). Package access: the `lwm2m-registration` fuzz
/// target (Tools/FuzzTargets) feeds `tooLargeReply` hostile datagrams.
package enum OversizedDatagram {
    /// libcoap 4.3.1's receive buffer (`COAP_RXBUFFER_SIZE`).
    static let libcoapReadBytes = 1472
    /// Block size offered in the 4.13 (SZX 6 = 1,024 bytes): fits the MTU with the Register's options.
    static let offeredBlockSizeExponent = 6
    private static let requestTooLargeCode: UInt8 = 4 << 5 | 13

    /// The 4.13 answer to a CoAP request, or nil for anything that is not one (responses, empty
    /// messages, garbage): those get no answer. A NON request is answered NON with `messageID`.
    package static func tooLargeReply(to datagram: UnsafeRawBufferPointer, size1: Int, messageID: UInt16) -> [UInt8]? {
        guard datagram.count >= 4 else { return nil }
        let first = datagram[0]
        let type = first >> 4 & 0x03
        let tokenLength = Int(first & 0x0F)
        let code = datagram[1]
        // Version 1, CON or NON, a token of at most 8 bytes, a request code (class 0, not Empty).
        guard first >> 6 == 1, type <= 1, tokenLength <= 8, datagram.count >= 4 + tokenLength, code >> 5 == 0, code != 0 else {
            return nil
        }
        var reply: [UInt8] = [0x40 | (type == 0 ? 2 : 1) << 4 | UInt8(tokenLength), requestTooLargeCode]
        reply += type == 0 ? [datagram[2], datagram[3]] : [UInt8(messageID >> 8), UInt8(messageID & 0xFF)]
        reply += datagram[4..<(4 + tokenLength)]
        // Block1 (27) = block 0, no more, SZX: delta 27 in an extended byte (13 + 14).
        reply += [0xD1, 27 - 13, UInt8(offeredBlockSizeExponent)]
        // Size1 (60): delta 33 (13 + 20).
        let size = UInt32(clamping: size1)
        let sizeBytes: [UInt8] = size < 0x100 ? [UInt8(size)] : size < 0x1_0000 ? [UInt8(size >> 8), UInt8(size & 0xFF)]
            : [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
        reply += [0xD0 | UInt8(sizeBytes.count), 60 - 27 - 13] + sizeBytes
        reply += [0xFF] + Array("request of \(datagram.count) bytes in one datagram; send it block-wise (Block1)".utf8)
        return reply
    }

    /// Takes the datagram at the head of `fd`'s queue; when `answer` returns bytes for it, sends
    /// them back from the local address it came to (its IP_PKTINFO echoed). Returns its size and
    /// source, or nil when the queue was empty.
    static func take(fd: Int32, answer: (UnsafeRawBufferPointer) -> [UInt8]?) -> (bytes: Int, source: String)? {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 16)
        let control = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)
        defer {
            buffer.deallocate()
            control.deallocate()
        }
        var source = sockaddr_storage()
        return withUnsafeMutablePointer(to: &source) { sourcePointer -> (bytes: Int, source: String)? in
            var vector = iovec(iov_base: buffer, iov_len: 65_536)
            return withUnsafeMutablePointer(to: &vector) { vectorPointer -> (bytes: Int, source: String)? in
                var header = msghdr()
                header.msg_name = UnsafeMutableRawPointer(sourcePointer)
                header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                header.msg_iov = vectorPointer
                header.msg_iovlen = 1
                header.msg_control = control
                header.msg_controllen = 256
                let received = recvmsg(fd, &header, SocketTools.dontWait)
                guard received >= 0 else { return nil }
                let address = sourcePointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketTools.describe(sockaddr: $0) }
                if var reply = answer(UnsafeRawBufferPointer(start: buffer, count: received)) {
                    reply.withUnsafeMutableBytes { bytes in
                        vectorPointer.pointee = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
                        if sendmsg(fd, &header, SocketTools.dontWait) < 0 {
                            _ = sendto(fd, bytes.baseAddress, bytes.count, SocketTools.dontWait,
                                       UnsafeRawPointer(sourcePointer).assumingMemoryBound(to: sockaddr.self), header.msg_namelen)
                        }
                    }
                }
                return (received, address)
            }
        }
    }
}
