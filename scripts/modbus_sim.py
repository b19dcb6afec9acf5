#!/usr/bin/env python3
"""A Modbus slave (pymodbus 3.16.1) for edgegw's tests and `make demo`.

Serves one or more unit ids over TCP, RTU (a serial device, e.g. one end of a socat pty
pair) or RTU frames over TCP. Two optional roles:

  --meter    a simulated three-phase power meter whose values change every second; its
             register map matches etc/edgegw/devices/power-meter.toml.
  --control  a line protocol on stdin/stdout for tests (one reply line per command):
               set UNIT TABLE ADDRESS V1 [V2 ...]   -> ok
               get UNIT TABLE ADDRESS COUNT         -> values V1 V2 ...
               requests                             -> requests [[unit, fc, address, count, time], ...] (JSON)
               packets                              -> packets [["recv"|"send", HEX], ...] (JSON: the frames as they
                                                   crossed the wire, the answers after any mode)
               reset                                -> ok        (forgets the request and packet logs)
               mode UNIT ok|silent|badcrc|wrongunit|short -> ok  (silent: no answer; badcrc: RTU answers
                                                   with a broken CRC; wrongunit: RTU answers as another
                                                   unit; short: answers lose their last 3 bytes)
               exception UNIT ADDRESS CODE          -> ok        (every request of UNIT that starts at ADDRESS
                                                   is answered with exception CODE, a register that always
                                                   refuses; CODE 0 answers it normally again)
               quit                                 -> bye
             TABLE is coil, discrete, holding or input; ADDRESS is the protocol address (0-based).

Prints "ready" on stdout once it listens. Units not listed get no answer at all (a dead slave).
"""

import argparse
import asyncio
import json
import math
import sys
import threading
import time

from pymodbus import FramerType
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

# Function code pymodbus uses to pick a table in async_getValues/async_setValues.
TABLE_FC = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}
TABLE_SIZE = 10000


def build_context(units):
    devices = {}
    for unit in units:
        # ModbusSequentialDataBlock addresses are 1-based: 1 maps to protocol address 0.
        devices[unit] = ModbusDeviceContext(
            co=ModbusSequentialDataBlock(1, [False] * TABLE_SIZE),
            di=ModbusSequentialDataBlock(1, [False] * TABLE_SIZE),
            hr=ModbusSequentialDataBlock(1, [0] * TABLE_SIZE),
            ir=ModbusSequentialDataBlock(1, [0] * TABLE_SIZE),
        )
    return ModbusServerContext(devices=devices, single=False)


def crc16(frame):
    """Modbus RTU CRC, low byte first."""
    crc = 0xFFFF
    for byte in frame:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


class RequestLog:
    """Every request the server saw, for tests that count reads; also silences or breaks the
    answers of units, so that a unit can die and come back without restarting the peer."""

    def __init__(self, units, rtu_framing):
        self.lock = threading.Lock()
        self.entries = []
        self.packets = []
        self.served = set(units)
        self.modes = {}
        self.exceptions = {}  # (unit, address) -> exception code
        self.rtu_framing = rtu_framing
        self.sending_unit = None
        self.request_address = None

    def trace_pdu(self, sending, pdu):
        if sending:
            self.sending_unit = pdu.dev_id
        else:
            entry = [pdu.dev_id, pdu.function_code, getattr(pdu, "address", -1), getattr(pdu, "count", -1), time.time()]
            self.request_address = entry[2]
            with self.lock:
                self.entries.append(entry)
        return pdu

    def trace_packet(self, sending, data):
        if not sending:
            with self.lock:
                self.packets.append(["recv", data.hex()])
            return data
        data = self.answer(data)
        with self.lock:
            self.packets.append(["send", data.hex()])
        return data

    def answer(self, data):
        unit = self.sending_unit
        # pymodbus answers a unit it does not serve with exception 4; a real bus stays silent.
        if unit not in self.served:
            return b""
        mode = self.modes.get(unit, "ok")
        if mode == "silent":
            return b""
        if mode == "badcrc" and len(data) > 2:
            return data[:-1] + bytes([data[-1] ^ 0xFF])
        if mode == "wrongunit" and len(data) > 2:
            # An RTU answer from another unit, with a valid CRC.
            frame = bytes([(data[0] + 1) % 248]) + data[1:-2]
            return frame + crc16(frame)
        if mode == "short" and len(data) > 4:
            return data[:-3]
        code = self.exceptions.get((unit, self.request_address))
        if code:
            return self.exception_frame(data, code)
        return data

    def exception_frame(self, data, code):
        """The answer `data` turned into an exception response with `code`, framed alike."""
        if self.rtu_framing:
            frame = bytes([data[0], data[1] | 0x80, code])
            return frame + crc16(frame)
        # MBAP header: transaction (2), protocol (2), length (2, unit id + PDU), unit id (1).
        return data[0:4] + (3).to_bytes(2, "big") + data[6:7] + bytes([data[7] | 0x80, code])


    def take(self):
        with self.lock:
            return list(self.entries)

    def take_packets(self):
        with self.lock:
            return list(self.packets)

    def reset(self):
        with self.lock:
            self.entries = []
            self.packets = []


def float32_registers(value):
    import struct
    raw = struct.pack(">f", value)
    return [int.from_bytes(raw[0:2], "big"), int.from_bytes(raw[2:4], "big")]


async def run_meter(server, unit):
    """Changes the meter's values every second (map: etc/edgegw/devices/power-meter.toml)."""
    started = time.time()
    energy = 0.0
    serial = b"PM100-000001".ljust(16, b"\0")
    await server.async_setValues(unit, TABLE_FC["holding"], 10, [serial[i] << 8 | serial[i + 1] for i in range(0, 16, 2)])
    await server.async_setValues(unit, TABLE_FC["holding"], 0, [100, 0, 0x0001, 0, 500])  # ct_ratio, -, running, -, power_limit
    while True:
        t = time.time() - started
        voltage = 230.0 + 3.0 * math.sin(t / 10.0)
        current = 5.0 + 2.0 * math.sin(t / 7.0)
        power = voltage * current
        energy += power / 3600.0 / 1000.0
        frequency = round((50.0 + 0.05 * math.sin(t / 5.0)) * 100)
        regs = float32_registers(voltage) + float32_registers(current) + float32_registers(power)
        await server.async_setValues(unit, TABLE_FC["input"], 0, regs)
        await server.async_setValues(unit, TABLE_FC["input"], 6, [frequency])
        wh = int(energy * 1000)
        await server.async_setValues(unit, TABLE_FC["input"], 8, [(wh >> 16) & 0xFFFF, wh & 0xFFFF])
        await asyncio.sleep(1.0)


def control_loop(server, loop, log, stop):
    def call(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=5)

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "set":
                unit, table, address = int(words[1]), TABLE_FC[words[2]], int(words[3])
                values = [int(w, 0) for w in words[4:]]
                if table in (1, 2):
                    values = [bool(v) for v in values]
                call(server.async_setValues(unit, table, address, values))
                reply = "ok"
            elif words[0] == "get":
                unit, table, address, count = int(words[1]), TABLE_FC[words[2]], int(words[3]), int(words[4])
                values = call(server.async_getValues(unit, table, address, count))
                reply = "values " + " ".join(str(int(v)) for v in values)
            elif words[0] == "requests":
                reply = "requests " + json.dumps(log.take())
            elif words[0] == "packets":
                reply = "packets " + json.dumps(log.take_packets())
            elif words[0] == "mode":
                if words[2] not in ("ok", "silent", "badcrc", "wrongunit", "short"):
                    raise ValueError("mode is ok, silent, badcrc, wrongunit or short")
                log.modes[int(words[1])] = words[2]
                reply = "ok"
            elif words[0] == "exception":
                unit, address, code = int(words[1]), int(words[2]), int(words[3], 0)
                if code:
                    log.exceptions[(unit, address)] = code
                else:
                    log.exceptions.pop((unit, address), None)
                reply = "ok"
            elif words[0] == "reset":
                log.reset()
                reply = "ok"
            elif words[0] == "quit":
                print("bye", flush=True)
                break
            else:
                reply = "error unknown command"
        except Exception as error:  # a bad line must not stop the peer
            reply = f"error {error}"
        print(reply, flush=True)
    loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tcp", type=int, help="TCP port on 127.0.0.1")
    parser.add_argument("--rtu", help="serial device for RTU")
    parser.add_argument("--rtu-over-tcp", type=int, help="TCP port on 127.0.0.1 carrying RTU frames")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--units", default="1", help="comma-separated unit ids served")
    parser.add_argument("--meter", action="store_true", help="simulate a power meter on the first unit")
    parser.add_argument("--control", action="store_true", help="read control commands from stdin")
    args = parser.parse_args()

    units = [int(u) for u in args.units.split(",") if u]
    context = build_context(units)
    log = RequestLog(units, rtu_framing=bool(args.rtu or args.rtu_over_tcp))
    if args.tcp:
        server = ModbusTcpServer(context, address=("127.0.0.1", args.tcp), ignore_missing_devices=True,
                                 trace_pdu=log.trace_pdu, trace_packet=log.trace_packet)
    elif args.rtu_over_tcp:
        server = ModbusTcpServer(context, address=("127.0.0.1", args.rtu_over_tcp), framer=FramerType.RTU,
                                 ignore_missing_devices=True, trace_pdu=log.trace_pdu, trace_packet=log.trace_packet)
    elif args.rtu:
        server = ModbusSerialServer(context, port=args.rtu, baudrate=args.baud, ignore_missing_devices=True,
                                    trace_pdu=log.trace_pdu, trace_packet=log.trace_packet)
    else:
        parser.error("give --tcp PORT, --rtu DEVICE or --rtu-over-tcp PORT")
    await server.serve_forever(background=True)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    tasks = []
    stop = loop.create_future()
    if args.meter:
        tasks.append(asyncio.create_task(run_meter(server, units[0])))
    if args.control:
        threading.Thread(target=control_loop, args=(server, loop, log, stop), daemon=True).start()
    try:
        await stop
    finally:
        for task in tasks:
            task.cancel()
        await server.shutdown()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
