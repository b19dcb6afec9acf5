import CMosquitto
import Foundation
import GatewayCore

/// The baseline: libmosquitto alone, its own thread, QoS 1 publishes as fast as PUBACKs return,
/// with the same in-flight window as the pump.
final class RawPublisher: @unchecked Sendable {
    private let lock = NSCondition()
    private var isConnected = false
    private var acked = 0

    func connected(code: Int32) {
        lock.lock(); isConnected = code == 0; lock.broadcast(); lock.unlock()
    }

    func acknowledged() {
        lock.lock(); acked += 1; lock.broadcast(); lock.unlock()
    }

    /// Publishes `count` messages of `size` bytes keeping at most `window` unacknowledged;
    /// returns messages per second from the first PUBLISH to the last PUBACK.
    func run(port: Int, count: Int, size: Int, window: Int) -> Double? {
        _ = mosquitto_lib_init()
        guard let mosq = mosquitto_new("bench-raw", true, Unmanaged.passUnretained(self).toOpaque()) else { return nil }
        defer { mosquitto_destroy(mosq) }
        _ = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
        _ = mosquitto_max_inflight_messages_set(mosq, UInt32(window))
        mosquitto_connect_callback_set(mosq, rawOnConnect)
        mosquitto_publish_callback_set(mosq, rawOnPublish)
        guard mosquitto_connect(mosq, "127.0.0.1", Int32(port), 60) == 0, mosquitto_loop_start(mosq) == 0 else { return nil }
        defer {
            mosquitto_disconnect(mosq)
            mosquitto_loop_stop(mosq, false)
        }
        lock.lock()
        while !isConnected { if !lock.wait(until: Date().addingTimeInterval(5)) { lock.unlock(); return nil } }
        lock.unlock()
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let start = ContinuousClock.now
        for sent in 0..<count {
            lock.lock()
            while sent - acked >= window { lock.wait() }
            lock.unlock()
            var mid: Int32 = 0
            let rc = payload.withUnsafeBytes { mosquitto_publish(mosq, &mid, "bench/raw", Int32(size), $0.baseAddress, 1, false) }
            if rc != 0 { return nil }
        }
        lock.lock()
        while acked < count { lock.wait() }
        lock.unlock()
        return Double(count) / (ContinuousClock.now - start).seconds
    }
}
