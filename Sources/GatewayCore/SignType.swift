/// The MQTT password's signature type: the third field of the ClientId (spec mqtt-gateway §1.2),
/// and `cloud.sign_type` in edgegw.toml.
public enum SignType: Int, Sendable, Equatable, CaseIterable, Codable {
    /// HMAC-SHA256 without timestamp check: the timestamp must be present, its accuracy is not checked.
    case noTimestampCheck = 0
    /// HMAC-SHA256 with timestamp check: the platform first compares the timestamp with its own
    /// time, so a box with a wrong clock is refused even with the right secret.
    case timestampCheck = 1
}
