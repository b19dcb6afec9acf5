import Crypto
import Foundation

/// HMAC-SHA256 for the MQTT password (swift-crypto: this pure module links no C library itself).
public enum HMACSHA256 {
    public static func digest(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    public static func hex(key: String, message: String) -> String {
        digest(key: Array(key.utf8), message: Array(message.utf8)).map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }
}
