#!/usr/bin/env bash
# Installs what edgegw needs to build, test and run its demo on Debian 12:
# the C libraries, the real peers the tests start, and the pinned PyPI peers.
# Idempotent: when everything is present it only checks, in about a second.
set -euo pipefail

DEBIAN_PACKAGES=(
  libcoap3-dev libcoap3-bin libmodbus-dev libmosquitto-dev mosquitto mosquitto-clients
  socat mbpoll autoconf automake libtool pkg-config libssl-dev libsqlite3-dev openssl
  systemd   # systemd-analyze verify and security check the unit file in the tests
  dpkg-dev  # dpkg-shlibdeps: make deb's Depends, and the package's shape in the tests
  gcc curl  # the clock-jump drill builds scripts/wallclock-shift.c; drills and make soak scrape metrics
)
# pymodbus changes its API between releases: keep these pins in step with the tests.
PYPI_PINS=("pymodbus[serial]==3.16.1" "aiocoap[tinydtls]==0.4.17" "paho-mqtt==2.2.0")

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

need_pip=()
for pin in "${PYPI_PINS[@]}"; do
  name="${pin%%[*}"; name="${name%%==*}"; want="${pin##*==}"
  have=$(python3 -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)
  [ "$have" = "$want" ] || need_pip+=("$pin")
done
# DTLSSocket is aiocoap's DTLS backend; its absence means the extra did not build.
python3 -c "import DTLSSocket" 2>/dev/null || need_pip+=("aiocoap[tinydtls]==0.4.17")
if ((${#need_pip[@]})); then
  echo "installing PyPI peers: ${need_pip[*]}"
  python3 -m pip install -q --disable-pip-version-check "${need_pip[@]}"
fi
