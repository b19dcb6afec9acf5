#!/usr/bin/env bash
# Modbus polling benchmark: registers/s read through edgegw's Modbus path (ModbusService, its
# bus thread, planner and decoding) against a bare libmodbus read loop, both in one run
# against the same small libmodbus TCP server. Release build. Prints the ratio (goal >= 0.9).
#
#   scripts/bench-modbus.sh [SECONDS_PER_PHASE] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
SECONDS_PER_PHASE="${1:-1}"
ROUNDS="${2:-15}"
WORK=.bench/modbus
mkdir -p "$WORK"

# A libmodbus TCP server: unit 1, holding registers 0..1249; every request changes one register
# (the next one round the map), so edgegw decodes and reports changes as in the field. One
# client at a time (the benchmark's phases connect one after the other).
cat > "$WORK/server.c" <<'C'
#include <errno.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 1502;
    int change_every = argc > 2 ? atoi(argv[2]) : 1;   /* 0: registers never change */
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_mapping_t *map = modbus_mapping_new(0, 0, 1250, 0);
    if (ctx == NULL || map == NULL) return 1;
    for (int i = 0; i < 1250; i++) map->tab_registers[i] = (uint16_t)(i * 7);
    int listener = modbus_tcp_listen(ctx, 1);
    if (listener < 0) { perror("listen"); return 1; }
    printf("ready %d\n", port);
    fflush(stdout);
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    unsigned long served = 0;
    for (;;) {
        if (modbus_tcp_accept(ctx, &listener) < 0) continue;
        for (;;) {
            int rc = modbus_receive(ctx, query);
            if (rc > 0) {
                if (change_every > 0 && served % change_every == 0) map->tab_registers[(served / change_every) % 1250] += 1;
                served++;
                modbus_reply(ctx, query, rc, map);
            }
            else if (rc < 0) break;
        }
        modbus_close(ctx);
    }
}
C
cc -O2 -o "$WORK/server" "$WORK/server.c" $(pkg-config --cflags --libs libmodbus)

swift build -c release --product ModbusBench >/dev/null
BIN="$(swift build -c release --show-bin-path)/ModbusBench"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
SERVER=""
trap 'if [ -n "$SERVER" ]; then kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; fi' EXIT

# Two runs: one register changing per request (every poll decodes and reports changes), and
# registers that never change (the polling path alone).
for MODE in changing static; do
    CHANGE_EVERY=1
    [ "$MODE" = static ] && CHANGE_EVERY=0
    PORT=$(free_port)
    "$WORK/server" "$PORT" "$CHANGE_EVERY" > "$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 50); do grep -q ready "$WORK/server.log" && break; sleep 0.1; done
    echo "== Modbus benchmark ($MODE registers): libmodbus $(pkg-config --modversion libmodbus) server on 127.0.0.1:$PORT, ${SECONDS_PER_PHASE}s phases, $ROUNDS rounds"
    "$BIN" 127.0.0.1 "$PORT" "$SECONDS_PER_PHASE" "$ROUNDS" | tee "$WORK/result-$MODE.txt"
    kill $SERVER 2>/dev/null || true
    wait $SERVER 2>/dev/null || true
    SERVER=""
done
