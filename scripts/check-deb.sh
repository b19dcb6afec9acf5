#!/usr/bin/env bash
# The shape of a built edgegw .deb, without installing it: control fields, the file list and
# modes, the conffiles, the maintainer scripts' shell syntax, and no secrets shipped.
# Usage: scripts/check-deb.sh edgegw_<version>_<arch>.deb   (prints each problem; exit 1 on any)
set -euo pipefail
deb=${1:?usage: scripts/check-deb.sh FILE.deb}
work=$(mktemp -d "${TMPDIR:-/tmp}/edgegw-check-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
problems=0
problem() { echo "check-deb: $deb: $*" >&2; problems=$((problems + 1)); }

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = edgegw ] || problem "Package is '$(field Package)', not edgegw"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || problem "Architecture is '$(field Architecture)'"
for name in Version Maintainer Installed-Size Section Priority Description; do
    [ -n "$(field "$name")" ] || problem "control field $name is missing"
done
case "$(basename "$deb")" in
    "edgegw_$(field Version)_$(field Architecture).deb") ;;
    *) problem "file name is not edgegw_$(field Version)_$(field Architecture).deb" ;;
esac
depends=$(field Depends)
case "$depends" in *"libc6 ("*) ;; *) problem "Depends has no libc6 version: '$depends'" ;; esac
case "$depends" in *adduser*) ;; *) problem "Depends lacks adduser (the postinst creates the user): '$depends'" ;; esac

# Files and modes, as "mode owner path" lines.
dpkg-deb -c "$deb" | awk '{ sub(/^\.\//, "/", $6); print $1, $2, $6 }' >"$work/list"
expect() {   # expect MODE PATH
    grep -qxF -- "$1 root/root $2" "$work/list" || problem "no $2 with mode $1 owned by root ($(grep -F " $2" "$work/list" | head -1))"
}
expect -rwxr-xr-x /usr/bin/edgegw
expect -rw-r--r-- /lib/systemd/system/edgegw.service
expect -rw-r--r-- /etc/edgegw/edgegw.toml
expect -rw-r--r-- /usr/share/doc/edgegw/copyright
expect -rw-r--r-- /usr/share/doc/edgegw/changelog.gz
expect -rw-r--r-- /usr/share/man/man1/edgegw.1.gz
for dir in /etc/edgegw/ /etc/edgegw/products/ /etc/edgegw/devices/ /etc/edgegw/secrets/; do
    expect drwxr-xr-x "$dir"
done
if grep -E ' /etc/edgegw/secrets/.' "$work/list"; then problem "ships files in /etc/edgegw/secrets"; fi
if grep -E ' /etc/edgegw/devices/.' "$work/list"; then problem "ships an active device in /etc/edgegw/devices"; fi
if grep -vE '^(-|d)' "$work/list"; then problem "holds something other than files and folders"; fi
if grep -E '^-..[sS]|^-.....[sS]' "$work/list"; then problem "ships a setuid or setgid file"; fi
if ! grep -qE ' /var/lib/edgegw' "$work/list"; then :; else problem "ships /var/lib/edgegw (the postinst creates it)"; fi

# Control area: conffiles are exactly the files under /etc; scripts parse.
dpkg-deb -e "$deb" "$work/control"
grep -E '^-.* /etc/' "$work/list" | awk '{ print $3 }' | sort >"$work/etc-files"
sort "$work/control/conffiles" >"$work/conffiles"
diff -u "$work/etc-files" "$work/conffiles" >&2 || problem "conffiles differ from the files under /etc (above)"
for script in postinst prerm postrm; do
    [ -x "$work/control/$script" ] || { problem "no executable $script"; continue; }
    head -1 "$work/control/$script" | grep -qx '#!/bin/sh' || problem "$script does not start with #!/bin/sh"
    sh -n "$work/control/$script" || problem "$script: shell syntax error"
    grep -q '^set -e' "$work/control/$script" || problem "$script lacks set -e"
done

# The unit runs the binary the package installs.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/edgegw.service >"$work/unit"
grep -q '^ExecStart=/usr/bin/edgegw run ' "$work/unit" || problem "the unit's ExecStart does not run /usr/bin/edgegw"
if grep -q '/usr/local/' "$work/unit"; then problem "the unit names /usr/local"; fi

if ((problems)); then
    echo "check-deb: $problems problem(s)" >&2
    exit 1
fi
echo "check-deb: $deb: OK ($(wc -l <"$work/list") entries, $(wc -l <"$work/conffiles") conffiles, Depends: $depends)"
