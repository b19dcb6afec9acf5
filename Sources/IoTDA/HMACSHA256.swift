import COpenSSL
import Foundation

/// HMAC-SHA256 through the system's OpenSSL (already linked for MQTTS and DTLS).
public enum HMACSHA256 {
    public static func digest(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                output.withUnsafeMutableBufferPointer { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress, &length)
                }
            }
        }
        // HMAC fails only on allocation failure; an empty digest then fails authentication, loudly.
        guard ok != nil else { return [] }
        return Array(output.prefix(Int(length)))
    }

    public static func hex(key: String, message: String) -> String {
        digest(key: Array(key.utf8), message: Array(message.utf8)).map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }
}
