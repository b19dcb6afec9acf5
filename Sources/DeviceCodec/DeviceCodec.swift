import GatewayCore

/// Declarative binary ⇄ JSON codecs from product files (issue: device codecs).
public enum DeviceCodecInfo {
    public static let byteOrder = "big-endian"
}
