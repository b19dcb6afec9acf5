# edgegw — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
CONFIG ?= etc/edgegw/edgegw.toml

.PHONY: deps build release deb package-check test demo bench fuzz soak clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# The daemon for an edge box: the Swift runtime linked in, symbols stripped (about 65 MB).
release: deps
	$(SWIFT) build -c release --static-swift-stdlib --product edgegw
	strip -o edgegw "$$($(SWIFT) build -c release --show-bin-path)/edgegw"
	@echo "built ./edgegw"

# The Debian package of the release build: ./edgegw_<version>_<arch>.deb (scripts/build-deb.sh).
deb: release
	@scripts/build-deb.sh

# lintian, then install, upgrade over a previous version, remove and purge the package in a
# throwaway Debian root under .build/package-check (needs root; about a minute once it exists).
package-check: deb
	@scripts/package-check.sh

# Every test: pure codecs and state machines, real libraries against real peers on
# 127.0.0.1, and the edgegw binary as a black box.
test: deps
	@scripts/run-tests.sh

demo: deps
	$(SWIFT) build
	@scripts/demo.sh

bench: deps
	@scripts/bench.sh

# Coverage-guided fuzzing (libFuzzer, AddressSanitizer) of every parser of outside input,
# FUZZ_SECONDS (default 180) per target; see README, "Fuzzing" (scripts/fuzz.sh).
fuzz: deps
	@scripts/fuzz.sh

# The release daemon for SOAK_MINUTES (default 60) at a site's size: 10,000 NB-IoT modules
# reporting, 100 Modbus points a second, the cloud link dropped every 10 minutes; RSS, descriptors,
# outbox depth and log volume every 30 s in soak-run/samples.csv, and what was lost (scripts/soak.sh).
soak: deps
	@scripts/soak.sh

clean:
	rm -rf .build .build-fuzz .fuzz demo-run soak-run .bench edgegw edgegw_*.deb
