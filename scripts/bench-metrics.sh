#!/usr/bin/env bash
# Metrics: the edgegw daemon itself with a device list of N NB-IoT modules (keys included), a
# registration storm of all of them, then SCRAPES timed GET /metrics (p50/p99/max, bytes); and
# the same storm against a second daemon with [metrics] enabled = false, in the same run, to give
# the storm's figures with metrics on over off (goal: within noise). ROUNDS=2 alternates on/off
# twice. The cloud is left unreachable (reports wait in the outbox), as on a box whose uplink is down.
#   DEVICES=10000 SCRAPES=200 ROUNDS=1 MAX_CHILD_SERIES=1000 scripts/bench-metrics.sh
set -euo pipefail
DEVICES=${DEVICES:-10000}
SCRAPES=${SCRAPES:-200}
ROUNDS=${ROUNDS:-1}
MAX_CHILD_SERIES=${MAX_CHILD_SERIES:-1000}
PER_PROCESS=${PER_PROCESS:-834}
DEADLINE=${DEADLINE:-120}
SEED=${SEED:-$RANDOM}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/nbiot-bench-setup.sh
swift build -c release --product edgegw >/dev/null 2>&1
edgegw="$(swift build -c release --show-bin-path)/edgegw"

# site NAME ENABLED: a configuration directory for one daemon; prints "coaps_port metrics_port".
site() {
  local dir="$work/$1" coaps metrics cloud
  coaps=$(free_pair); metrics=$(free_port); cloud=$(free_port)
  mkdir -p "$dir/secrets" "$dir/products" "$dir/devices" "$dir/state"
  cp etc/edgegw/products/water-meter.toml "$dir/products/"
  printf 'bench-secret-0123456789' > "$dir/secrets/device_secret"; chmod 600 "$dir/secrets/device_secret"
  "$sim" device-list --devices "$DEVICES" --seed "$SEED" --product water-meter > "$dir/nbiot-devices.csv"
  cat > "$dir/edgegw.toml" <<TOML
[gateway]
device_id = "bench-gateway"
secret_file = "secrets/device_secret"
[cloud]
host = "127.0.0.1"
port = $cloud
tls = false
[listeners.coaps]
enabled = true
port = $coaps
bind = ["127.0.0.1"]
[listeners.bootstrap]
enabled = false
[store]
state_directory = "$dir/state"
[log]
level = "info"
[limits]
max_dtls_handshakes = 4096
[admin]
enabled = false
[metrics]
enabled = $2
listen = "127.0.0.1:$metrics"
max_child_series = $MAX_CHILD_SERIES
[paths]
products = "products"
devices = "devices"
nbiot_devices = "nbiot-devices.csv"
TOML
  echo "$coaps $metrics"
}

# storm NAME PORT: every module at once (processes of at most PER_PROCESS), ClientHello -> Observe.
storm() {
  local name=$1 port=$2 loaders=() offset=0 n=0
  while [ "$offset" -lt "$DEVICES" ]; do
    local count=$(( DEVICES - offset < PER_PROCESS ? DEVICES - offset : PER_PROCESS ))
    GNUTLS_SYSTEM_PRIORITY_FILE="$work/module-suites.conf" GNUTLS_SYSTEM_PRIORITY_FAIL_ON_INVALID=1 \
    "$sim" storm --port "$port" --devices "$count" --offset "$offset" --threads 1 --seed "$SEED" \
      --deadline "$DEADLINE" --expect-observe --raw "$work/$name.$n.raw" > "$work/$name.$n.out" 2>&1 &
    loaders+=($!); offset=$(( offset + count )); n=$(( n + 1 ))
  done
  for loader in "${loaders[@]}"; do wait "$loader" || true; done
  cat "$work/$name".*.raw | python3 -c "
import sys
rows = [tuple(float(x) for x in line.split()) for line in sys.stdin if line.strip()]
observes = sorted(o for _, o in rows if o >= 0)
p = lambda q: observes[min(len(observes) - 1, max(0, int(len(observes) * q + 0.999999) - 1))] if observes else float('nan')
rate = len(observes) / (observes[-1] / 1000) if observes else 0
print('$name %d %d %.1f %.1f %.1f %.1f' % (len(rows), len(observes), p(0.5), p(0.99), observes[-1] if observes else float('nan'), rate))
" >> "$work/storms"
  tail -1 "$work/storms" | awk '{printf "  storm (%s): %d modules, %d observed; clienthello -> observe p50=%.0f ms p99=%.0f ms max=%.0f ms; %.0f handshakes/s\n", $1, $2, $3, $4, $5, $6, $7}'
}

# scrapes PORT: SCRAPES sequential GET /metrics, each timed from connect to the last byte.
scrapes() {
  python3 - "$1" "$SCRAPES" <<'PY'
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
def scrape():
    start = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
    chunks = []
    while True:
        chunk = s.recv(1 << 16)
        if not chunk: break
        chunks.append(chunk)
    s.close()
    return (time.perf_counter() - start) * 1000, b"".join(chunks)
times, body = [], b""
for _ in range(count):
    ms, body = scrape()
    times.append(ms)
# The first scrape creates every series in the registry; the later ones only update them.
first = times[0]
times.sort()
p = lambda q: times[min(len(times) - 1, max(0, int(len(times) * q + 0.999999) - 1))]
text = body.split(b"\r\n\r\n", 1)[-1].decode()
def value(prefix):
    return next((line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(prefix)), "?")
series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
print("  scrape: %d GETs, p50=%.1f ms p99=%.1f ms max=%.1f ms (the first: %.1f ms); %d bytes, %d series (goal: < 50 ms)"
      % (count, p(0.5), p(0.99), times[-1], first, len(body), series))
print("  in the scrape: registrations accepted=%s, nbiot children ONLINE=%s, per-child series omitted=%s, sessions open=%s"
      % (value('edgegw_nbiot_registrations_total{outcome="accepted"}'), value('edgegw_children{kind="nbiot",status="ONLINE"}'),
         value("edgegw_child_series_omitted"), value("edgegw_nbiot_sessions_open")))
PY
}

# round NAME ENABLED: one daemon, one storm; with metrics on, the scrapes once every module is in.
round() {
  local name=$1 enabled=$2 ports coaps metrics daemon
  ports=$(site "$name" "$enabled"); coaps=${ports% *}; metrics=${ports#* }
  "$edgegw" run --config "$work/$name/edgegw.toml" > "$work/$name.log" 2>&1 &
  daemon=$!; pids+=("$daemon")
  for _ in $(seq 300); do grep -q "lwm2m listening" "$work/$name.log" && break; sleep 0.1; done
  grep -q "lwm2m listening" "$work/$name.log" || { echo "  the daemon did not start:"; tail -20 "$work/$name.log"; exit 1; }
  echo "== metrics $name ([metrics] enabled = $enabled): $DEVICES modules, $(( (DEVICES + PER_PROCESS - 1) / PER_PROCESS )) load processes, seed $SEED"
  storm "$name" "$coaps"
  if [ "$enabled" = true ]; then scrapes "$metrics"; fi
  echo "  daemon RSS: $(awk '/VmRSS/ {print $2}' "/proc/$daemon/status") kB"
  stop_pid "$daemon"
}

rm -f "$work/storms"
for r in $(seq "$ROUNDS"); do
  round "on-$r" true
  round "off-$r" false
done
# On over off, per round and over all rounds (>1: slower with metrics on).
python3 - "$work/storms" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, _, _, p50, p99, _, rate = line.split()
    rows[name] = (float(p50), float(p99), float(rate))
rounds = sorted({n.split("-")[1] for n in rows})
for r in rounds:
    on, off = rows.get("on-" + r), rows.get("off-" + r)
    if on and off:
        print("== metrics on / off, round %s: observe p50 x%.2f, p99 x%.2f; handshakes/s x%.2f" % (r, on[0] / off[0], on[1] / off[1], on[2] / off[2]))
PY
