import Foundation
import GatewayCore
import Logging

/// One poll cycle on the bus thread: the reads of one poll group of one device, the points whose
/// words changed decoded, the schedule and health told how it went, and the values and status
/// changes handed to the service.
extension ModbusBus {
    func runCycle(device d: Int, group g: Int) {
        let start = clock.now
        let state = devices[d]
        let config = state.config
        var values: [(point: Int, value: JSONValue)] = []
        var answered = false
        var silent = false
        cycleSilence = .zero
        for (r, request) in state.plans[g].enumerated() {
            drainWrites()
            do {
                try read(request, device: d, group: g, index: r, into: &values)
                answered = true
                if let event = state.readFailures[g][r].succeeded() { log(event, config, request) }
            } catch {
                // Logged when a run of failures starts, changes or ends, never once per poll.
                if let event = state.readFailures[g][r].failed(error) { log(event, config, request) }
                if error.slaveAnswered {
                    answered = true
                } else {
                    // No answer: the rest of the cycle would only cost more timeouts.
                    silent = true
                    break
                }
            }
        }
        let end = clock.now
        let outcome = schedule.cycleEnded(device: d, group: g, started: start, ended: end,
                                          answered: answered, silent: silent, silence: cycleSilence)
        if outcome.overran {
            // Time spent waiting for a slave that did not answer is that slave's timeout (logged
            // as such), not a sign of an overloaded bus.
            let took = start.duration(to: end)
            let interval = config.pollGroups[g].interval
            let waited = cycleSilence > .zero ? " (\(cycleSilence.logText) of it waiting for answers that did not come)" : ""
            logger.warning("poll group \(config.pollGroups[g].name) took \(took.logText)\(waited), longer than its interval \(interval.logText); the bus is overloaded",
                           metadata: ["bus": "\(id)", "node": "\(config.nodeId)"])
        }
        let time = clock.wallTime()
        let health = schedule.health[d]
        let (goodReads, itemsRead) = (cycleGoodReads, cycleItemsRead)
        cycleGoodReads = 0
        cycleItemsRead = 0
        stats.withLock {
            $0.health[d] = health.state
            if goodReads > 0 {
                $0.bus.requests += goodReads; $0.bus.responses += goodReads; $0.bus.itemsRead += itemsRead; $0.bus.lastGoodRead = time
                $0.devices[d].requests += goodReads; $0.devices[d].responses += goodReads; $0.devices[d].itemsRead += itemsRead
                $0.devices[d].lastGoodRead = time
            }
        }
        switch outcome.health {
        case .reportOnline?:
            logger.notice("device online", metadata: ["bus": "\(id)", "node": "\(config.nodeId)"])
            onEvent(.status(nodeId: config.nodeId, status: .online, time: time))
        case .reportOffline?:
            logger.warning("device offline after \(health.consecutiveFailures) failed cycles",
                           metadata: ["bus": "\(id)", "node": "\(config.nodeId)"])
            onEvent(.status(nodeId: config.nodeId, status: .offline, time: time))
        case nil:
            break
        }
        if !values.isEmpty { onEvent(.values(nodeId: config.nodeId, values: values, time: time)) }
    }

    /// One planned read; the points whose words changed (or that have no value yet) are decoded
    /// into `values`.
    private func read(_ request: ModbusReadRequest, device d: Int, group g: Int, index r: Int,
                      into values: inout [(point: Int, value: JSONValue)]) throws(ModbusError) {
        let state = devices[d]
        let config = state.config
        let unit = config.unitId
        let registers = registerBuffer, bits = bitBuffer
        try self.request(device: d) { (connection) throws(ModbusError) in
            if request.table.holdsBits {
                try connection.readBits(unit: unit, table: request.table, address: request.address, count: request.count, into: bits)
            } else {
                try connection.readRegisters(unit: unit, table: request.table, address: request.address, count: request.count, into: registers)
            }
        }
        // Counted once per cycle (see runCycle), to keep the lock off the per-request path.
        cycleGoodReads += 1
        cycleItemsRead += request.count
        let holdsBits = request.table.holdsBits
        if holdsBits {
            for i in 0..<request.count { registers[i] = UInt16(bits[i]) }
        }
        if traceOn { trace(config, request, registers, bits: holdsBits) }
        let words = UnsafeBufferPointer(start: registers, count: request.count)
        state.changes.update(group: g, read: r, request: request, words: words) { index, from, count in
            let point = config.points[index]
            if holdsBits {
                values.append((index, PointCodec.decode(point: point, bit: registers[from] != 0)))
                return true
            }
            switch PointCodec.decode(point: point, registers: UnsafeBufferPointer(start: registers + from, count: count)) {
            case .success(let value):
                values.append((index, value))
                if let event = state.decodeFailures[index].succeeded() { log(event, config, point: index) }
                return true
            case .failure(let error):
                // Decoded again every poll until it works; logged when that starts and ends.
                if let event = state.decodeFailures[index].failed(error) { log(event, config, point: index) }
                return false
            }
        }
    }

    private func trace(_ config: ModbusDeviceConfig, _ request: ModbusReadRequest, _ words: UnsafeMutablePointer<UInt16>, bits: Bool) {
        let buffer = UnsafeBufferPointer(start: words, count: request.count)
        let data = bits ? buffer.map { $0 != 0 ? "1" : "0" }.joined() : buffer.map { String(format: "%04X", $0) }.joined(separator: " ")
        logger.notice("unit \(config.unitId) fc \(request.table.readFunction) address \(request.address) count \(request.count) -> \(data)",
                      metadata: ["bus": "\(id)"])
    }
}
