#!/usr/bin/env bash
# Bootstrap storm: N unprovisioned simulated NB-IoT modules start at once. Each runs LwM2M
# client-initiated bootstrap against edgegw's bootstrap server (DTLS-PSK with its bootstrap key;
# Discover, Security and Server writes in TLV, Finish), then registers with the written account on
# edgegw's LwM2M server (a second DTLS handshake with the pushed key) and waits for the Observe.
# Baseline, same run: the same N modules already provisioned, registering directly.
# Reports, as values: failures, launch -> Observe p50/p99 for both, their ratio, bootstraps/s.
#   DEVICES=1000 DEADLINE=120 scripts/bench-bootstrap.sh
# BOOTSTRAP_FORMAT=112 (SenML-CBOR) or 110 (SenML-JSON): the modules ask their writes in that format.
set -euo pipefail
DEVICES=${DEVICES:-1000}
PER_PROCESS=${PER_PROCESS:-400}
DEADLINE=${DEADLINE:-120}
SEED=${SEED:-$RANDOM}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/nbiot-bench-setup.sh

# run NAME FLAGS: every load process at once; one "answer_ms observe_ms" line per device.
run() {
  local name=$1 flags=$2 loaders=() offset=0 n=0
  while [ "$offset" -lt "$DEVICES" ]; do
    local count=$(( DEVICES - offset < PER_PROCESS ? DEVICES - offset : PER_PROCESS ))
    GNUTLS_SYSTEM_PRIORITY_FILE="$work/module-suites.conf" GNUTLS_SYSTEM_PRIORITY_FAIL_ON_INVALID=1 \
    "$sim" storm --port "$port" --devices "$count" --offset "$offset" --threads 1 --seed "$SEED" --expect-observe \
      --deadline "$DEADLINE" --raw "$work/$name.$n.raw" $flags > "$work/$name.$n.out" 2>&1 &
    loaders+=($!); offset=$(( offset + count )); n=$(( n + 1 ))
  done
  for loader in "${loaders[@]}"; do wait "$loader" || true; done
}

port=$(free_pair)
"$sim" serve --port "$port" --bootstrap-port $(( port + 1 )) --devices "$DEVICES" --seed "$SEED" > "$work/serve.out" 2>&1 &
server=$!; pids+=("$server")
for _ in $(seq 300); do grep -q READY "$work/serve.out" && break; sleep 0.1; done
echo "== bootstrap storm: $DEVICES modules at once, $(( (DEVICES + PER_PROCESS - 1) / PER_PROCESS )) load processes, seed $SEED"
run direct ""
run bootstrap "--bootstrap-port $(( port + 1 ))${BOOTSTRAP_FORMAT:+ --bootstrap-format $BOOTSTRAP_FORMAT}"
# The server's counters once the last answers (the Finish ACKs) have been read.
sleep "${LINGER:-1}"; stop_pid "$server"
python3 - "$work" "$DEVICES" <<'PY'
import glob, sys
work, devices = sys.argv[1], int(sys.argv[2])
def observes(name):
    rows = [line.split() for path in sorted(glob.glob(f"{work}/{name}.*.raw")) for line in open(path) if line.strip()]
    return sorted(float(o) for _, o in rows if float(o) >= 0)
def pct(values, q):
    return values[min(len(values) - 1, max(0, int(len(values) * q + 0.999999) - 1))]
direct, boot = observes("direct"), observes("bootstrap")
for name, values in (("direct (baseline)", direct), ("bootstrap", boot)):
    if values:
        print(f"  {name}: finished {len(values)}/{devices}, failures {devices - len(values)}, launch -> Observe p50 {pct(values, .5):.0f} ms p99 {pct(values, .99):.0f} ms")
    else:
        print(f"  {name}: finished 0/{devices}")
if direct and boot:
    print(f"  bootstrap / direct, p99: {pct(boot, .99) / max(pct(direct, .99), 1):.2f}; bootstraps/s (devices / last Observe): {len(boot) / (boot[-1] / 1000):.0f}")
PY
grep BOOTSTRAP "$work/serve.out" | sed 's/^/  server: /' || true
