#!/usr/bin/env bash
# make test: builds, runs every test, and ends with one plain summary line. The tests use
# Swift Testing; XCTest's own "Executed 0 tests" line, printed first, is not the count.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every target declares exactly what its files import (docs/architecture.md, "Rules").
swift package dump-package | python3 scripts/check-imports.py
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "Test run with [0-9]+ tests? in [0-9]+ suites? passed" "$log" | tail -1 || true)
if [ "$status" -eq 0 ] && [ -n "$summary" ]; then
  count=$(sed -E 's/.*Test run with ([0-9]+) tests?.*/\1/' <<<"$summary")
  echo "$count passed, 0 failed"
fi
exit "$status"
