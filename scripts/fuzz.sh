#!/usr/bin/env bash
# make fuzz: coverage-guided fuzzing of every parser of outside input (README, "Fuzzing").
#
# Builds edgegw-fuzz once with libFuzzer and AddressSanitizer (release, in .build-fuzz), then runs
# each target for FUZZ_SECONDS (default 180): its working corpus is .fuzz/<target>/corpus (kept
# between runs, never committed), the committed seeds Tests/Fuzz/<target>/ are read, never written.
# A crash, a trap (a broken round trip), a leak, an input slower than FUZZ_TIMEOUT seconds or a
# process above FUZZ_RSS_LIMIT_MB leaves its reproducer in Tests/Fuzz/<target>/regressions/, which
# `make test` then replays; the run goes on with the next target and fails at the end.
#
#   FUZZ_SECONDS=600 make fuzz                    longer runs
#   FUZZ_TARGETS="pcp codec-decode" make fuzz     some targets only
#   FUZZ_JOBS=2 make fuzz                         two targets at a time (one core each)
#   FUZZ_MERGE=1 make fuzz                        add what each run found that reaches new edges to
#                                                 the committed corpus (libFuzzer -merge=1 with
#                                                 -use_counters=0: an input per edge the corpus
#                                                 lacks, the smallest of equals; hit counts aside)
#
# The table of executions, coverage (edges, "cov") and corpus size per target is printed and
# written to .fuzz/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-180}
rss_limit_mb=${FUZZ_RSS_LIMIT_MB:-2048}
timeout=${FUZZ_TIMEOUT:-10}
build=.build-fuzz
work=.fuzz

swift build -c release --build-path "$build" --product edgegw-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
bin="$(swift build -c release --build-path "$build" --show-bin-path)/edgegw-fuzz"

# Traps go to libFuzzer's handler, which writes the reproducer; Swift's own backtracer would
# take the signal first and wait on an interactive prompt.
export SWIFT_BACKTRACE=enable=no

declare -A max_len
while read -r name length _; do max_len[$name]=$length; done < <("$bin" list)
targets=${FUZZ_TARGETS:-$("$bin" list | cut -d' ' -f1)}
for target in $targets; do
    [[ -n ${max_len[$target]:-} ]] || { echo "fuzz: no target $target (targets: ${!max_len[*]})" >&2; exit 2; }
done

# libFuzzer's final statistics (`stat::name: value`), 0 when absent.
stat() { awk -v key="stat::$1:" '$1 == key { value = $2 } END { print value == "" ? 0 : value }' "$2"; }
# The last "cov: N" (edges) or "ft: N" (features) libFuzzer printed.
last_count() {
    awk -v key="$1:" '{ for (i = 1; i < NF; i++) if ($i == key) value = $(i + 1) } END { print value == "" ? 0 : value }' "$2"
}
# What went wrong, in a few words: libFuzzer's or a sanitizer's verdict, and Swift's reason.
failure() {
    local kind reason
    kind=$(grep -o -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-zA-Z -]+' "$1" | cut -d' ' -f2- || true)
    reason=$(grep -o -m1 -E '(Fatal error|Swift runtime failure): .*' "$1" | cut -c1-100 || true)
    echo "${kind}${reason:+ ($reason)}"
}

mkdir -p "$work"
summary=$work/summary.txt
row() { printf '%-20s %8s %12s %9s %7s %7s %8s %8s  %s\n' "$@"; }

# One target: fuzz it, write its table row to .fuzz/<target>/row (its result "ok" or what went
# wrong), and with FUZZ_MERGE=1 add what it found to the committed corpus.
run_target() {
    local target=$1 seeds=Tests/Fuzz/$1 corpus=$work/$1/corpus log=$work/$1/fuzz.log status
    local regressions=$seeds/regressions
    mkdir -p "$corpus" "$regressions"
    rm -f "$work/$target/row"
    echo "== $target: ${seconds}s, -max_len=${max_len[$target]}"
    set +e
    EDGEGW_FUZZ_TARGET=$target "$bin" "$corpus" "$seeds" \
        -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" -timeout="$timeout" \
        -max_len="${max_len[$target]}" -print_final_stats=1 -artifact_prefix="$regressions/" > "$log" 2>&1
    status=$?
    set -e
    local result=ok
    if [[ $status -ne 0 ]]; then
        result=$(failure "$log")
        result=${result:-"exit $status"}
        echo "   $target FAILED ($result); log: $log"
        grep -m3 -E 'Fatal error|ERROR:|SUMMARY' "$log" | sed 's/^/   /' || true
        for artifact in $(grep -o "Test unit written to [^ ]*" "$log" | cut -d' ' -f5); do
            echo "   reproducer: $artifact"
            echo "   replay it: swift build --product edgegw-fuzz && .build/debug/edgegw-fuzz replay $target $artifact"
        done
    fi
    rmdir "$regressions" 2>/dev/null || true
    row "$target" "$seconds" "$(stat number_of_executed_units "$log")" "$(stat average_exec_per_sec "$log")" \
        "$(last_count cov "$log")" "$(last_count ft "$log")" "$(find "$corpus" -type f | wc -l)" \
        "$(stat peak_rss_mb "$log")" "$result" | tee "$work/$target/row"
    if [[ ${FUZZ_MERGE:-0} == 1 && $status -eq 0 ]]; then
        local before
        before=$(find "$seeds" -maxdepth 1 -type f | wc -l)
        EDGEGW_FUZZ_TARGET=$target "$bin" -merge=1 -use_counters=0 -max_len="${max_len[$target]}" -timeout="$timeout" \
            -rss_limit_mb="$rss_limit_mb" "$seeds" "$corpus" > "$work/$target/merge.log" 2>&1
        echo "   $target merged: $(( $(find "$seeds" -maxdepth 1 -type f | wc -l) - before )) new inputs into $seeds"
    fi
}

# FUZZ_JOBS targets at a time (each fuzzer is one process on one core).
jobs_at_once=${FUZZ_JOBS:-1}
for target in $targets; do
    while [[ $(jobs -rp | wc -l) -ge $jobs_at_once ]]; do wait -n || true; done
    run_target "$target" &
done
wait

row target seconds executions exec/s edges features corpus rss_mb result > "$summary"
failed=()
for target in $targets; do
    result="no result"
    [[ -e $work/$target/row ]] && read -r _ _ _ _ _ _ _ _ result < "$work/$target/row"
    [[ $result == ok ]] || failed+=("$target")
    cat "$work/$target/row" >> "$summary" 2>/dev/null || row "$target" "$seconds" - - - - - - "$result" >> "$summary"
done

echo
cat "$summary"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: failures in ${failed[*]}: reproducers are in Tests/Fuzz/<target>/regressions/ (make test replays them)" >&2
    exit 1
fi
