import LwM2M
import Testing

@Suite struct PCPFrameShapeTests {
    let capable = NBIoTDevice(nodeId: "n", productId: "p", pcpUpgradeCapable: true)

    func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).compactMap {
            let start = hex.index(hex.startIndex, offsetBy: $0)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
        }
    }

    @Test func documentedFramesAreRecognisedForCapableDevicesOnly() {
        let query = bytes("FFFE01134C9A0000")
        let result = bytes("FFFE0118C7D200110056312E30000000000000000000000000")
        #expect(PCPFrameShape().isPCP(query, device: capable))
        #expect(PCPFrameShape().isPCP(result, device: capable))
        #expect(!PCPFrameShape().isPCP(query, device: NBIoTDevice(nodeId: "n", productId: "p")))
    }

    @Test func anythingElseIsBusinessData() {
        #expect(!PCPFrameShape().isPCP(bytes("FFFE02134C9A0000"), device: capable)) // version
        #expect(!PCPFrameShape().isPCP(bytes("FFFE01204C9A0000"), device: capable)) // code
        #expect(!PCPFrameShape().isPCP(bytes("FFFE01134C9A0001"), device: capable)) // length
        #expect(!PCPFrameShape().isPCP(bytes("0102"), device: capable))
    }
}
