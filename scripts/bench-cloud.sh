#!/usr/bin/env bash
# Cloud-path benchmark: child property reports through the durable outbox, the pump and a
# session to a local mosquitto, with and without the default rate cap, next to a raw
# libmosquitto QoS 1 loop in the same run. Release build; prints one line per measurement.
# Usage: scripts/bench-cloud.sh [extra edgegw-bench-cloud options, e.g. --seconds 20]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

swift build -c release --product edgegw-bench-cloud >/dev/null
BIN="$(swift build -c release --show-bin-path)/edgegw-bench-cloud"

WORK=$(mktemp -d /tmp/edgegw-bench-cloud.XXXXXX)
chmod 755 "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
log_dest none
CONF
chmod 644 "$WORK/mosquitto.conf"

mosquitto -c "$WORK/mosquitto.conf" &
BROKER=$!
# The broker may inherit a blocked SIGTERM from its parent: SIGKILL is what surely stops it.
# (set -e holds inside the trap too: the killed broker's status must not become ours.)
trap 'rc=$?; { kill -9 $BROKER; wait $BROKER || true; } 2>/dev/null; rm -rf "$WORK"; exit $rc' EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  sleep 0.05
done

"$BIN" --port "$PORT" "$@"
