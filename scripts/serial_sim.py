#!/usr/bin/env python3
"""A simulated serial field device for edgegw's tests and `make demo`: the tank-level sensor of
etc/edgegw/products/level-sensor.toml on an RS-232/RS-485 line (framed binary, not Modbus).

It shares no code with edgegw: the framing, the CRC and the payloads are written out here again,
so a test that passes proves the gateway and this device agree on the wire, not that one piece
of code agrees with itself.

Frame on the wire:

  AA 55 | address (1) | length (1, the payload's) | payload | CRC-16/MODBUS over address..payload,
  low byte first (poly 0xA001 reflected, init 0xFFFF, check value 0x4B37)

Payloads (big-endian):

  uplink   01 | level int16u (0.01 m) | temperature int16s (0.1 Cel) | alarm int8u    a reading
  uplink   02 | mid int16u | errcode int8u | threshold int16u (0.01 m)              SET_THRESHOLD's result
  downlink 81                                                                       READ (the poll request)
  downlink 82 | mid int16u | threshold int16u (0.01 m)                              SET_THRESHOLD

The device answers only frames addressed to it (--address). READ is answered with a reading;
SET_THRESHOLD with errcode 0 and the new threshold, or errcode 1 and the threshold still in
force when the request is above --max-threshold. Other frames are ignored (logged with --verbose).

Modes:
  --mode polled        answers READ and SET_THRESHOLD (default)
  --mode unsolicited   also sends a reading every --interval seconds, the first at once
  --line-rate BAUD     (with unsolicited) readings back to back, paced to what an 8N1 line at BAUD
                       carries (10 bits a byte), scheduled against the start time; stops after
                       --count frames or --duration seconds
  --flood              (with unsolicited) readings back to back with no pacing, many to a write, as
                       fast as the line takes them (a pty has no baud rate): clean frames only, no
                       --noise or --corrupt; stops after --count frames or --duration seconds
  --babble             random bytes as fast as the line takes them, nothing else (hostile input)

Faults: --echo writes every received byte straight back (a 2-wire RS-485 adapter hearing its own
transmission); --noise RATE puts a burst of 1-20 random bytes before a frame with probability
RATE; --corrupt RATE flips one bit of a frame (address, payload or CRC: the frame keeps its shape
and only the CRC tells) with probability RATE. --seed makes noise, corruption and babble repeatable.

The receiver resynchronises after garbage: it scans for AA 55, waits for the length the candidate
declares, checks the CRC, and on a bad candidate drops one byte and scans again; a candidate that
stays incomplete for --frame-gap seconds is dropped the same way.

Standard output carries lines for tests, each flushed:
  ready          the port is open (printed once)
  unplugged      the line went away (socat killed: EOF, HUP or EIO); the device waits for the path
  reopened       the path came back and is open again
  {...}          on exit (SIGTERM, SIGINT, --count or --duration reached), one JSON summary:
                 {"sent": frames, "seconds": since the port first opened, "bytes": bytes transmitted
                  (frames and noise, not echo), "readings", "answered", "received", "ignored",
                  "rejected", "garbage", "noise_bursts", "noise_bytes", "corrupted", "echoed",
                  "unplugs", and with --line-rate "max_lag_ms": how far sending fell behind the line}
With --verbose, one line per event goes to standard error.

A Modbus RTU slave on the same line (--modbus-unit N): the port then carries two kinds of device,
as an RS-485 bus with a meter and this sensor does. Function 3 and 4 requests (8 bytes, CRC
checked) for unit N are answered with registers whose value is 1000 + their address; everything
else on the line is ignored by that slave. A request that arrives while an answer of the other
kind is being written would have collided on a real bus: counted as "collisions".

Exit status: 0 when stopped or done, 2 when the port cannot be opened within --open-timeout.

Example (the gateway opens /tmp/line/gw, the device the other end):
  socat -d -d pty,raw,echo=0,link=/tmp/line/gw pty,raw,echo=0,link=/tmp/line/dev &
  scripts/serial_sim.py --port /tmp/line/dev --mode unsolicited --interval 5 --vary
"""

import argparse
import binascii
import functools
import json
import os
import random
import select
import signal
import struct
import termios
import time
import tty

SYNC = b"\xAA\x55"
READING = 0x01
COMMAND_RESPONSE = 0x02
READ = 0x81
SET_THRESHOLD = 0x82
READ_CHUNK = 4096
BABBLE_CHUNK = 1024
REOPEN_POLL = 0.1
FLOOD_BATCH = 512  # frames a write with --flood


def crc16(data):
    """CRC-16/MODBUS: reflected poly 0xA001, init 0xFFFF, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@functools.lru_cache(maxsize=4096)  # the same reading again and again (--flood): each frame built once
def encode_frame(address, payload):
    body = bytes([address, len(payload)]) + payload
    return SYNC + body + struct.pack("<H", crc16(body))


class Stop(Exception):
    """SIGTERM or SIGINT arrived."""


class Unplugged(Exception):
    """The other end of the pty went away."""


class OpenFailed(Exception):
    """The port did not appear within --open-timeout."""


def hexs(data):
    return binascii.hexlify(bytes(data), " ").decode()


class Log:
    def __init__(self, address, verbose):
        self.prefix = f"serial_sim[{address}]"
        self.verbose = verbose
        self.started = time.monotonic()

    def event(self, message):
        if self.verbose:
            self.always(message)

    def always(self, message):
        line = f"{time.monotonic() - self.started:9.3f} {self.prefix} {message}\n"
        try:
            os.write(2, line.encode())  # one write a line: lines never interleave with stdout's
        except OSError:
            pass


def say(line):
    """A line on stdout for the test that runs us, written at once."""
    try:
        os.write(1, (line + "\n").encode())
    except OSError:
        pass


class Receiver:
    """Frames out of a byte stream, resynchronising after garbage."""

    def __init__(self, gap):
        self.buffer = bytearray()
        self.gap = gap
        self.last_byte = 0.0
        self.rejected = 0  # candidates (AA 55 ...) dropped: bad CRC or stale
        self.garbage = 0  # bytes skipped while looking for AA 55

    def reset(self):
        self.buffer.clear()

    def feed(self, data, now):
        self.buffer += data
        self.last_byte = now
        return self.scan()

    def scan(self):
        frames = []
        buffer = self.buffer
        while True:
            start = buffer.find(SYNC)
            if start < 0:
                keep = 1 if buffer[-1:] == SYNC[:1] else 0
                self.garbage += len(buffer) - keep
                del buffer[:len(buffer) - keep]
                return frames
            if start:
                self.garbage += start
                del buffer[:start]
            if len(buffer) < 4:
                return frames
            length = buffer[3]  # one byte: at most 255 by construction
            total = 4 + length + 2
            if len(buffer) < total:
                return frames
            body = bytes(buffer[2:4 + length])
            (crc,) = struct.unpack_from("<H", buffer, 4 + length)
            if crc16(body) != crc:
                self.rejected += 1
                del buffer[:1]
                continue
            frames.append((body[0], body[2:]))
            del buffer[:total]

    def deadline(self):
        """When an incomplete candidate goes stale, or None."""
        return self.last_byte + self.gap if self.buffer.startswith(SYNC) else None

    def expire(self, now):
        frames = []
        while self.buffer.startswith(SYNC) and now >= self.last_byte + self.gap:
            self.rejected += 1
            del self.buffer[:1]
            frames += self.scan()
        return frames


class ModbusSlave:
    """A Modbus RTU slave answering reads of holding (3) and input (4) registers for one unit."""

    def __init__(self, unit):
        self.unit = unit
        self.buffer = bytearray()
        self.answered = 0

    def feed(self, data):
        """The answers to the complete requests in the stream so far."""
        self.buffer += data
        answers = []
        while len(self.buffer) >= 8:
            request = bytes(self.buffer[:8])
            (crc,) = struct.unpack_from("<H", request, 6)
            if request[0] == self.unit and request[1] in (3, 4) and crc16(request[:6]) == crc:
                address, count = struct.unpack_from(">HH", request, 2)
                if 1 <= count <= 125:
                    body = bytes([self.unit, request[1], 2 * count]) + b"".join(
                        struct.pack(">H", (1000 + address + i) & 0xFFFF) for i in range(count))
                    answers.append(body + struct.pack("<H", crc16(body)))
                    self.answered += 1
                del self.buffer[:8]
            else:
                del self.buffer[:1]
        return answers


class Sensor:
    """The level sensor's state and payloads."""

    def __init__(self, args):
        self.level = round(args.level * 100)
        self.temperature = round(args.temperature * 10)
        self.alarm = args.alarm
        self.threshold = round(args.threshold * 100)
        self.max_threshold = round(args.max_threshold * 100)
        self.vary = args.vary

    def out_of_range(self):
        """The first option whose value does not fit its field, or None."""
        for name, value, low, high, span in (("--level", self.level, 0, 0xFFFF, "0 to 655.35 m"),
                                             ("--temperature", self.temperature, -0x8000, 0x7FFF, "-3276.8 to 3276.7"),
                                             ("--alarm", self.alarm, 0, 0xFF, "0 to 255"),
                                             ("--threshold", self.threshold, 0, 0xFFFF, "0 to 655.35 m")):
            if not low <= value <= high:
                return f"{name} is outside its field's range ({span})"
        return None

    def reading(self):
        payload = struct.pack(">BHhB", READING, self.level, self.temperature, self.alarm)
        described = f"reading level={self.level / 100:.2f} temperature={self.temperature / 10:.1f} alarm={self.alarm}"
        if self.vary:
            self.level = (self.level + 1) & 0xFFFF
        return payload, described

    def answer(self, payload):
        """The answer to a downlink payload: (payload, description), or (None, why it is ignored)."""
        if not payload:
            return None, "empty payload"
        if payload[0] == READ:
            if len(payload) != 1:
                return None, f"READ with {len(payload)} bytes, not 1"
            return self.reading()
        if payload[0] == SET_THRESHOLD:
            if len(payload) != 5:
                return None, f"SET_THRESHOLD with {len(payload)} bytes, not 5"
            _, mid, threshold = struct.unpack(">BHH", payload)
            errcode = 1 if threshold > self.max_threshold else 0
            if errcode == 0:
                self.threshold = threshold
            response = struct.pack(">BHBH", COMMAND_RESPONSE, mid, errcode, self.threshold)
            return response, f"SET_THRESHOLD mid={mid} threshold={threshold / 100:.2f} -> errcode={errcode} threshold={self.threshold / 100:.2f}"
        return None, f"unknown message id 0x{payload[0]:02x}"


class Port:
    """The device's end of the line: a pty (or tty) opened raw, non-blocking."""

    def __init__(self, path, wakeup):
        self.path = path
        self.wakeup = wakeup
        self.fd = None

    def open(self, timeout):
        """Opens the path, retrying while it is missing; timeout None waits until stopped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            except OSError as error:
                if deadline is not None and time.monotonic() >= deadline:
                    raise OpenFailed(f"cannot open {self.path}: {error.strerror} (waited {timeout:g} s;"
                                     f" is socat running with link={self.path}?)") from None
                self.pause(REOPEN_POLL)
                continue
            try:
                tty.setraw(fd)
                termios.tcflush(fd, termios.TCIOFLUSH)  # a device powered on now heard nothing before
            except termios.error:
                os.close(fd)  # the pty vanished between open and set-up: try again
                self.pause(REOPEN_POLL)
                continue
            self.fd = fd
            return

    def pause(self, seconds):
        poller = select.poll()
        poller.register(self.wakeup, select.POLLIN)
        if poller.poll(seconds * 1000):
            raise Stop()

    def close(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    def read(self):
        try:
            data = os.read(self.fd, READ_CHUNK)
        except BlockingIOError:
            return b""
        except OSError as error:
            raise Unplugged(error.strerror) from None
        if not data:
            raise Unplugged("end of file")
        return data

    def write_all(self, data, on_input=None):
        """Writes all of `data`, waiting for room; input arriving meanwhile goes to `on_input`
        (a reader blocked on our writes must not block us in turn)."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
                view = view[written:]
                continue
            except BlockingIOError:
                pass
            except OSError as error:
                raise Unplugged(error.strerror) from None
            poller = select.poll()
            poller.register(self.fd, select.POLLOUT | select.POLLIN)
            poller.register(self.wakeup, select.POLLIN)
            for fd, events in poller.poll(100):
                if fd == self.wakeup:
                    raise Stop()
                if events & select.POLLIN and on_input is not None:
                    on_input(self.read())
                elif events & (select.POLLHUP | select.POLLERR):
                    raise Unplugged("hang-up")


class Simulator:
    def __init__(self, args, wakeup):
        self.args = args
        self.wakeup = wakeup
        self.log = Log(args.address, args.verbose)
        self.port = Port(args.port, wakeup)
        self.sensor = Sensor(args)
        self.receiver = Receiver(args.frame_gap)
        self.modbus = ModbusSlave(args.modbus_unit) if args.modbus_unit is not None else None
        self.rng = random.Random(args.seed)
        self.pending = []  # frames received while a write waited, answered after it
        self.counts = dict(sent=0, bytes=0, readings=0, answered=0, received=0, ignored=0, noise_bursts=0,
                           noise_bytes=0, corrupted=0, echoed=0, unplugs=0)
        self.max_lag = 0.0
        self.line_anchor = (0.0, 0)  # (time, bytes sent by then): --line-rate schedules against it
        self.started = None
        self.finished = None

    # -- sending

    def transmit(self, data):
        self.port.write_all(data, on_input=self.take_input)
        self.counts["bytes"] += len(data)

    def send(self, payload, described):
        frame = encode_frame(self.args.address, payload)
        if self.args.noise and self.rng.random() < self.args.noise:
            burst = self.rng.randbytes(self.rng.randint(1, 20))
            self.transmit(burst)
            self.counts["noise_bursts"] += 1
            self.counts["noise_bytes"] += len(burst)
            self.log.event(f"tx noise {hexs(burst)}")
        if self.args.corrupt and self.rng.random() < self.args.corrupt:
            wire = bytearray(frame)
            # Address, payload or CRC; never the sync bytes or the length, so the frame keeps its
            # shape and only its CRC says it is broken.
            index = self.rng.choice([2] + list(range(4, len(wire))))
            bit = self.rng.randrange(8)
            wire[index] ^= 1 << bit
            frame = bytes(wire)
            self.counts["corrupted"] += 1
            described += f" (corrupted: byte {index} bit {bit})"
        self.transmit(frame)
        self.counts["sent"] += 1
        if payload[0] == READING:
            self.counts["readings"] += 1
        self.log.event(f"tx {described}: {hexs(frame)}")

    def send_reading(self):
        self.send(*self.sensor.reading())

    # -- receiving

    def take_input(self, data):
        if not data:
            return
        if self.args.echo:
            # What the gateway wrote comes back as it arrives, before any answer.
            self.port.write_all(data)
            self.counts["echoed"] += len(data)
        self.log.event(f"rx {hexs(data)}")
        self.receive(self.receiver.feed, data, time.monotonic())
        if self.modbus:
            for answer in self.modbus.feed(data):
                self.transmit(answer)
                self.log.event(f"tx modbus answer: {hexs(answer)}")

    def receive(self, step, *arguments):
        """Runs a receiver step, keeping the frames it completes and logging what it dropped."""
        rejected, garbage = self.receiver.rejected, self.receiver.garbage
        self.pending += step(*arguments)
        if self.receiver.garbage > garbage:
            self.log.event(f"skipped {self.receiver.garbage - garbage} byte(s) looking for AA 55")
        if self.receiver.rejected > rejected:
            self.log.event(f"dropped {self.receiver.rejected - rejected} bad or stale candidate(s)")

    def handle_pending(self):
        while self.pending:
            address, payload = self.pending.pop(0)
            self.counts["received"] += 1
            if address != self.args.address:
                self.counts["ignored"] += 1
                self.log.event(f"frame for address {address} ignored: {hexs(payload)}")
                continue
            answer, described = self.sensor.answer(payload)
            if answer is None:
                self.counts["ignored"] += 1
                self.log.event(f"frame ignored ({described}): {hexs(payload)}")
                continue
            self.counts["answered"] += 1
            self.send(answer, described)

    # -- the loop

    def run(self):
        self.port.open(self.args.open_timeout)
        self.started = time.monotonic()
        self.log.event(f"open {self.args.port}")
        say("ready")
        while True:
            try:
                if self.args.babble:
                    self.babble()
                elif self.args.flood:
                    self.flood()
                else:
                    self.serve()
                return
            except Unplugged as why:
                self.counts["unplugs"] += 1
                self.log.event(f"unplugged ({why}); waiting for {self.args.port}")
                say("unplugged")
                self.port.close()
                self.receiver.reset()
                self.pending.clear()
                self.port.open(None)
                self.log.event(f"reopened {self.args.port}")
                say("reopened")

    def done(self, now):
        if self.args.count is not None and self.counts["readings"] >= self.args.count:
            return True
        return self.args.duration is not None and now - self.started >= self.args.duration

    def serve(self):
        args = self.args
        unsolicited = args.mode == "unsolicited"
        rate = args.line_rate
        next_reading = time.monotonic()
        # Against the start (or the reopening): frame n goes when the line has carried every
        # byte before it, so pacing does not drift with the time each frame takes to send.
        self.line_anchor = (next_reading, self.counts["bytes"])
        poller = select.poll()
        poller.register(self.port.fd, select.POLLIN)
        poller.register(self.wakeup, select.POLLIN)
        while True:
            now = time.monotonic()
            if self.done(now):
                if rate:
                    self.wait_until(self.line_time())  # the last byte leaves the line then
                self.finished = time.monotonic()
                return
            deadlines = [d for d in (self.receiver.deadline(),) if d is not None]
            if unsolicited:
                deadlines.append(next_reading)
            if args.duration is not None:
                deadlines.append(self.started + args.duration)
            timeout = None if not deadlines else max(0.0, (min(deadlines) - now) * 1000)
            for fd, events in poller.poll(timeout):
                if fd == self.wakeup:
                    raise Stop()
                if events & select.POLLIN:
                    self.take_input(self.port.read())
                elif events & (select.POLLHUP | select.POLLERR):
                    raise Unplugged("hang-up")
            now = time.monotonic()
            if self.receiver.deadline() is not None and now >= self.receiver.deadline():
                self.receive(self.receiver.expire, now)
            self.handle_pending()
            if unsolicited and now >= next_reading and not self.done(now):
                if rate:
                    self.max_lag = max(self.max_lag, now - next_reading)
                self.send_reading()
                if rate:
                    next_reading = self.line_time()
                else:
                    next_reading = max(next_reading + args.interval, now)

    def line_time(self):
        """When an 8N1 line at --line-rate has carried every byte sent since the anchor."""
        moment, sent = self.line_anchor
        return moment + (self.counts["bytes"] - sent) * 10 / self.args.line_rate

    def wait_until(self, moment):
        remaining = moment - time.monotonic()
        if remaining > 0:
            self.port.pause(remaining)

    def flood(self):
        """Readings back to back, FLOOD_BATCH frames a write, as fast as the line takes them."""
        address = self.args.address
        while not self.done(time.monotonic()):
            batch = FLOOD_BATCH
            if self.args.count is not None:
                batch = min(batch, self.args.count - self.counts["readings"])
            frames = [encode_frame(address, self.sensor.reading()[0]) for _ in range(batch)]
            self.transmit(b"".join(frames))
            self.counts["sent"] += batch
            self.counts["readings"] += batch
            self.log.event(f"tx {batch} readings ({sum(map(len, frames))} bytes)")
            self.handle_pending()
        self.finished = time.monotonic()

    def babble(self):
        poller = select.poll()
        poller.register(self.port.fd, select.POLLIN | select.POLLOUT)
        poller.register(self.wakeup, select.POLLIN)
        while not self.done(time.monotonic()):
            for fd, events in poller.poll(100):
                if fd == self.wakeup:
                    raise Stop()
                if events & select.POLLIN:
                    data = self.port.read()
                    self.counts["received"] += len(data)
                elif events & (select.POLLHUP | select.POLLERR):
                    raise Unplugged("hang-up")
                if events & select.POLLOUT:
                    try:
                        written = os.write(self.port.fd, self.rng.randbytes(BABBLE_CHUNK))
                    except BlockingIOError:
                        continue
                    except OSError as error:
                        raise Unplugged(error.strerror) from None
                    self.counts["bytes"] += written
        self.finished = time.monotonic()

    def summary(self):
        end = self.finished or time.monotonic()
        result = dict(self.counts)
        result["seconds"] = round(end - self.started, 6) if self.started is not None else 0.0
        result["rejected"] = self.receiver.rejected
        result["garbage"] = self.receiver.garbage
        if self.modbus:
            result["modbus_answered"] = self.modbus.answered
        if self.args.line_rate:
            result["max_lag_ms"] = round(self.max_lag * 1000, 3)
        ordered = {key: result.pop(key) for key in ("sent", "seconds", "bytes")}
        ordered.update(result)
        return ordered


def rate(text):
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a probability between 0 and 1")
    return value


def positive(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", required=True, help="the device's end of the line (a socat pty link)")
    parser.add_argument("--address", type=int, default=1, help="the device's address, 0-255 (default 1)")
    parser.add_argument("--mode", choices=("polled", "unsolicited"), default="polled")
    parser.add_argument("--interval", type=positive, default=1.0, help="seconds between unsolicited readings (default 1)")
    parser.add_argument("--level", type=float, default=2.5, help="metres, 0.01 m steps (default 2.5)")
    parser.add_argument("--temperature", type=float, default=21.5, help="Cel, 0.1 steps (default 21.5)")
    parser.add_argument("--alarm", type=int, default=0, help="0-255 (default 0)")
    parser.add_argument("--vary", action="store_true", help="the level rises by 0.01 m after each reading")
    parser.add_argument("--threshold", type=float, default=0.0, help="threshold in force at start, metres (default 0)")
    parser.add_argument("--max-threshold", type=float, default=100.0,
                        help="SET_THRESHOLD above this is refused with errcode 1 (default 100 m)")
    parser.add_argument("--echo", action="store_true", help="write every received byte back at once (RS-485 echo)")
    parser.add_argument("--noise", type=rate, default=0.0, help="probability of 1-20 random bytes before a frame")
    parser.add_argument("--corrupt", type=rate, default=0.0, help="probability of one flipped bit in a frame")
    parser.add_argument("--babble", action="store_true", help="random bytes without pause, nothing else")
    parser.add_argument("--seed", type=int, help="seed for noise, corruption and babble (default: random)")
    parser.add_argument("--line-rate", type=int, metavar="BAUD",
                        help="unsolicited readings back to back at what an 8N1 line at BAUD carries")
    parser.add_argument("--flood", action="store_true",
                        help="unsolicited readings back to back with no pacing, many to a write")
    parser.add_argument("--count", type=int, help="stop after this many readings")
    parser.add_argument("--duration", type=positive, help="stop after this many seconds")
    parser.add_argument("--frame-gap", type=positive, default=0.05,
                        help="seconds an incomplete frame may wait for its next byte (default 0.05)")
    parser.add_argument("--open-timeout", type=float, default=10.0,
                        help="seconds to wait for --port to appear at start (default 10)")
    parser.add_argument("--modbus-unit", type=int, help="also a Modbus RTU slave with this unit id on the same line")
    parser.add_argument("--verbose", action="store_true", help="one line per event on stderr")
    args = parser.parse_args()

    if crc16(b"123456789") != 0x4B37:
        raise SystemExit("serial_sim: CRC-16/MODBUS self-check failed")
    if not 0 <= args.address <= 255:
        parser.error("--address is 0-255")
    if args.line_rate is not None:
        if args.line_rate <= 0:
            parser.error("--line-rate is a baud rate greater than 0")
        if args.mode != "unsolicited":
            parser.error("--line-rate needs --mode unsolicited")
    if args.flood:
        if args.mode != "unsolicited" or args.line_rate:
            parser.error("--flood needs --mode unsolicited and no --line-rate")
        if args.noise or args.corrupt:
            parser.error("--flood sends clean frames only: no --noise, no --corrupt")
    if args.count is not None and args.count < 0:
        parser.error("--count is 0 or more")
    if args.babble and (args.mode != "polled" or args.line_rate):
        parser.error("--babble sends nothing else: no --mode unsolicited, no --line-rate")
    problem = Sensor(args).out_of_range()
    if problem:
        parser.error(problem)

    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    stopping = []

    def stop(number, _frame):
        stopping.append(number)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a closed stdout must not kill the device

    simulator = Simulator(args, wake_read)
    try:
        simulator.run()
    except Stop:
        simulator.log.event("stopping on signal")
    except OpenFailed as error:
        simulator.log.always(str(error))
        raise SystemExit(2) from None
    finally:
        simulator.port.close()
    summary = simulator.summary()
    simulator.log.event("summary " + json.dumps(summary))
    say(json.dumps(summary))


if __name__ == "__main__":
    main()
