import LwM2MContent

/// What the bootstrap server writes to one device (OMA-TS-LightweightM2M-V1_0 §E.1 Security,
/// §E.2 Server): the account of the LwM2M server it must register with.
public struct BootstrapPlan: Equatable, Sendable {
    /// `coaps://host:port` of edgegw's LwM2M server, as the device will reach it.
    public var serverURI: String
    /// The PSK identity the device presents to that server (its node id unless the list names another).
    public var pskIdentity: [UInt8]
    /// The connection PSK (never the bootstrap PSK).
    public var psk: [UInt8]
    public var shortServerId: UInt16
    public var lifetime: Int
    /// "U" or "UQ" (the product's binding).
    public var binding: String
    public var notificationStoring: Bool

    /// The lifetime written when the product says nothing (the platform's default, one day).
    public static let defaultLifetime = 86_400
    /// The longest lifetime written (the platform's ceiling, seven days).
    public static let maxLifetime = 7 * 86_400
    /// The short server id of edgegw's LwM2M server account.
    public static let defaultShortServerId: UInt16 = 123

    public init(serverURI: String, pskIdentity: [UInt8], psk: [UInt8], shortServerId: UInt16 = BootstrapPlan.defaultShortServerId,
                lifetime: Int = BootstrapPlan.defaultLifetime, binding: String = "U", notificationStoring: Bool = true) {
        self.serverURI = serverURI
        self.pskIdentity = pskIdentity
        self.psk = psk
        self.shortServerId = shortServerId
        self.lifetime = min(max(lifetime, 1), Self.maxLifetime)
        self.binding = binding
        self.notificationStoring = notificationStoring
    }

    /// Security object (/0) resources.
    public enum SecurityResource {
        public static let serverURI: UInt16 = 0
        public static let bootstrapServer: UInt16 = 1
        public static let securityMode: UInt16 = 2
        public static let publicKeyOrIdentity: UInt16 = 3
        public static let serverPublicKey: UInt16 = 4
        public static let secretKey: UInt16 = 5
        public static let shortServerId: UInt16 = 10
    }

    /// Server object (/1) resources.
    public enum ServerResource {
        public static let shortServerId: UInt16 = 0
        public static let lifetime: UInt16 = 1
        public static let notificationStoring: UInt16 = 6
        public static let binding: UInt16 = 7
    }

    /// Security mode 0: pre-shared key.
    public static let securityModePSK: Int64 = 0

    /// The Security object instance's resources (written to `/0/x`).
    public var securityResources: [(id: UInt16, value: TLVValue)] {
        [
            (SecurityResource.serverURI, .string(serverURI)),
            (SecurityResource.bootstrapServer, .boolean(false)),
            (SecurityResource.securityMode, .integer(Self.securityModePSK)),
            (SecurityResource.publicKeyOrIdentity, .opaque(pskIdentity)),
            (SecurityResource.serverPublicKey, .opaque([])),
            (SecurityResource.secretKey, .opaque(psk)),
            (SecurityResource.shortServerId, .integer(Int64(shortServerId))),
        ]
    }

    /// The Server object instance's resources (written to `/1/x`).
    public var serverResources: [(id: UInt16, value: TLVValue)] {
        [
            (ServerResource.shortServerId, .integer(Int64(shortServerId))),
            (ServerResource.lifetime, .integer(Int64(lifetime))),
            (ServerResource.notificationStoring, .boolean(notificationStoring)),
            (ServerResource.binding, .string(binding)),
        ]
    }

    /// The Security object instance `instance`, as TLV.
    public func securityInstance(_ instance: UInt16) -> TLV {
        .objectInstance(instance, securityResources.map { .resource($0.id, $0.value) })
    }

    /// The Server object instance `instance`, as TLV.
    public func serverInstance(_ instance: UInt16) -> TLV {
        .objectInstance(instance, serverResources.map { .resource($0.id, $0.value) })
    }
}
