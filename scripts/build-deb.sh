#!/usr/bin/env bash
# make deb: edgegw_<version>_<arch>.deb from the release binary (./edgegw, built by
# `make release`), with dpkg-deb. The version is GatewayInfo.version, the architecture the
# build machine's (dpkg --print-architecture), Depends what dpkg-shlibdeps finds the binary
# links, plus adduser for the maintainer scripts.
#
# Environment (for the tests): EDGEGW_BINARY another binary to package, DEB_VERSION another
# version, DEB_OUTDIR where the .deb goes (default: the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

binary=${EDGEGW_BINARY:-edgegw}
outdir=${DEB_OUTDIR:-.}
source_version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/Gateway/GatewayInfo.swift)
version=${DEB_VERSION:-$source_version}
arch=$(dpkg --print-architecture)

if [ ! -x "$binary" ]; then
    echo "build-deb: $binary is missing: run \`make release\` first (or \`make deb\`, which does)" >&2
    exit 1
fi
changelog_version=$(sed -n '1s/^edgegw (\([^)]*\)).*/\1/p' packaging/debian/changelog)
if [ -z "${DEB_VERSION:-}" ] && [ "$changelog_version" != "$version" ]; then
    echo "build-deb: packaging/debian/changelog starts with $changelog_version but GatewayInfo.version is $version:" >&2
    echo "  add a changelog entry for $version" >&2
    exit 1
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/edgegw-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/edgegw

# The daemon.
install -D -m 0755 "$binary" "$root/usr/bin/edgegw"

# Configuration, all conffiles. Inert until edited: the products are used only by devices that
# name them, and the NB-IoT lists only once [paths] nbiot_devices names one. The sample Modbus
# device would poll the demo's simulated meter, so it goes to the examples instead; devices/ and
# secrets/ start empty (secrets are never shipped).
install -D -m 0644 etc/edgegw/edgegw.toml "$root/etc/edgegw/edgegw.toml"
install -m 0644 etc/edgegw/nbiot-devices.csv etc/edgegw/nbiot-devices.toml "$root/etc/edgegw/"
install -d -m 0755 "$root/etc/edgegw/products" "$root/etc/edgegw/devices" "$root/etc/edgegw/secrets"
install -m 0644 etc/edgegw/products/*.toml "$root/etc/edgegw/products/"

install -D -m 0644 systemd/edgegw.service "$root/lib/systemd/system/edgegw.service"

# Documentation: README.md (the unit's Documentation=), the design notes, the sample device.
install -D -m 0644 README.md "$doc/README.md"
install -d -m 0755 "$doc/docs" "$doc/examples/devices"
install -m 0644 docs/*.md "$doc/docs/"
install -m 0644 etc/edgegw/devices/*.toml "$doc/examples/devices/"
install -m 0644 etc/edgegw/secrets/README "$doc/examples/secrets-README"
gzip -9n -c packaging/debian/changelog >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
install -d -m 0755 "$root/usr/share/man/man1"
gzip -9n -c packaging/debian/edgegw.1 >"$root/usr/share/man/man1/edgegw.1.gz"
chmod 0644 "$root/usr/share/man/man1/edgegw.1.gz"
install -D -m 0644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/edgegw"

# copyright: edgegw, then every package the release binary is built from (Package.resolved),
# each with the license its checkout carries, and the Swift runtime linked in statically.
python3 - "$doc/copyright" <<'PY'
import json, os, sys
lines = [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: edgegw",
    "Comment: /usr/bin/edgegw is linked statically with the Swift runtime and the",
    " Swift packages below (swift build --static-swift-stdlib); the C libraries it",
    " uses are Debian packages of their own (see Depends).",
    "",
    "Files: *",
    "Copyright: edgegw maintainers",
    "License: edgegw",
    " The edgegw sources do not carry a license yet: all rights are reserved by",
    " their authors.",
    "",
    "Files: usr/bin/edgegw",
    "Copyright: Apple Inc. and the Swift project authors",
    "License: Apache-2.0",
    "Comment: the Swift standard library, Foundation and Dispatch, under the Apache",
    " License 2.0 with the Runtime Library Exception.",
]
licenses = {}
checkouts = ".build/checkouts"
for pin in json.load(open("Package.resolved"))["pins"]:
    name = pin["location"].rstrip("/").split("/")[-1].removesuffix(".git")
    text = ""
    for candidate in ("LICENSE", "LICENSE.txt", "LICENSE.md"):
        path = os.path.join(checkouts, name, candidate)
        if os.path.exists(path):
            text = open(path, encoding="utf-8", errors="replace").read()
            break
    if "Apache License" in text:
        short = "Apache-2.0"
    elif "Permission is hereby granted, free of charge" in text:
        short = "Expat"
        licenses.setdefault(short, text)
    else:
        sys.exit(f"build-deb: no recognised license in {checkouts}/{name}: add it to scripts/build-deb.sh")
    version = pin["state"].get("version") or pin["state"].get("revision", "")[:12]
    lines += ["", "Files: usr/bin/edgegw", f"Copyright: the {name} authors", f"License: {short}",
              f"Comment: {name} {version}, {pin['location']}"]
    if name == "swift-nio-extras":
        lines += [" It includes a copy of zlib (Sources/CNIOExtrasZlib, Copyright Jean-loup Gailly",
                  " and Mark Adler), under the zlib license, compiled into /usr/bin/edgegw."]
    if name == "swift-crypto":
        lines += [" It includes BoringSSL, under the OpenSSL and ISC licenses (both permissive),"]
        lines += [" see that repository's LICENSE and BoringSSL's own notices."]
lines += ["", "License: Apache-2.0",
          " On Debian systems, the full text of the Apache License 2.0 is in",
          " /usr/share/common-licenses/Apache-2.0."]
for short, text in licenses.items():
    lines += ["", f"License: {short}"]
    lines += [" " + l if l.strip() else " ." for l in text.strip().splitlines()]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY

# Control area.
install -d -m 0755 "$root/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"

# Depends: the shared libraries the binary needs, as Debian package relations.
mkdir -p "$stage/shlibs/debian"
printf 'Source: edgegw\n\nPackage: edgegw\nArchitecture: any\n' >"$stage/shlibs/debian/control"
shlibs=$(cd "$stage/shlibs" && dpkg-shlibdeps -O -e"$root/usr/bin/edgegw" 2>"$stage/shlibdeps.err") || {
    cat "$stage/shlibdeps.err" >&2; exit 1; }
shlibs=${shlibs#shlibs:Depends=}
depends="$shlibs, adduser"

installed_size=$(du -s -k --apparent-size --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@INSTALLED_SIZE@/$installed_size/" packaging/debian/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$outdir"
deb="$outdir/edgegw_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1)), Depends: $depends"
