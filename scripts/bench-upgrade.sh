#!/usr/bin/env bash
# Upgrade fan-out: N simulated NB-IoT modules (own PSK each, DTLS-PSK, PCP device side) are all
# upgraded at once from one package served over local HTTPS (a throwaway openssl CA). The server
# side is edgegw's LwM2M server + LwM2M service + upgrade service + package cache in one process
# (`edgegw-nbiot-sim serve-upgrade`), handed one software_upgrade notice per device (each its own
# URL query and token) once every device has registered. Reports, as values (no pass/fail):
#   package bytes fetched from the package server / package size (goal 1.0; the baseline of the
#   same run, devices downloading on their own, is N), fragments served per second, fragment
#   request -> fragment received on the modules' side (p50/p99/max), server resident memory, and
#   how many devices finished.
#   DEVICES=1000 PACKAGE_KIB=100 FRAGMENT=500 DEADLINE=300 scripts/bench-upgrade.sh
# libcoap's GnuTLS client select()s on each session's socket (FD_SETSIZE 1024), so the devices
# are spread over load processes of at most PER_PROCESS devices, all started together.
set -euo pipefail
SIZES=${DEVICES:-1000}
PER_PROCESS=${PER_PROCESS:-834}
PACKAGE_KIB=${PACKAGE_KIB:-100}
FRAGMENT=${FRAGMENT:-500}
DEADLINE=${DEADLINE:-300}
REGISTER_DEADLINE=${REGISTER_DEADLINE:-120}
MAX_FRAGMENTS_PER_SECOND=${MAX_FRAGMENTS_PER_SECOND:-100000}
FRAGMENT_RETRY=${FRAGMENT_RETRY:-2}
SEED=${SEED:-$RANDOM}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/nbiot-bench-setup.sh

# The package server: https_server.py with a throwaway CA and server certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" \
  -days 2 -subj "/CN=edgegw bench CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/server.key" -out "$work/server.csr" \
  -subj "/CN=127.0.0.1" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -out "$work/server.pem" \
  -days 2 -extfile "$work/server.ext" >/dev/null 2>&1
mkdir -p "$work/root"
head -c $(( PACKAGE_KIB * 1024 )) /dev/urandom > "$work/root/app.bin"
size=$(stat -c %s "$work/root/app.bin")
sign=$(sha256sum "$work/root/app.bin" | cut -d' ' -f1)
https_port=$(free_port)
python3 -u Tests/PackageCacheTests/https_server.py --port "$https_port" --cert "$work/server.pem" --key "$work/server.key" \
  --root "$work/root" --require-token > "$work/https.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "ready $https_port" "$work/https.out" && break; sleep 0.1; done

run_size() {
DEVICES=$1
local processes=$(( (DEVICES + PER_PROCESS - 1) / PER_PROCESS ))
echo "== upgrade fan-out: $DEVICES devices at once, package $size bytes, $FRAGMENT-byte fragments ($(( (size + FRAGMENT - 1) / FRAGMENT )) per device), $processes load processes, budget $MAX_FRAGMENTS_PER_SECOND fragments/s, seed $SEED"
local requests0 bytes0
requests0=$(grep -c "^req " "$work/https.out" || true)
bytes0=$(awk '/^req / { for (i = 1; i <= NF; i++) if ($i ~ /^sent=/) { sub("sent=", "", $i); s += $i } } END { print s + 0 }' "$work/https.out")
rm -rf "$work/state" "$work/go" "$work"/load.* "$work"/latency.*
mkdir -p "$work/state"
port=$(free_pair)
"$sim" serve-upgrade --port "$port" --devices "$DEVICES" --seed "$SEED" --products "$root/etc/edgegw/products" \
  --url "https://127.0.0.1:$https_port/pkg/app.bin" --file-size "$size" --sign "$sign" --ca-file "$work/ca.pem" \
  --state-directory "$work/state" --fragment-size "$FRAGMENT" --max-fragments-per-second "$MAX_FRAGMENTS_PER_SECOND" \
  --trigger "$work/go" --deadline "$DEADLINE" > "$work/serve.out" 2>&1 &
server=$!; pids+=("$server")
for _ in $(seq 300); do grep -q READY "$work/serve.out" && break; sleep 0.1; done
local loaders=() offset=0 n=0
while [ "$offset" -lt "$DEVICES" ]; do
  local count=$(( DEVICES - offset < PER_PROCESS ? DEVICES - offset : PER_PROCESS ))
  GNUTLS_SYSTEM_PRIORITY_FILE="$work/module-suites.conf" GNUTLS_SYSTEM_PRIORITY_FAIL_ON_INVALID=1 \
  "$sim" storm --port "$port" --devices "$count" --offset "$offset" --threads 1 --seed "$SEED" --deadline "$REGISTER_DEADLINE" \
    --expect-observe --sw-version V1.0 --fragment-retry-interval "$FRAGMENT_RETRY" --await-upgrade "$DEADLINE" \
    --fragment-latency-file "$work/latency.$n" > "$work/load.$n.out" 2>&1 &
  loaders+=($!); offset=$(( offset + count )); n=$(( n + 1 ))
done
# Every device registered (and observed) before the notices go out.
for i in $(seq 0 $(( n - 1 ))); do
  while ! grep -q REGISTERED "$work/load.$i.out" 2>/dev/null && kill -0 "${loaders[$i]}" 2>/dev/null; do sleep 0.1; done
done
touch "$work/go"
while ! grep -q "^UPGRADE " "$work/serve.out" && kill -0 "$server" 2>/dev/null; do sleep 0.2; done
for loader in "${loaders[@]}"; do wait "$loader" || true; done
stop_pid "$server"
local requests1 bytes1
requests1=$(grep -c "^req " "$work/https.out" || true)
bytes1=$(awk '/^req / { for (i = 1; i <= NF; i++) if ($i ~ /^sent=/) { sub("sent=", "", $i); s += $i } } END { print s + 0 }' "$work/https.out")
grep -h "devices=" "$work"/load.*.out | grep -v UPGRADED | sed 's/^/  register: /' || true
local registered
registered=$(grep -h "^devices=" "$work"/load.*.out | sed -E 's/.*finished=([0-9]+).*/\1/' | awk '{ s += $1 } END { print s + 0 }')
python3 - "$work" "$DEVICES" "$size" "$(( bytes1 - bytes0 ))" "$(( requests1 - requests0 ))" "-" "$registered" <<'PY'
import glob, re, sys
work, devices, size, fetched, requests, rss, registered = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
serve = open(work + "/serve.out").read()
line = next((l for l in serve.splitlines() if l.startswith("UPGRADE ")), "")
fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
upgraded = sum(int(m.group(1)) for f in glob.glob(work + "/load.*.out") for m in re.finditer(r"^UPGRADED (\d+)/", open(f).read(), re.M))
lat = sorted(float(x) for f in glob.glob(work + "/latency.*") for x in open(f).read().split())
def q(p): return lat[min(len(lat) - 1, max(0, int(len(lat) * p + 0.999999) - 1))] if lat else float("nan")
print("  package bytes fetched / package size: %.3f (%d bytes in %d request(s); devices downloading on their own: %d)"
      % (fetched / size, fetched, requests, devices))
print("  fragments served: %s -> %s fragments/s from the first served to the last (first %s s after the notices; notices -> all finished: %s s)"
      % (fields.get("fragments_served", "?"), fields.get("fragments_per_s", "?"), fields.get("first_fragment_s", "?"), fields.get("wall_s", "?")))
print("  fragment request -> fragment received (device side): n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms" % (len(lat), q(0.5), q(0.99), lat[-1] if lat else float("nan")))
print("  server RSS with every device done: %s KiB" % fields.get("rss_kib", "?"))
print("  registered: %d/%d; upgraded (device side, 0x18 sent with the new version): %d/%d; server: %s succeeded, %s failed"
      % (registered, devices, upgraded, devices, fields.get("succeeded", "?"), fields.get("failed", "?")))
PY
grep -E "^STATUS" "$work/serve.out" | sed 's/^/  /' || true
grep -vE "^(READY|UPGRADE|STATUS|COUNTERS)" "$work/serve.out" | sort | uniq -c | sort -rn | head -5 | sed 's/^/  server: /' || true
}

for n in $SIZES; do run_size "$n"; done
