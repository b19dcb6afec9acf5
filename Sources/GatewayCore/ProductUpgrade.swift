import Foundation

extension ProductModel {
    /// A product file's `[upgrade]` table: how devices of the product are upgraded. Its
    /// presence makes the product upgrade-capable (PCP recognition steps 1–2, lwm2m-coap §2.9).
    public struct Upgrade: Sendable, Equatable {
        /// The upgrade protocols edgegw speaks to a device.
        public enum UpgradeProtocol: String, Sendable, Equatable, CaseIterable {
            /// The platform's upgrade protocol in the device's data channel (lwm2m-coap §2).
            case pcp = "PCP"
        }

        /// Fragment sizes PCP allows (lwm2m-coap §2.4, 0x14): 32–500 bytes, 500 by default.
        /// Kept here (not imported from PCP) so that the product model stays in GatewayCore;
        /// a test checks they equal the spec's and `PCPLimits`.
        public static let fragmentSizeRange = 32...500
        public static let defaultFragmentSize = 500
        /// The 0x14 check code is a 16-bit field.
        public static let checkCodeRange = 0...65_535
        public static let defaultCheckCode = 0

        public var upgradeProtocol: UpgradeProtocol
        /// Bytes of package data per fragment; some module drivers hold only ~117.
        public var fragmentSize: Int
        /// The 0x14 check code; some modules take it as the package identity when resuming.
        public var checkCode: Int

        public init(upgradeProtocol: UpgradeProtocol = .pcp, fragmentSize: Int = defaultFragmentSize,
                    checkCode: Int = defaultCheckCode) {
            self.upgradeProtocol = upgradeProtocol
            self.fragmentSize = fragmentSize
            self.checkCode = checkCode
        }

        /// Reads `[upgrade]`; nil (with diagnostics) when the protocol is missing or unsupported.
        public static func parse(_ reader: ConfigReader) -> Upgrade? {
            let before = reader.diagnostics.all.count
            let supported = UpgradeProtocol.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            var upgradeProtocol: UpgradeProtocol?
            if let text = reader.string("protocol", fix: "add `protocol = \"PCP\"` (the only upgrade protocol edgegw speaks)") {
                upgradeProtocol = UpgradeProtocol(rawValue: text) ?? UpgradeProtocol.allCases.first { $0.rawValue.lowercased() == text.lowercased() }
                if upgradeProtocol == nil {
                    reader.report("protocol", "upgrade protocol \"\(text)\" is not supported",
                                  fix: "use \(supported), or remove the [upgrade] table if the product is not upgraded through edgegw")
                }
            }
            let fragmentSize = reader.int("fragment_size", default: defaultFragmentSize, range: fragmentSizeRange,
                                          fix: "PCP fragments hold \(fragmentSizeRange.lowerBound)...\(fragmentSizeRange.upperBound) bytes; use what the module's driver holds")
            let checkCode = reader.int("check_code", default: defaultCheckCode, range: checkCodeRange,
                                       fix: "a 16-bit value, 0...65535")
            reader.finish()
            guard reader.diagnostics.all.count == before, let upgradeProtocol else { return nil }
            return Upgrade(upgradeProtocol: upgradeProtocol, fragmentSize: fragmentSize, checkCode: checkCode)
        }
    }

    /// PCP recognition's step 1: the product declares an `[upgrade]` table.
    public var upgradeCapable: Bool { upgrade != nil }
    /// PCP recognition's step 2: the product upgrades over PCP.
    public var upgradeProtocolIsPCP: Bool { upgrade?.upgradeProtocol == .pcp }
}
