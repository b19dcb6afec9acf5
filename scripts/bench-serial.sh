#!/usr/bin/env bash
# Serial benchmark: level-sensor frames decoded by edgegw's serial path (SerialService, its port
# thread, the framer with etc/edgegw/devices/tank-level.toml's [framing], the product codec of
# etc/edgegw/products/level-sensor.toml) from the simulated sensor (scripts/serial_sim.py) on a
# socat pty pair, against what the line can carry and against a bare read loop on the same kind
# of pty, in the same run. Release build. Each phase has a fresh pty pair and sensor.
#
#   paced   the sensor sends back to back at what a BAUD line carries, 8N1 (10 bits a byte): for
#           12-byte frames at 115,200 baud, 960 frames/s. Decoded frames/s against the line's
#           frames/s (goal >= 0.95) and against what the sensor sent (its summary), CPU per frame.
#   flood   no pacing (a pty has no baud rate: bytes go as fast as socat relays them): how far
#           past the line edgegw's path goes, next to the bare loop's bytes/s counted in frames.
#
# The bare loop opens the port as edgegw does and only poll(2)s and read(2)s, counting bytes.
# Rates run from the first frame (read) to the last. CPU is the measuring process's (user +
# system, getrusage) from the port's opening to the end of the phase: at the line's rate that
# includes the wake-ups between frames, which is what a frame costs there.
# Exits non-zero when the median paced ratio is below 0.95, or edgegw decoded fewer than 0.95 of
# the frames the sensor sent at the line's rate.
#
# Flooded, edgegw may cut a frame now and then: the framer times the sample's gap (3.5 characters,
# 304 us at 115,200 baud) from read to read, and with a backlog one 4 KB read takes longer than
# that to decode, so a frame split across two reads looks cut by a silence. The script prints
# the port's counters when they are not zero.
#
#   scripts/bench-serial.sh [PACED_FRAMES] [FLOOD_FRAMES] [ROUNDS]      (BAUD=115200 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
PACED_FRAMES="${1:-5000}"
FLOOD_FRAMES="${2:-200000}"
ROUNDS="${3:-3}"
BAUD="${BAUD:-115200}"
WORK=.bench/serial
rm -rf "$WORK"
mkdir -p "$WORK"

# A reading on the wire: AA 55 | address | length | 01 level temperature alarm | CRC-16 (2).
FRAME_BYTES=$(( 2 + 1 + 1 + 6 + 2 ))
command -v socat >/dev/null || { echo "socat is not installed (apt-get install socat): the benchmark needs a pty pair"; exit 1; }

swift build -c release --product SerialBench >/dev/null
BIN="$(swift build -c release --show-bin-path 2>/dev/null)/SerialBench"

SOCAT="" BENCH=""
stop_children() {
    for pid in $BENCH $SOCAT; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    SOCAT="" BENCH=""
}
trap stop_children EXIT

# phase NAME MODE TARGET TIMEOUT SIMULATOR-OPTIONS...: socat, then SerialBench MODE on the gateway
# end (TARGET reports or bytes), then, once its port is open, the sensor on the other end.
# Leaves NAME/bench.json (SerialBench's line) and NAME/sim.json (the sensor's summary).
phase() {
    local name=$1 mode=$2 target=$3 timeout=$4
    shift 4
    local dir="$WORK/$name"
    mkdir -p "$dir"
    socat pty,raw,echo=0,link="$dir/gw" pty,raw,echo=0,link="$dir/dev" 2>"$dir/socat.log" &
    SOCAT=$!
    for _ in $(seq 100); do [ -e "$dir/gw" ] && [ -e "$dir/dev" ] && break; sleep 0.05; done
    [ -e "$dir/gw" ] || { echo "socat made no pty pair:"; cat "$dir/socat.log"; exit 1; }
    "$BIN" "$mode" "$dir/gw" "$target" --baud "$BAUD" --timeout "$timeout" >"$dir/bench.json" 2>"$dir/bench.log" &
    BENCH=$!
    for _ in $(seq 200); do grep -qs '^ready' "$dir/bench.log" && break; kill -0 "$BENCH" 2>/dev/null || break; sleep 0.05; done
    grep -q '^ready' "$dir/bench.log" || { echo "SerialBench $mode did not open $dir/gw:"; cat "$dir/bench.log"; exit 1; }
    python3 scripts/serial_sim.py --port "$dir/dev" --mode unsolicited "$@" >"$dir/sim.out" 2>"$dir/sim.log"
    tail -1 "$dir/sim.out" >"$dir/sim.json"
    wait "$BENCH" || { echo "SerialBench $mode failed:"; cat "$dir/bench.log"; exit 1; }
    BENCH=""
    kill "$SOCAT" 2>/dev/null || true
    wait "$SOCAT" 2>/dev/null || true
    SOCAT=""
}

LINE_FPS=$(python3 -c "print($BAUD / (10 * $FRAME_BYTES))")
PACED_TIMEOUT=$(python3 -c "print(int($PACED_FRAMES / $LINE_FPS) + 30)")
echo "== serial benchmark: level-sensor frames of $FRAME_BYTES bytes on one pty, $BAUD baud 8N1 (the line carries $LINE_FPS frames/s); $PACED_FRAMES frames paced, $FLOOD_FRAMES flooded, $ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
    phase "$round-paced-bare" bare $(( PACED_FRAMES * FRAME_BYTES )) "$PACED_TIMEOUT" --line-rate "$BAUD" --count "$PACED_FRAMES"
    phase "$round-paced-edgegw" edgegw "$PACED_FRAMES" "$PACED_TIMEOUT" --line-rate "$BAUD" --count "$PACED_FRAMES" --vary
    phase "$round-flood-bare" bare $(( FLOOD_FRAMES * FRAME_BYTES )) 120 --flood --count "$FLOOD_FRAMES"
    phase "$round-flood-edgegw" edgegw "$FLOOD_FRAMES" 120 --flood --count "$FLOOD_FRAMES" --vary
done

python3 - "$WORK" "$ROUNDS" "$FRAME_BYTES" "$LINE_FPS" <<'PY'
import json, statistics, sys
work, rounds, frame_bytes, line_fps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])

def load(name):
    with open(f"{work}/{name}/bench.json") as f:
        bench = json.load(f)
    with open(f"{work}/{name}/sim.json") as f:
        sim = json.load(f)
    return bench, sim

def row(bench, sim):
    """frames/s, frames lost, CPU us per frame, the sensor's frames/s, bytes per frame it sent."""
    sent_fps = sim["sent"] / sim["seconds"] if sim["seconds"] else 0.0
    if bench["path"] == "bare":
        fps = bench["bytes_per_second"] / frame_bytes
        lost = (bench["target"] - bench["bytes"]) / frame_bytes
        cpu = bench["cpu_ns_per_byte"] * frame_bytes / 1000
    else:
        fps = bench["frames_per_second"]
        lost = bench["target"] - bench["reports"]
        cpu = bench["cpu_us_per_frame"]
    return dict(fps=fps, lost=lost, cpu=cpu, sent_fps=sent_fps, sent_frame=sim["bytes"] / sim["sent"] if sim["sent"] else 0,
                decoded=(sim["sent"] - lost) / sim["sent"] if sim["sent"] else 0)

runs = {kind: [] for kind in ("paced-bare", "paced-edgegw", "flood-bare", "flood-edgegw")}
problems = []
for r in range(1, rounds + 1):
    for kind in runs:
        bench, sim = load(f"{r}-{kind}")
        runs[kind].append(row(bench, sim))
        if abs(runs[kind][-1]["sent_frame"] - frame_bytes) > 1e-9:
            problems.append(f"round {r} {kind}: the sensor sent {runs[kind][-1]['sent_frame']:.2f} bytes a frame, not {frame_bytes}")
        if bench["path"] == "edgegw":
            faults = {k: bench[k] for k in ("unexpected_reports", "checksum_failures", "resyncs", "discarded_bytes", "truncated",
                                            "oversized", "malformed", "undecodable", "unknown_address", "dropped_reports") if bench[k]}
            if faults:
                problems.append(f"round {r} {kind}: " + ", ".join(f"{k} {v}" for k, v in faults.items()))

med = lambda kind, key: statistics.median(run[key] for run in runs[kind])
print(f"{'(medians of %d rounds)' % rounds:<24}{'frames/s':>11}{'x line':>9}{'x sent':>9}{'CPU us/frame':>15}{'lost':>7}")
for kind, label in (("paced-bare", "paced  bare read loop"), ("paced-edgegw", "paced  edgegw"),
                    ("flood-bare", "flood  bare read loop"), ("flood-edgegw", "flood  edgegw")):
    ratios_sent = [run["fps"] / run["sent_fps"] for run in runs[kind] if run["sent_fps"]]
    print(f"{label:<24}{med(kind, 'fps'):>11.1f}{med(kind, 'fps') / line_fps:>9.3f}{statistics.median(ratios_sent):>9.3f}"
          f"{med(kind, 'cpu'):>15.2f}{max(run['lost'] for run in runs[kind]):>7.0f}")
paced = [run["fps"] / line_fps for run in runs["paced-edgegw"]]
paced_sent = [run["fps"] / run["sent_fps"] for run in runs["paced-edgegw"]]
decoded = min(run["decoded"] for run in runs["paced-edgegw"])
flood_vs_bare = [e["fps"] / b["fps"] for e, b in zip(runs["flood-edgegw"], runs["flood-bare"])]
ratio = statistics.median(paced)
print(f"paced ratio edgegw / line: {ratio:.3f} (rounds: {', '.join(f'{p:.3f}' for p in paced)}; goal >= 0.95); "
      f"edgegw / what the sensor sent: {statistics.median(paced_sent):.3f}; decoded of sent: {decoded:.4f} at least")
print(f"CPU per frame at the line's rate: edgegw {med('paced-edgegw', 'cpu'):.1f} us, bare read loop {med('paced-bare', 'cpu'):.1f} us "
      f"({line_fps:.0f} frames/s: edgegw {med('paced-edgegw', 'cpu') * line_fps / 1e4:.2f}% of one core)")
print(f"flood: edgegw {med('flood-edgegw', 'fps'):.0f} frames/s = {med('flood-edgegw', 'fps') / line_fps:.0f}x the line; "
      f"bare read loop {med('flood-bare', 'fps') * frame_bytes / 1e6:.2f} MB/s = {med('flood-bare', 'fps'):.0f} frames/s; "
      f"edgegw / bare {statistics.median(flood_vs_bare):.3f}; CPU per frame edgegw {med('flood-edgegw', 'cpu'):.2f} us, "
      f"bare {med('flood-bare', 'cpu'):.2f} us")
for problem in problems:
    print("  " + problem)
sys.exit(0 if ratio >= 0.95 and decoded >= 0.95 else 1)
PY
