import CMosquitto

/// Why a ready MQTT connection ended, from the code libmosquitto's loop ended with
/// (`edgegw_cloud_disconnects_total{reason}`).
public enum CloudDisconnectReason: String, Sendable, Hashable, CaseIterable {
    /// The gateway closed it: shutdown or a new configuration.
    case normal
    /// No PINGRESP or other packet from the broker within the keepalive.
    case keepaliveTimeout = "keepalive_timeout"
    /// The broker closed the TCP connection, or the network or TLS layer failed.
    case connectionLost = "connection_lost"
    /// The broker sent what MQTT does not allow (a malformed or unexpected packet).
    case protocolError = "protocol_error"

    /// The reason for a loop that ended with libmosquitto's `code` while not stopping.
    init(mosquittoCode code: Int32) {
        switch code {
        case Int32(MOSQ_ERR_SUCCESS.rawValue): self = .normal
        case Int32(MOSQ_ERR_KEEPALIVE.rawValue): self = .keepaliveTimeout
        case Int32(MOSQ_ERR_PROTOCOL.rawValue), Int32(MOSQ_ERR_MALFORMED_PACKET.rawValue),
             Int32(MOSQ_ERR_DUPLICATE_PROPERTY.rawValue), Int32(MOSQ_ERR_MALFORMED_UTF8.rawValue),
             Int32(MOSQ_ERR_OVERSIZE_PACKET.rawValue), Int32(MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue):
            self = .protocolError
        default: self = .connectionLost
        }
    }
}
