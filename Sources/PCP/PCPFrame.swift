import GatewayCore

/// PCP (the platform's upgrade protocol) frames; `PCPCodec` reads and writes them.
/// The start marker is what the recognition rule (spec lwm2m-coap §2.9) looks for.
public enum PCPFrame {
    public static let startMarker: UInt16 = 0xFFFE
}
