import CModbus
import Foundation
import GatewayCore

/// The reference: a plain libmodbus loop reading `count` holding registers as fast as it can.
enum BareReadLoop {
    /// The loop on a thread started for it, as edgegw starts a thread per bus: reads for
    /// `warmUp` seconds unmeasured (edgegw's phase connects and polls as long before its clock
    /// starts), then measures for `seconds`.
    static func runOnOwnThread(host: String, port: Int, count: Int, warmUp: Double, seconds: Double) -> PhaseResult? {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<PhaseResult?>(nil)
        let thread = Thread {
            result.withLock { $0 = run(host: host, port: port, count: count, warmUp: warmUp, seconds: seconds) }
            done.signal()
        }
        thread.start()
        done.wait()
        return result.withLock { $0 }
    }

    /// Registers per second and CPU per register, or nil when the server cannot be reached.
    static func run(host: String, port: Int, count: Int, warmUp: Double = 0, seconds: Double) -> PhaseResult? {
        guard let context = modbus_new_tcp_pi(host, String(port)) else { return nil }
        defer { modbus_free(context) }
        modbus_set_slave(context, 1)
        guard modbus_connect(context) == 0 else { return nil }
        defer { modbus_close(context) }
        let buffer = UnsafeMutablePointer<UInt16>.allocate(capacity: count)
        defer { buffer.deallocate() }
        let warmUpStart = Date()
        while Date().timeIntervalSince(warmUpStart) < warmUp {
            guard modbus_read_registers(context, 0, Int32(count), buffer) == Int32(count) else { return nil }
        }
        var registers = 0
        let cpuStart = CPUTime.now()
        let start = Date()
        var elapsed = 0.0
        while elapsed < seconds {
            for _ in 0..<64 {
                guard modbus_read_registers(context, 0, Int32(count), buffer) == Int32(count) else { return nil }
                registers += count
            }
            elapsed = Date().timeIntervalSince(start)
        }
        let cpu = CPUTime.now() - cpuStart
        return PhaseResult(registersPerSecond: Double(registers) / elapsed, cpuPerThousand: cpu * 1e9 / Double(registers))
    }
}
