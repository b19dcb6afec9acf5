import GatewayCore
import SerialFraming

/// A serial port's counters: what `edgegw status`, the metrics and the stop line show.
public struct SerialPortCounters: Sendable, Equatable {
    public var bytesReceived = 0
    public var bytesSent = 0
    /// What the framer found: good frames (the only ones decoded), checksum failures, resyncs,
    /// oversized, truncated and malformed candidates.
    public var framing = FramerCounters()
    /// Requests sent (polls, commands, property gets) and those not answered in time.
    public var requests = 0
    public var timeouts = 0
    /// Bytes the adapter echoed that did not match what was sent (2-wire RS-485 with `echo`).
    public var echoMismatches = 0
    /// Good frames the product's codec could not decode, or from an address no device has.
    public var undecodable = 0
    public var unknownAddress = 0
    /// Times the port vanished (USB adapter unplugged, hang-up) and was opened again.
    public var lost = 0
    public var reopened = 0

    public init() {}
}

/// A serial device's counters.
public struct SerialDeviceCounters: Sendable, Equatable {
    public var frames = 0
    public var requests = 0
    public var timeouts = 0
    public var status: FieldHealthState = .unknown

    public init() {}
}

/// One port's snapshot.
public struct SerialPortStats: Sendable, Equatable {
    public var port: String
    /// Whether the port is open now.
    public var open: Bool
    /// Shared with Modbus RTU devices (turns taken on one line).
    public var sharedWithModbus: Bool
    public var counters: SerialPortCounters
    /// By node id.
    public var devices: [String: SerialDeviceCounters]

    public init(port: String, open: Bool, sharedWithModbus: Bool, counters: SerialPortCounters, devices: [String: SerialDeviceCounters]) {
        self.port = port
        self.open = open
        self.sharedWithModbus = sharedWithModbus
        self.counters = counters
        self.devices = devices
    }
}
