// libFuzzer entry for the LwM2M content formats (TLV, CBOR, SenML-CBOR, SenML-JSON). Compiled only
// by the command in docs/bootstrap.md (swiftc -sanitize=fuzzer,address -D LWM2M_CONTENT_LIBFUZZER,
// one module with LwM2MContent's files); in the test target it is empty.
#if LWM2M_CONTENT_LIBFUZZER

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? TLV.decode(bytes)
    _ = try? CBOR.decode(bytes)
    // What is accepted writes back to bytes that read as the same pack: compared as bytes, since
    // a NaN is never equal to itself.
    if let records = try? SenMLCBOR.decode(bytes) {
        let written = SenMLCBOR.encode(records)
        guard let again = try? SenMLCBOR.decode(written), SenMLCBOR.encode(again) == written else {
            fatalError("SenML-CBOR round trip differs")
        }
        if let json = try? SenMLJSON.encode(records) {
            guard let fromJSON = try? SenMLJSON.decode(json), SenMLCBOR.encode(fromJSON) == written else {
                fatalError("SenML-CBOR to JSON differs")
            }
        }
        _ = try? LwM2MSenML.resources(records)
    }
    if let records = try? SenMLJSON.decode(bytes) {
        guard let json = try? SenMLJSON.encode(records), let again = try? SenMLJSON.decode(json),
              (try? SenMLJSON.encode(again)) == json else {
            fatalError("SenML-JSON round trip differs")
        }
        _ = try? LwM2MSenML.resources(records)
    }
    return 0
}
#endif
