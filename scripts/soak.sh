#!/usr/bin/env bash
# make soak: the release daemon at a site's size for SOAK_MINUTES, everything on 127.0.0.1: a
# persistent mosquitto with the scripted cloud on a persistent session (so whatever the broker
# acknowledged is recorded), SOAK_MODULES simulated NB-IoT modules (DTLS-PSK, each reporting every
# SOAK_MODULE_REPORT_EVERY seconds with confirmable notifications), a Modbus TCP slave polled for
# SOAK_POINTS_PER_SECOND points a second whose registers change every SOAK_CHANGE_EVERY seconds
# (register 0 of each device is a counter), and the cloud link dropped every SOAK_DROP_EVERY
# seconds (the broker stopped for SOAK_OUTAGE_SECONDS, then started again).
#
# Every SOAK_SAMPLE_SECONDS it writes the daemon's RSS, open descriptors, outbox depth and log
# lines to soak-run/samples.csv. At the end it waits for the outbox to empty, stops the daemon and
# counts what was lost: each Modbus counter value the slave held (every one is polled several
# times) and each NB-IoT report the modules had acknowledged, against what the scripted cloud
# received (a replay of the same message is counted once). Exit 1 when RSS grew by 5 % or more
# between the end of the warm-up (SOAK_WARMUP_MINUTES) and the end, or when anything was lost.
#
#   make soak                                              # an hour at 10,000 modules, 100 points/s
#   SOAK_MINUTES=5 SOAK_MODULES=2000 SOAK_MODULE_REPORT_EVERY=60 SOAK_DROP_EVERY=120 SOAK_OUTAGE_SECONDS=30 \
#     SOAK_WARMUP_MINUTES=3 make soak                      # a short check
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MINUTES=${SOAK_MINUTES:-60}
MODULES=${SOAK_MODULES:-10000}
POINTS=${SOAK_POINTS_PER_SECOND:-100}
DROP_EVERY=${SOAK_DROP_EVERY:-600}
OUTAGE=${SOAK_OUTAGE_SECONDS:-60}
REPORT_EVERY=${SOAK_MODULE_REPORT_EVERY:-120}
CHANGE_EVERY=${SOAK_CHANGE_EVERY:-5}
SAMPLE=${SOAK_SAMPLE_SECONDS:-30}
WARMUP=${SOAK_WARMUP_MINUTES:-10}
RUN=${SOAK_DIR:-$ROOT/soak-run}
PER_PROCESS=900   # libcoap's GnuTLS client select()s: at most 900 modules per load process
FIRST_IMEI=862000000000000
SEED=7

echo "soak: building the release daemon and the NB-IoT simulator"
swift build -c release --product edgegw >/dev/null
swift build -c release --product edgegw-nbiot-sim >/dev/null
BIN=$(swift build -c release --show-bin-path)
EDGEGW=$BIN/edgegw
SIM=$BIN/edgegw-nbiot-sim

rm -rf "$RUN" && mkdir -p "$RUN/secrets" "$RUN/state" "$RUN/run" "$RUN/devices" "$RUN/products" "$RUN/broker-db" "$RUN/modules"
chmod 700 "$RUN" && chmod 777 "$RUN/broker-db"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
free_udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
BROKER_PORT=$(free_port)
MODBUS_PORT=$(free_port)
METRICS_PORT=$(free_port)
COAPS_PORT=$(free_udp_port)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${BROKER_PID:-}" ] && kill "$BROKER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

# --- the cloud: a persistent broker (any credentials: the link's credentials are the tests'
# business) and the scripted platform on a persistent session.
cat > "$RUN/mosquitto.conf" <<CONF
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $RUN/broker-db/
autosave_interval 0
max_queued_messages 0
max_inflight_messages 0
log_dest stderr
log_type error
log_type warning
CONF
start_broker() {
  mosquitto -c "$RUN/mosquitto.conf" >> "$RUN/mosquitto.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$BROKER_PORT) 2>/dev/null && return 0; sleep 0.1; done
  echo "soak: mosquitto did not start" >&2; return 1
}
stop_broker() {   # SIGTERM: the broker writes its sessions and queued messages to disk first
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=
}
start_broker
python3 scripts/scripted_platform.py --port "$BROKER_PORT" --password soak --session soak-platform --stay \
  --record "$RUN/platform.jsonl" < /dev/null > "$RUN/platform.log" 2>&1 &
pids+=($!)

# --- the Modbus slave: ceil(POINTS / 100) devices of up to 100 holding registers, polled every
# second; register 0 of each is a counter, the others change with it.
DEVICES=$(( (POINTS + 99) / 100 ))
UNITS=$(seq -s, 1 "$DEVICES")
{ printf '[product]\nid = "soak-meter"\nmanufacturer = "Acme"\nmodel = "SK-100"\ndevice_type = "Meter"\nprotocol = "Modbus"\n\n'
  printf '[[services]]\nid = "Soak"\n'
  printf '\n  [[services.properties]]\n  name = "counter"\n  type = "int"\n'
  for i in $(seq 1 99); do printf '\n  [[services.properties]]\n  name = "p%02d"\n  type = "int"\n' "$i"; done
} > "$RUN/products/soak-meter.toml"
cp etc/edgegw/products/water-meter.toml "$RUN/products/"
points_left=$POINTS
for unit in $(seq 1 "$DEVICES"); do
  n=$(( points_left < 100 ? points_left : 100 )); points_left=$(( points_left - n ))
  { printf 'node_id = "soak-%d"\nproduct_id = "soak-meter"\nunit_id = %d\n\n' "$unit" "$unit"
    printf '[transport]\nkind = "tcp"\nhost = "127.0.0.1"\nport = %d\n\n' "$MODBUS_PORT"
    printf '[[poll_groups]]\nname = "fast"\ninterval_ms = 1000\n'
    printf '\n[[points]]\nname = "counter"\nservice_id = "Soak"\ntable = "holding"\naddress = 0\ntype = "uint16"\ngroup = "fast"\n'
    for i in $(seq 1 $(( n - 1 ))); do
      printf '\n[[points]]\nname = "p%02d"\nservice_id = "Soak"\ntable = "holding"\naddress = %d\ntype = "uint16"\ngroup = "fast"\n' "$i" "$i"
    done
  } > "$RUN/devices/soak-$unit.toml"
done
mkfifo "$RUN/modbus.in"
python3 scripts/modbus_sim.py --tcp "$MODBUS_PORT" --units "$UNITS" --control < "$RUN/modbus.in" > "$RUN/modbus_sim.log" 2>&1 &
pids+=($!)
exec 4> "$RUN/modbus.in"
for _ in $(seq 100); do grep -q '^ready' "$RUN/modbus_sim.log" 2>/dev/null && break; sleep 0.1; done
set_counter() {   # set_counter VALUE: every device's registers 0..99
  local values="$1" i
  for i in $(seq 1 99); do values+=" $(( ($1 * 7 + i) % 65536 ))"; done
  for unit in $(seq 1 "$DEVICES"); do echo "set $unit holding 0 $values" >&4; done
  echo "$1" > "$RUN/modbus-counter"
}
set_counter 1

# --- the NB-IoT modules the daemon knows (keys from the simulator's seed).
"$SIM" device-list --devices "$MODULES" --first-imei "$FIRST_IMEI" --seed "$SEED" > "$RUN/nbiot-devices.csv"

# --- the daemon.
python3 -c 'import secrets; print(secrets.token_hex(16))' > "$RUN/secrets/device_secret"
chmod 600 "$RUN/secrets/device_secret"
cat > "$RUN/edgegw.toml" <<CONF
# Generated by scripts/soak.sh.
[gateway]
device_id = "soak-gateway-0001"
secret_file = "secrets/device_secret"

[cloud]
host = "127.0.0.1"
port = $BROKER_PORT
tls = false
keepalive_seconds = 60

[listeners.coaps]
enabled = true
port = $COAPS_PORT
bind = ["127.0.0.1"]

[listeners.bootstrap]
enabled = false

[store]
state_directory = "$RUN/state"

[admin]
socket = "$RUN/run/admin.sock"

[metrics]
listen = "127.0.0.1:$METRICS_PORT"

[log]
level = "info"

[paths]
products = "$RUN/products"
devices = "$RUN/devices"
nbiot_devices = "nbiot-devices.csv"
CONF
"$EDGEGW" check --config "$RUN/edgegw.toml" > "$RUN/check.log" 2>&1 || { cat "$RUN/check.log"; exit 1; }
"$EDGEGW" run --config "$RUN/edgegw.toml" > "$RUN/edgegw.log" 2>&1 &
DAEMON=$!
for _ in $(seq 100); do grep -q "lwm2m listening" "$RUN/edgegw.log" 2>/dev/null && break; sleep 0.1; done
START=$(date +%s)
echo "soak: daemon pid $DAEMON; $MINUTES min, $MODULES modules reporting every $REPORT_EVERY s, $POINTS Modbus points/s ($DEVICES device(s)), link dropped every $DROP_EVERY s for $OUTAGE s; samples every $SAMPLE s in $RUN/samples.csv"

# --- the modules: a load process of up to PER_PROCESS modules every SOAK_REGISTER_STAGGER seconds
# (the daemon takes max_dtls_handshakes at once, and a site's modules do not all boot in one
# second); each registers its share, then reports ROUNDS times, paced so a module reports every
# REPORT_EVERY seconds; the rounds end before the soak does.
STAGGER=${SOAK_REGISTER_STAGGER:-15}
PROCESSES=$(( (MODULES + PER_PROCESS - 1) / PER_PROCESS ))
SECONDS_TOTAL=$(( MINUTES * 60 ))
MARGIN=$(( (SECONDS_TOTAL / 4 < 300 ? SECONDS_TOTAL / 4 : 300) + STAGGER * (PROCESSES - 1) ))
ROUNDS=$(( (SECONDS_TOTAL - MARGIN) / REPORT_EVERY ))
[ "$ROUNDS" -ge 1 ] || ROUNDS=1
loaders=()
launched=0
launch_next() {   # the next load process
  local offset=$(( launched * PER_PROCESS ))
  local count=$(( MODULES - offset < PER_PROCESS ? MODULES - offset : PER_PROCESS ))
  local rate
  rate=$(python3 -c "print($count / $REPORT_EVERY)")
  "$SIM" storm --port "$COAPS_PORT" --devices "$count" --offset "$offset" --first-imei "$FIRST_IMEI" --seed "$SEED" \
    --threads 1 --expect-observe --deadline 900 --lifetime 86400 --reports "$ROUNDS" --report-rate "$rate" --confirmable-reports --round-at 3 \
    > "$RUN/modules/storm.$launched.out" 2>&1 &
  loaders+=($!); pids+=($!)
  launched=$(( launched + 1 ))
}

# --- the run: change the registers, drop the link, sample.
(
  value=1
  while true; do
    sleep "$CHANGE_EVERY"
    value=$(( value + 1 ))
    set_counter "$value"
  done
) &
FEEDER=$!
pids+=($FEEDER)

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
outbox() {   # messages bytes, from edgegw status --json
  "$EDGEGW" status --json --config "$RUN/edgegw.toml" 2>/dev/null \
    | python3 -c 'import json,sys; o=json.load(sys.stdin)["outbox"]; print(o["messages"], o["bytes"])' 2>/dev/null || echo "- -"
}
echo "elapsed_s,rss_kib,fds,outbox_messages,outbox_bytes,log_lines,broker" > "$RUN/samples.csv"
next_sample=0
# The first drop half-way through the first period (inside the warm-up with the defaults: what
# the first outage and its drain allocate once, the outbox's pages and caches, is part of the
# baseline, and the growth after the warm-up is what later outages add), then every DROP_EVERY;
# half a sample period off the samples, so outages of at least that long are sampled.
next_drop=$(( DROP_EVERY / 2 + SAMPLE / 2 ))
restart_at=0
drops=0
while true; do
  now=$(( $(date +%s) - START ))
  kill -0 "$DAEMON" 2>/dev/null || { echo "soak: the daemon exited"; tail -20 "$RUN/edgegw.log"; exit 1; }
  [ "$launched" -lt "$PROCESSES" ] && [ "$now" -ge $(( launched * STAGGER )) ] && launch_next
  if [ -n "$BROKER_PID" ] && [ "$now" -ge "$next_drop" ] && [ "$now" -lt $(( SECONDS_TOTAL - OUTAGE - 30 )) ]; then
    stop_broker; drops=$(( drops + 1 )); restart_at=$(( now + OUTAGE )); next_drop=$(( next_drop + DROP_EVERY ))
    echo "soak: $(date -u +%H:%M:%S) cloud link dropped ($drops)"
  fi
  if [ -z "$BROKER_PID" ] && [ "$now" -ge "$restart_at" ]; then start_broker; echo "soak: $(date -u +%H:%M:%S) broker back"; fi
  if [ "$now" -ge "$next_sample" ]; then
    read -r messages bytes <<<"$(outbox)"
    fds=$(ls "/proc/$DAEMON/fd" 2>/dev/null | wc -l)
    echo "$now,$(rss_kib "$DAEMON"),$fds,$messages,$bytes,$(wc -l < "$RUN/edgegw.log"),$([ -n "$BROKER_PID" ] && echo up || echo down)" >> "$RUN/samples.csv"
    next_sample=$(( next_sample + SAMPLE ))
  fi
  [ "$now" -ge "$SECONDS_TOTAL" ] && break
  sleep 1
done

# --- the end: the field stops, the outbox drains, the daemon stops.
kill "$FEEDER" 2>/dev/null || true
[ -n "$BROKER_PID" ] || start_broker
for loader in "${loaders[@]}"; do
  for _ in $(seq 600); do kill -0 "$loader" 2>/dev/null || break; sleep 1; done
done
sleep $(( CHANGE_EVERY + 3 ))   # the last counter value is polled and reported
for _ in $(seq 300); do
  read -r messages _ <<<"$(outbox)"
  [ "$messages" = 0 ] && break
  sleep 1
done
now=$(( $(date +%s) - START ))
read -r messages bytes <<<"$(outbox)"
echo "$now,$(rss_kib "$DAEMON"),$(ls "/proc/$DAEMON/fd" 2>/dev/null | wc -l),$messages,$bytes,$(wc -l < "$RUN/edgegw.log"),up" >> "$RUN/samples.csv"
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" > "$RUN/metrics.txt" || true
kill -TERM "$DAEMON"
wait "$DAEMON" || echo "soak: the daemon exited with $?"
sleep 2   # the platform has recorded the last messages

python3 - "$RUN" "$WARMUP" "$MODULES" "$drops" <<'PY'
import csv, glob, json, re, sys
run, warmup, modules, drops = sys.argv[1], float(sys.argv[2]) * 60, int(sys.argv[3]), int(sys.argv[4])
rows = list(csv.DictReader(open(f"{run}/samples.csv")))
def num(v):
    try: return int(v)
    except ValueError: return None
after = [r for r in rows if int(r["elapsed_s"]) >= warmup] or rows[-1:]
rss_warm, rss_end = int(after[0]["rss_kib"]), int(rows[-1]["rss_kib"])
growth = 100.0 * (rss_end - rss_warm) / rss_warm if rss_warm else 0.0
max_fds = max(int(r["fds"]) for r in rows)
depths = [num(r["outbox_messages"]) for r in rows if num(r["outbox_messages"]) is not None]
seconds = int(rows[-1]["elapsed_s"]) or 1
log_lines = int(rows[-1]["log_lines"])
# Steady state: from the end of the warm-up to the last sample before the field stops (the
# modules' sessions ending and the drain are not the site's hourly rate).
steady = [r for r in rows[:-1] if int(r["elapsed_s"]) >= int(after[0]["elapsed_s"])] or rows[-1:]
per_hour_after = ((int(steady[-1]["log_lines"]) - int(steady[0]["log_lines"])) * 3600.0
                  / max(1, int(steady[-1]["elapsed_s"]) - int(steady[0]["elapsed_s"])))

# What the cloud received: Modbus counter values per device, NB-IoT reports per (module, event_time).
counters, nbiot, messages = {}, set(), 0
for line in open(f"{run}/platform.jsonl"):
    record = json.loads(line)
    if not record["topic"].endswith("/sys/gateway/sub_devices/properties/report"):
        continue
    messages += 1
    for device in json.loads(record["payload"]).get("devices", []):
        did = device.get("device_id", "")
        for service in device.get("services", []):
            props = service.get("properties", {})
            if did.startswith("soak-meter_") and "counter" in props:
                counters.setdefault(did, set()).add(props["counter"])
            elif did.startswith("water-meter_"):
                # The modules put their report round into totalFlow (--round-at 3).
                nbiot.add((did, props.get("totalFlow")))
last = int(open(f"{run}/modbus-counter").read())
units = sorted(glob.glob(f"{run}/devices/soak-*.toml"))
modbus_lost = 0
for path in units:
    node = path.rsplit("/", 1)[1][:-5]
    got = counters.get(f"soak-meter_{node}", set())
    modbus_lost += len(set(range(1, last + 1)) - got)
sent, nacked, unfinished = 0, 0, 0
for out in glob.glob(f"{run}/modules/storm.*.out"):
    text = open(out).read()
    m = re.search(r"REPORTS_SENT (\d+)", text)
    sent += int(m.group(1)) if m else 0
    unfinished += 0 if m else 1
    m = re.search(r"REPORTS_NACKED (\d+)", text)
    nacked += int(m.group(1)) if m else 0
acknowledged = sent - nacked
registered = sum(int(m.group(1)) for out in glob.glob(f"{run}/modules/storm.*.out")
                 for m in [re.search(r"finished=(\d+)", open(out).read())] if m)
nbiot_lost = max(0, acknowledged - len(nbiot))
print(f"soak: {seconds / 60:.1f} min, {modules} modules ({registered} registered), {len(units)} Modbus device(s), cloud link dropped {drops} time(s)")
print(f"  RSS: {rss_warm / 1024:.1f} MiB at {int(after[0]['elapsed_s']) / 60:.0f} min (end of warm-up), {rss_end / 1024:.1f} MiB at the end: growth {growth:+.2f} %"
      f" (max {max(int(r['rss_kib']) for r in rows) / 1024:.1f} MiB)")
print(f"  open descriptors: max {max_fds}; outbox depth: max {max(depths) if depths else '-'} message(s), {depths[-1] if depths else '-'} at the end")
print(f"  log: {log_lines} lines in all (one per module registration included), "
      f"{per_hour_after:.0f} per hour between the warm-up and the end")
print(f"  Modbus: counter values 1..{last} on each device; {modbus_lost} missing at the cloud")
print(f"  NB-IoT: {sent} confirmable reports sent, {acknowledged} acknowledged by the gateway ({nacked} never), {len(nbiot)} distinct received by the cloud; {nbiot_lost} missing")
print(f"  cloud: {messages} batch property report message(s) recorded (replays included)")
lost = modbus_lost + nbiot_lost
bad = []
if growth >= 5.0: bad.append(f"RSS grew {growth:.2f} % (limit 5 %)")
if lost: bad.append(f"{lost} lost")
if registered < modules: bad.append(f"{modules - registered} module(s) never registered")
if unfinished: bad.append(f"{unfinished} load process(es) did not finish their reports")
print("soak: " + ("FAILED: " + "; ".join(bad) if bad else "passed: RSS growth < 5 %, 0 lost"))
sys.exit(1 if bad else 0)
PY
