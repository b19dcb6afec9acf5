#!/usr/bin/env bash
# make package-check: the built .deb installed, upgraded over a previous version, removed and
# purged in a throwaway Debian root (debootstrap --variant=minbase bookworm, under
# .build/package-check; made once, copied fresh for every run), plus lintian and the
# structural check. Needs root (debootstrap, chroot, mount) and Debian's mirror.
# Usage: scripts/package-check.sh [edgegw_<version>_<arch>.deb]   (default: the one `make deb` built)
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
SUITE=${PACKAGE_CHECK_SUITE:-bookworm}
MIRROR=${PACKAGE_CHECK_MIRROR:-http://deb.debian.org/debian}

step() { echo "package-check: [$(($(date +%s) - t0)) s] $*"; }
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot and mount): run it as root or with sudo"
missing=()
for tool in debootstrap lintian; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
    step "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/Gateway/GatewayInfo.swift)
arch=$(dpkg --print-architecture)
deb=$(realpath "${1:-edgegw_${version}_${arch}.deb}")
[ -f "$deb" ] || fail "$deb is missing: run \`make deb\` first"
version=$(dpkg-deb -f "$deb" Version)

step "structure and lintian of $(basename "$deb")"
scripts/check-deb.sh "$deb"
lintian_status=0
lintian_out=$(lintian --fail-on error "$deb" 2>&1) || lintian_status=$?
lintian_out=$(grep -v '^running with root privileges is not recommended!$' <<<"$lintian_out" || true)
((lintian_status == 0)) || { echo "$lintian_out" >&2; fail "lintian reports errors"; }
echo "lintian: ${lintian_out:-no errors, no warnings}"

dir=$(realpath -m .build/package-check)
base=$dir/base-$SUITE
root=$dir/root
work=$dir/work
mkdir -p "$dir"
if [ ! -x "$base/usr/bin/apt-get" ]; then
    step "debootstrap --variant=minbase $SUITE into $base (once)"
    rm -rf "$base.tmp"
    debootstrap --variant=minbase "$SUITE" "$base.tmp" "$MIRROR" >"$dir/debootstrap.log" 2>&1 ||
        { tail -20 "$dir/debootstrap.log" >&2; fail "debootstrap (log: $dir/debootstrap.log)"; }
    cp /etc/resolv.conf "$base.tmp/etc/resolv.conf"
    chroot "$base.tmp" apt-get update -qq
    mv "$base.tmp" "$base"
fi

cleanup() {
    if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
}
trap cleanup EXIT
cleanup
step "fresh root from $base"
rm -rf "$root" "$work"
cp -a "$base" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mkdir -p "$work"

# The previous version: this package with a lower version and two samples that differ, so that
# the upgrade meets both conffile cases (changed by the administrator and in the package; changed
# only in the package).
step "previous version ${version}~prev"
dpkg-deb -R "$deb" "$work/prev"
sed -i "s/^Version: .*/Version: ${version}~prev/" "$work/prev/DEBIAN/control"
sed -i '1i # sample configuration of the previous version' "$work/prev/etc/edgegw/edgegw.toml"
echo '# sample of the previous version' >>"$work/prev/etc/edgegw/nbiot-devices.toml"
(cd "$work/prev" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$work/prev/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$work/prev" "$root/tmp/edgegw_${version}~prev_${arch}.deb" >/dev/null
cp "$deb" "$root/tmp/"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" ./etc/edgegw/nbiot-devices.toml ./etc/edgegw/edgegw.toml

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
apt_install() {
    in_root apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" \
        >>"$dir/apt.log" 2>&1 || { tail -30 "$dir/apt.log" >&2; fail "apt-get install $* (log: $dir/apt.log)"; }
}
expect_stat() {   # expect_stat "OWNER:GROUP MODE" PATH
    local have; have=$(in_root stat -c '%U:%G %a' "$2")
    [ "$have" = "$1" ] || fail "$2 is $have, expected $1"
}
: >"$dir/apt.log"

step "install ${version}~prev"
apt_install "/tmp/edgegw_${version}~prev_${arch}.deb"
entry=$(in_root getent passwd edgegw) || fail "no edgegw user"
IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
((uid < 1000)) || fail "edgegw is not a system user (uid $uid)"
[ "$home:$shell" = "/var/lib/edgegw:/usr/sbin/nologin" ] || fail "edgegw has home $home and shell $shell"
[ "$(in_root getent group edgegw | cut -d: -f3)" = "$gid" ] || fail "edgegw's primary group is not edgegw"
expect_stat "edgegw:edgegw 700" /var/lib/edgegw
for d in /etc/edgegw /etc/edgegw/products /etc/edgegw/devices /etc/edgegw/secrets; do expect_stat "root:edgegw 750" "$d"; done
expect_stat "root:root 755" /usr/bin/edgegw
expect_stat "root:root 644" /lib/systemd/system/edgegw.service
# Every library the binary links is there: the minimal root has only what Depends pulled in.
in_root /usr/bin/edgegw version | tee "$work/version.txt"
grep -q "^edgegw $version" "$work/version.txt" || fail "edgegw version does not print $version"

# The technician's steps from the README, then `edgegw check` as the service user: the
# configuration reads through the group and the secret through its owner.
in_root install -m 600 -o edgegw -g edgegw /dev/null /etc/edgegw/secrets/device_secret
echo 's3cret-from-package-check' | in_root tee /etc/edgegw/secrets/device_secret >/dev/null
in_root install -d -m 750 -g edgegw /etc/edgegw/ca
install -m 644 /etc/ssl/certs/ca-certificates.crt "$root/etc/edgegw/ca/huaweicloud-iot-root-ca-list.pem"
sed -i 's/^level = "info"/level = "debug"/' "$root/etc/edgegw/edgegw.toml"
in_root install -m 600 -o edgegw -g edgegw /dev/null /var/lib/edgegw/state-marker
check_out=$(in_root setpriv --reuid=edgegw --regid=edgegw --clear-groups /usr/bin/edgegw check --config /etc/edgegw/edgegw.toml 2>&1) ||
    { echo "$check_out" >&2; fail "edgegw check as the edgegw user"; }
grep -q ": OK" <<<"$check_out" || { echo "$check_out" >&2; fail "edgegw check did not say OK"; }
if grep -q 's3cret-from-package-check' <<<"$check_out"; then fail "edgegw check printed the secret"; fi
step "installed: user edgegw ($uid), modes right, edgegw version and check (as edgegw) OK"

step "upgrade to $version (edgegw.toml changed here and in the package; nbiot-devices.toml only in the package)"
apt_install "/tmp/$(basename "$deb")"
[ "$(in_root dpkg-query -W -f='${Version} ${Status}' edgegw)" = "$version install ok installed" ] ||
    fail "after the upgrade: $(in_root dpkg-query -W -f='${Version} ${Status}' edgegw)"
grep -q '^level = "debug"' "$root/etc/edgegw/edgegw.toml" || fail "the administrator's edgegw.toml was not kept"
cmp -s "$root/etc/edgegw/edgegw.toml.dpkg-dist" "$work/etc/edgegw/edgegw.toml" ||
    fail "the new sample is not beside it as edgegw.toml.dpkg-dist"
cmp -s "$root/etc/edgegw/nbiot-devices.toml" "$work/etc/edgegw/nbiot-devices.toml" ||
    fail "nbiot-devices.toml, unchanged by the administrator, was not updated"
[ -s "$root/etc/edgegw/secrets/device_secret" ] || fail "the device secret is gone"
[ -f "$root/var/lib/edgegw/state-marker" ] || fail "the state is gone"
expect_stat "edgegw:edgegw 600" /etc/edgegw/secrets/device_secret
expect_stat "root:edgegw 750" /etc/edgegw
expect_stat "edgegw:edgegw 700" /var/lib/edgegw
in_root setpriv --reuid=edgegw --regid=edgegw --clear-groups /usr/bin/edgegw check --config /etc/edgegw/edgegw.toml >/dev/null ||
    fail "edgegw check as the edgegw user after the upgrade"
step "upgraded: configuration, secret and state kept; unchanged sample updated"

step "remove"
in_root apt-get remove -y -q edgegw >>"$dir/apt.log" 2>&1 || fail "apt-get remove (log: $dir/apt.log)"
[ ! -e "$root/usr/bin/edgegw" ] || fail "/usr/bin/edgegw is still there after remove"
[ ! -e "$root/lib/systemd/system/edgegw.service" ] || fail "the unit is still there after remove"
grep -q '^level = "debug"' "$root/etc/edgegw/edgegw.toml" || fail "remove deleted the configuration"
[ -f "$root/var/lib/edgegw/state-marker" ] || fail "remove deleted the state"
in_root getent passwd edgegw >/dev/null || fail "remove deleted the user"
[ "$(in_root dpkg-query -W -f='${Status}' edgegw)" = "deinstall ok config-files" ] || fail "status after remove"

step "purge"
in_root apt-get purge -y -q edgegw >>"$dir/apt.log" 2>&1 || fail "apt-get purge (log: $dir/apt.log)"
for path in /etc/edgegw /var/lib/edgegw /run/edgegw; do [ ! -e "$root$path" ] || fail "$path is still there after purge"; done
if in_root getent passwd edgegw >/dev/null; then fail "the edgegw user is still there after purge"; fi
if in_root getent group edgegw >/dev/null; then fail "the edgegw group is still there after purge"; fi
if in_root dpkg-statoverride --list | grep -q edgegw; then fail "statoverrides left after purge"; fi
if in_root dpkg-query -W -f='${Status}' edgegw 2>/dev/null | grep -q installed; then fail "edgegw still known to dpkg"; fi

cleanup
rm -rf "$root" "$work"
step "OK: install, upgrade (conffiles kept), remove and purge of edgegw $version in a minimal $SUITE root"
