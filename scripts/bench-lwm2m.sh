#!/usr/bin/env bash
# Registration storm: N simulated NB-IoT modules (own PSK each, DTLS-PSK) start at once against
# edgegw's LwM2M server, then against libcoap's stock coap-server-gnutls with the same keys, in the
# same run. Reports ClientHello -> Register answer (both) and ClientHello -> Observe (edgegw only),
# failures, handshakes/s and server resident memory per registered device.
#   DEVICES=2000 DEADLINE=60 HOLD=3 COAP_THREADS=8 LISTENER_SOCKETS=1 scripts/bench-lwm2m.sh
# libcoap's GnuTLS client select()s on each session's socket (FD_SETSIZE 1024), so the load is
# spread over processes of at most PER_PROCESS devices, all started together.
set -euo pipefail
# One storm per size in SIZES (DEVICES=N runs just N).
SIZES=${DEVICES:-2000 10000}
PER_PROCESS=${PER_PROCESS:-834}
DEADLINE=${DEADLINE:-60}
HOLD=${HOLD:-3}
SEED=${SEED:-$RANDOM}
MAX_HANDSHAKES=${MAX_HANDSHAKES:-4096}
# The daemon's defaults unless set.
COAP_THREADS=${COAP_THREADS:-8}
LISTENER_SOCKETS=${LISTENER_SOCKETS:-1}
SKIP_STOCK=${SKIP_STOCK:-0}
# Uplink with every session open: REPORT_DEVICES register (as above), then, once all have, each
# sends REPORTS notifications through edgegw's NB-IoT service and the water-meter codec; every load
# process offers REPORT_RATE per second. REPORT_DEVICES=0 skips it.
REPORT_DEVICES=${REPORT_DEVICES:-10000}
REPORTS=${REPORTS:-2}
REPORT_RATE=${REPORT_RATE:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/nbiot-bench-setup.sh
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
rcvbuf_errors() { awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp; }

# storm PORT SERVER_PID FLAGS NAME: all load processes at once; RSS measured while sessions are held.
storm() {
  local port=$1 pid=$2 flags=$3 name=$4
  local before after drops0 drops1 start end
  rm -f "$work/$name".*
  before=$(rss_kb "$pid"); drops0=$(rcvbuf_errors)
  local loaders=() offset=0 n=0
  start=$(date +%s.%N)
  while [ "$offset" -lt "$DEVICES" ]; do
    local count=$(( DEVICES - offset < PER_PROCESS ? DEVICES - offset : PER_PROCESS ))
    GNUTLS_SYSTEM_PRIORITY_FILE="$work/module-suites.conf" GNUTLS_SYSTEM_PRIORITY_FAIL_ON_INVALID=1 \
    "$sim" storm --port "$port" --devices "$count" --offset "$offset" --threads 1 --seed "$SEED" \
      --deadline "$DEADLINE" --hold "$HOLD" --raw "$work/$name.$n.raw" $flags > "$work/$name.$n.out" 2>&1 &
    loaders+=($!); offset=$(( offset + count )); n=$(( n + 1 ))
  done
  for i in $(seq 0 $(( n - 1 ))); do
    while ! grep -q HOLDING "$work/$name.$i.out" 2>/dev/null && kill -0 "${loaders[$i]}" 2>/dev/null; do sleep 0.1; done
  done
  end=$(date +%s.%N)
  after=$(rss_kb "$pid")
  for loader in "${loaders[@]}"; do wait "$loader" || true; done
  drops1=$(rcvbuf_errors)
  cat "$work/$name".*.raw | python3 -c "
import sys
rows = [tuple(float(x) for x in line.split()) for line in sys.stdin if line.strip()]
def summary(values):
    values = sorted(v for v in values if v >= 0)
    if not values: return 'none'
    p = lambda q: values[min(len(values) - 1, max(0, int(len(values) * q + 0.999999) - 1))]
    return 'p50=%.0f ms p99=%.0f ms max=%.0f ms' % (p(0.5), p(0.99), values[-1])
answers = [a for a, _ in rows]; observes = [o for _, o in rows]
done = sum(1 for v in (observes if '$flags' else answers) if v >= 0)
last = max([v for v in (observes if '$flags' else answers) if v >= 0] or [0]) / 1000
print('$name: devices=%d finished=%d failures=%d' % (len(rows), done, len(rows) - done))
print('  clienthello -> register answer: ' + summary(answers))
if '$flags': print('  clienthello -> observe:         ' + summary(observes))
print('  handshakes/s (devices / last completion): %.0f' % (done / last if last else 0))
"
  echo "  server RSS: ${before} kB idle, ${after} kB with the devices registered -> $(( (after - before) / DEVICES )) KiB per device"
  echo "  kernel UDP RcvbufErrors during the storm: $(( drops1 - drops0 ))"
  grep -h "codes=" "$work/$name".*.out | sort | uniq -c | sed 's/^/  /'
}

# run_size N: edgegw, then the stock server, each against N devices at once.
run_size() {
DEVICES=$1
echo "== edgegw LwM2M server: $DEVICES devices at once, $(( (DEVICES + PER_PROCESS - 1) / PER_PROCESS )) load processes, $COAP_THREADS CoAP threads x $LISTENER_SOCKETS socket(s), max $MAX_HANDSHAKES handshakes in progress, seed $SEED"
port=$(free_pair)
"$sim" serve --port "$port" --devices "$DEVICES" --seed "$SEED" --max-handshakes "$MAX_HANDSHAKES" --coap-threads "$COAP_THREADS" --listener-sockets "$LISTENER_SOCKETS" > "$work/serve.out" 2>&1 &
server=$!; pids+=("$server")
for _ in $(seq 100); do grep -q READY "$work/serve.out" && break; sleep 0.1; done
storm "$port" "$server" "--expect-observe" edgegw
stop_pid "$server"
grep -E "COUNTERS|KERNEL" "$work/serve.out" | sed 's/^/  /' || true

[ "$SKIP_STOCK" = 1 ] && return 0
echo "== coap-server-gnutls (stock libcoap 4.3.1 server, default 100-handshake cap), same devices and keys"
pair=$(free_pair)
"$sim" identity-file --devices "$DEVICES" --seed "$SEED" > "$work/ids.txt"
coap-server-gnutls -A 127.0.0.1 -p "$pair" -k default-key-unused -i "$work/ids.txt" -v 0 > "$work/stock.out" 2>&1 &
stock=$!; pids+=("$stock")
sleep 0.5
storm "$((pair + 1))" "$stock" "" coap-server-gnutls
stop_pid "$stock"
}

# report_run N: N devices register, then report at once (edgegw only; the stock server decodes nothing).
report_run() {
DEVICES=$1
local loaders=() offset=0 n=0 drops0 drops1
echo "== edgegw uplink with $DEVICES sessions open: $REPORTS non-confirmable reports per device (water-meter codec), $(( (DEVICES + PER_PROCESS - 1) / PER_PROCESS )) load processes offering $REPORT_RATE/s each"
port=$(free_pair)
"$sim" serve --port "$port" --devices "$DEVICES" --seed "$SEED" --max-handshakes "$MAX_HANDSHAKES" --coap-threads "$COAP_THREADS" \
  --listener-sockets "$LISTENER_SOCKETS" --products "$root/etc/edgegw/products" --product water-meter > "$work/serve-reports.out" 2>&1 &
server=$!; pids+=("$server")
for _ in $(seq 100); do grep -q READY "$work/serve-reports.out" 2>/dev/null && break; sleep 0.1; done
rm -f "$work/go" "$work"/reports.*
while [ "$offset" -lt "$DEVICES" ]; do
  local count=$(( DEVICES - offset < PER_PROCESS ? DEVICES - offset : PER_PROCESS ))
  GNUTLS_SYSTEM_PRIORITY_FILE="$work/module-suites.conf" GNUTLS_SYSTEM_PRIORITY_FAIL_ON_INVALID=1 \
  "$sim" storm --port "$port" --devices "$count" --offset "$offset" --threads 1 --seed "$SEED" --deadline "$DEADLINE" \
    --expect-observe --reports "$REPORTS" --report-rate "$REPORT_RATE" --barrier "$work/go" > "$work/reports.$n.out" 2>&1 &
  loaders+=($!); offset=$(( offset + count )); n=$(( n + 1 ))
done
# The barrier: no report leaves before every process has all its devices registered.
for i in $(seq 0 $(( n - 1 ))); do
  while ! grep -q REGISTERED "$work/reports.$i.out" 2>/dev/null && kill -0 "${loaders[$i]}" 2>/dev/null; do sleep 0.1; done
done
drops0=$(rcvbuf_errors)
touch "$work/go"
for loader in "${loaders[@]}"; do wait "$loader" || true; done
drops1=$(rcvbuf_errors)
stop_pid "$server"
echo "  sent: $(cat "$work"/reports.*.out | awk '/REPORTS_SENT/ {s += $2} END {print s}') reports"
grep -h "^REPORTS " "$work/serve-reports.out" | sed 's/^REPORTS /  decoded and handed to the cloud link: /' || echo "  no REPORTS line from the server"
echo "  kernel UDP RcvbufErrors during the reports: $(( drops1 - drops0 ))"
grep -E "COUNTERS" "$work/serve-reports.out" | sed 's/^/  /' || true
}

for size in $SIZES; do run_size "$size"; done
if [ "$REPORT_DEVICES" -gt 0 ]; then report_run "$REPORT_DEVICES"; fi
