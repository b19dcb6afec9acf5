/// The platform's rules for the identifiers edgegw gives it (spec mqtt-gateway §1.1; the IoTDA
/// API reference: a device_id is "长度不超过128, 只允许字母、数字、下划线(_)、连接符(-)的组合",
/// 1 to 128 letters, digits, `_` and `-`).
///
/// The gateway's own device_id is configured; a child's is the platform's: the gateway's add
/// request names no device_id, so the platform names the child `{product_id}_{node_id}`
/// (UG 2.1.3.3.1). A node_id is therefore held to what keeps that name a device_id. The
/// documents give no other limit for node_id.
public enum PlatformIdentifiers {
    /// Lengths a device_id may have, in characters.
    public static let deviceIdLengths: ClosedRange<Int> = 1...128
    /// What a device_id may hold besides ASCII letters and digits.
    public static let deviceIdPunctuation: Set<Character> = ["_", "-"]
    /// Between product_id and node_id in the device_id the platform gives a child.
    public static let childDeviceIdSeparator = "_"
    /// The fix for a character outside the device_id alphabet.
    public static let deviceIdAlphabet = "use only letters, digits, '_' and '-'"

    /// What is wrong with an identifier, and how to fix it.
    public struct Problem: Sendable, Equatable {
        public var problem: String
        public var fix: String
    }

    public static func isDeviceIdCharacter(_ character: Character) -> Bool {
        (character.isASCII && (character.isLetter || character.isNumber)) || deviceIdPunctuation.contains(character)
    }

    /// Why `deviceId` cannot be a device_id; nil when it can.
    public static func deviceIdProblem(_ deviceId: String) -> Problem? {
        if !deviceIdLengths.contains(deviceId.count) {
            return Problem(problem: "device_id is \(deviceId.count) characters long; the platform allows"
                               + " \(deviceIdLengths.lowerBound) to \(deviceIdLengths.upperBound)",
                           fix: "copy the gateway's device_id from the IoTDA console")
        }
        if let bad = deviceId.first(where: { !isDeviceIdCharacter($0) }) {
            return Problem(problem: "device_id \"\(deviceId)\" has \(quoted(bad)), which the platform does not allow",
                           fix: deviceIdAlphabet)
        }
        return nil
    }

    /// The device_id the platform gives a child it adds.
    public static func childDeviceId(productId: String, nodeId: String) -> String {
        productId + childDeviceIdSeparator + nodeId
    }

    /// The longest node_id a child of `productId` may have.
    public static func maxNodeIdLength(productId: String) -> Int {
        deviceIdLengths.upperBound - productId.count - childDeviceIdSeparator.count
    }

    /// Why a child's node_id cannot be used with its product; nil when it can.
    public static func nodeIdProblem(_ nodeId: String, productId: String) -> Problem? {
        let deviceId = childDeviceId(productId: productId, nodeId: nodeId)
        if deviceId.count > deviceIdLengths.upperBound {
            let shown = childDeviceId(productId: productId, nodeId: String(nodeId.prefix(8)) + "…")
            return Problem(problem: "node_id is \(nodeId.count) characters long; with product \(productId) the platform's"
                               + " device_id \(shown) would be \(deviceId.count), and it allows \(deviceIdLengths.upperBound)",
                           fix: "use a node_id of at most \(maxNodeIdLength(productId: productId)) characters")
        }
        if let bad = nodeId.first(where: { !isDeviceIdCharacter($0) }) {
            return Problem(problem: "node_id \"\(nodeId)\" has \(quoted(bad)), which the platform does not allow in"
                               + " the device_id \(deviceId)",
                           fix: deviceIdAlphabet)
        }
        return nil
    }

    private static func quoted(_ character: Character) -> String {
        if character == " " { return "a space" }
        return character.isWhitespace || !character.isASCII || character.asciiValue.map({ $0 < 0x20 }) == true
            ? "\(character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined())"
            : "'\(character)'"
    }
}
