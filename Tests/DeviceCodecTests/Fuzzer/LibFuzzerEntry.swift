// libFuzzer entry for the device codec. Compiled only by the command in docs/codec.md
// (swiftc -sanitize=fuzzer,address -D DEVICE_CODEC_LIBFUZZER, one module with GatewayCore and
// DeviceCodec); in the test target it is empty.
#if DEVICE_CODEC_LIBFUZZER
import Foundation

// Every field type, every role: a codec built directly (the fuzzer links no TOML parser).
let fuzzCodec: ProductCodec? = {
    func p(_ name: String, _ type: ProductModel.DataType) -> ProductModel.Property { ProductModel.Property(name: name, type: type) }
    func v(_ name: String, _ type: CodecFieldType, length: Int? = nil, lengthField: String? = nil, decimals: Int = 0,
           property: ProductModel.Property) -> CodecField {
        CodecField(name: name, type: type, length: length, lengthField: lengthField, decimals: decimals,
                   role: .value(service: "S", name: property.name, property: property))
    }
    let report = CodecMessage(name: "r", kind: .report, messageId: 1, fields: [
        CodecField(name: "messageId", type: .int8u, role: .messageId),
        v("a", .int24s, property: p("a", .int)), v("b", .int32u, decimals: 3, property: p("b", .decimal)),
        v("c", .float, property: p("c", .decimal)), v("d", .double, property: p("d", .decimal)),
        v("e", .string, length: 4, property: p("e", .string)), v("f", .string, length: 3, property: p("f", .decimal)),
        v("g", .int8u, property: p("g", .boolean)), v("h", .array, length: 2, property: p("h", .string)),
        CodecField(name: "n1", type: .int8u, role: .length(of: "i")),
        v("i", .varstring, length: 40, lengthField: "n1", property: p("i", .string)),
        CodecField(name: "n2", type: .int16u, role: .length(of: "j")),
        v("j", .variant, length: 300, lengthField: "n2", property: p("j", .string)),
    ])
    let response = CodecMessage(name: "cr", kind: .commandResponse, messageId: 2, serviceId: "S", command: "C", fields: [
        CodecField(name: "messageId", type: .int8u, role: .messageId), CodecField(name: "mid", type: .int16u, role: .mid),
        CodecField(name: "errcode", type: .int8s, role: .errcode), v("k", .int16s, property: p("k", .int)),
    ])
    let command = CodecMessage(name: "c", kind: .command, messageId: 3, serviceId: "S", command: "C", fields: [
        CodecField(name: "messageId", type: .int8u, role: .messageId), CodecField(name: "mid", type: .int16u, role: .mid),
        CodecField(name: "n", type: .int8u, role: .length(of: "t")), v("t", .varstring, length: 255, lengthField: "n", property: p("t", .string)),
    ])
    return ProductCodec(productId: "fuzz", uplink: [report, response], downlink: [command])
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .report(let report) = ProductCodec.classify(bytes, codec: fuzzCodec),
       let again = try? fuzzCodec?.encodeReport(message: report.message, services: report.services) {
        // What was accepted re-encodes to a frame with the same values.
        guard (try? fuzzCodec?.decode(again)) == .report(report) else { fatalError("round trip differs") }
    }
    _ = try? fuzzCodec?.decodeDownlink(bytes)
    return 0
}
#endif
