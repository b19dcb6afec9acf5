import CCoAP

// Object 4 (Connectivity Monitoring) of a simulated module: fixed values for a one-shot GET of
// its Radio Signal Strength (the RSRP) and Cell ID, as text (what a LwM2M 1.0 client answers a
// GET without Accept). A simulator serves them when it is created with `object4Resources` among
// its resources and the device's object list announces `</4/0>`; SignalSNR (/4/0/11, object 4
// v1.2) is left out on purpose, as on most modules: it is answered 4.04.
extension NBIoTDeviceSimulator {
    /// What every simulated module reports of its radio.
    public static let simulatedRSRP = -98
    public static let simulatedCellId = 21456

    /// The object 4 resources a simulated module can serve.
    public static let object4Resources = ["4/0/2", "4/0/8"]

    /// An object list with object 4 besides the data resources.
    public static let objectLinksWithObject4 = "</1/0>,</3/0>,</4/0>,</19/0>,</19/1>"

    /// The value of an object 4 resource at `path` ("4/0/2"), nil for any other path.
    static func object4Value(path: String) -> [UInt8]? {
        switch path {
        case "4/0/2": Array(String(simulatedRSRP).utf8)
        case "4/0/8": Array(String(simulatedCellId).utf8)
        default: nil
        }
    }

    /// Puts the value of a plain GET of an object 4 resource in the response (text/plain).
    func answerObject4(path: String, response: OpaquePointer) {
        guard let value = Self.object4Value(path: path) else { return }
        add(response, UInt16(COAP_OPTION_CONTENT_FORMAT), [])
        _ = value.withUnsafeBufferPointer { coap_add_data(response, $0.count, $0.baseAddress) }
    }
}
