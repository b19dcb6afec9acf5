import Foundation
import LwM2MContent
import Testing

/// An independent reader of the SenML-JSON written: Python's json module parses a Security
/// instance's pack, and the fields it sees are LwM2M 1.1's (bn, n, vs, vb, v, vd).
struct SenMLJSONPythonTests {
    @Test func pythonsJSONReaderSeesTheRecordsWritten() throws {
        let resources: [(id: UInt16, value: TLVValue)] = [
            (0, .string("coaps://[2001:db8::1]:5684 \"quoted\" \u{7} é")), (1, .boolean(false)), (2, .integer(0)),
            (3, .opaque(Array("861234567890001".utf8))), (5, .opaque([0xFB, 0xFF, 0x00])), (10, .integer(123)),
        ]
        let json = try SenMLJSON.encode(LwM2MSenML.records(object: 0, instance: 1, resources: resources))
        let script = """
            from base64 import urlsafe_b64decode
            from json import loads
            from sys import stdin
            pack = loads(stdin.buffer.read().decode("utf-8"))
            assert isinstance(pack, list) and all(isinstance(r, dict) for r in pack), pack
            assert pack[0]["bn"] == "/0/1/", pack[0]
            out = []
            for r in pack:
                for label in ("vs", "vb", "v"):
                    if label in r: out.append("%s %s=%r" % (r["n"], label, r[label]))
                if "vd" in r:
                    out.append("%s vd=%s" % (r["n"], urlsafe_b64decode(r["vd"] + "=" * (-len(r["vd"]) % 4)).hex()))
            print("\\n".join(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(json))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.split(separator: "\n") == [
            #"0 vs='coaps://[2001:db8::1]:5684 "quoted" \x07 é'"#, "1 vb=False", "2 v=0",
            "3 vd=\(Array("861234567890001".utf8).map { String($0, radix: 16) }.joined())", "5 vd=fbff00", "10 v=123",
        ])
    }
}
