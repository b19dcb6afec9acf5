#!/usr/bin/env bash
# Registration storm: N simulated NB-IoT modules (own PSK each, DTLS-PSK) start at once against
# edgegw's LwM2M server, then against libcoap's stock coap-server-gnutls with the same keys, in the
# same run. Reports ClientHello -> Register answer (both) and ClientHello -> Observe (edgegw only),
# failures, handshakes/s and server resident memory per registered device.
#   DEVICES=2000 THREADS=2 DEADLINE=60 HOLD=3 scripts/bench-lwm2m.sh
set -euo pipefail
DEVICES=${DEVICES:-2000}
THREADS=${THREADS:-2}
DEADLINE=${DEADLINE:-60}
HOLD=${HOLD:-3}
SEED=${SEED:-$RANDOM}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
swift build -c release --product edgegw-nbiot-sim >/dev/null
sim="$(swift build -c release --show-bin-path)/edgegw-nbiot-sim"
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_pair() { python3 - <<'PY'
import socket
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    try:
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", p + 1)); a.close()
        b = socket.socket(socket.AF_INET, socket.SOCK_STREAM); b.bind(("127.0.0.1", p)); b.close()
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM); c.bind(("127.0.0.1", p + 1)); c.close()
        print(p); break
    except OSError:
        pass
PY
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
rcvbuf_errors() { awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp; }

# Runs the storm against $1 (port) while measuring server $2 (pid); $3 = extra storm flags.
storm() {
  local port=$1 pid=$2 flags=$3 out=$4
  local before after
  before=$(rss_kb "$pid")
  local drops0; drops0=$(rcvbuf_errors)
  "$sim" storm --port "$port" --devices "$DEVICES" --threads "$THREADS" --seed "$SEED" --deadline "$DEADLINE" \
    --hold "$HOLD" $flags > "$out" &
  local storm_pid=$!
  while ! grep -q HOLDING "$out" 2>/dev/null; do
    if ! kill -0 "$storm_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  after=$(rss_kb "$pid")
  wait "$storm_pid" || true
  local drops1; drops1=$(rcvbuf_errors)
  echo "server_rss_kb_before=$before server_rss_kb_with_devices=$after per_device_kib=$(( (after - before) / DEVICES )) kernel_rcvbuf_drops=$((drops1 - drops0))" >> "$out"
}

echo "== edgegw LwM2M server: $DEVICES devices at once, $THREADS load threads, seed $SEED"
port=$(free_pair)
"$sim" serve --port "$port" --devices "$DEVICES" --seed "$SEED" > "$work/serve.out" 2>&1 &
server=$!; pids+=("$server")
for _ in $(seq 100); do grep -q READY "$work/serve.out" && break; sleep 0.1; done
storm "$port" "$server" "--expect-observe" "$work/edgegw.txt"
kill -TERM "$server"; wait "$server" || true
cat "$work/edgegw.txt"; grep -E "COUNTERS|KERNEL" "$work/serve.out" || true

echo "== coap-server-gnutls (libcoap $(coap-server-gnutls -h 2>&1 | head -1 | awk '{print $3}')), same devices and keys"
pair=$(free_pair)
"$sim" identity-file --devices "$DEVICES" --seed "$SEED" > "$work/ids.txt"
coap-server-gnutls -A 127.0.0.1 -p "$pair" -k default-key-unused -i "$work/ids.txt" -v 0 > "$work/stock.out" 2>&1 &
stock=$!; pids+=("$stock")
sleep 0.5
storm "$((pair + 1))" "$stock" "" "$work/stock.txt"
kill -TERM "$stock" 2>/dev/null; wait "$stock" 2>/dev/null || true
cat "$work/stock.txt"
