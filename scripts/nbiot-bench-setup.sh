# Shared by the NB-IoT benchmarks (bench-lwm2m.sh, bench-upgrade.sh), sourced from the repository
# root: builds the simulator ($sim), makes a work directory removed on exit with every pid in
# `pids`, the modules' cipher-suite overrides, and port and process helpers.

swift build -c release --product edgegw-nbiot-sim >/dev/null 2>&1
sim="$(swift build -c release --show-bin-path)/edgegw-nbiot-sim"
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The simulated modules offer what the modules offer (spec: TLS_PSK_WITH_AES_128_CCM_8 and
# TLS_PSK_WITH_AES_128_CBC_SHA256): plain PSK key exchange, AES-128 only. libcoap's client priority
# string also offers ECDHE-PSK and GCM; GnuTLS's system-priority overrides take them out, for the
# load processes only (the servers keep their defaults).
cat > "$work/module-suites.conf" <<'CONF'
[overrides]
tls-disabled-kx = ECDHE-PSK
tls-disabled-kx = DHE-PSK
tls-disabled-kx = RSA-PSK
tls-disabled-cipher = AES-128-GCM
tls-disabled-cipher = AES-256-GCM
tls-disabled-cipher = CHACHA20-POLY1305
tls-disabled-cipher = AES-256-CBC
tls-disabled-cipher = AES-256-CCM
tls-disabled-cipher = AES-128-CCM
CONF

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# A UDP port whose next port and both TCP ports are free too (coap + coaps, admin).
free_pair() { python3 - <<'PY'
import socket
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    try:
        for kind, port in ((socket.SOCK_DGRAM, p + 1), (socket.SOCK_STREAM, p), (socket.SOCK_STREAM, p + 1)):
            t = socket.socket(socket.AF_INET, kind); t.bind(("127.0.0.1", port)); t.close()
        print(p); break
    except OSError:
        pass
PY
}
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
