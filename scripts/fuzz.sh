#!/bin/sh
# Builds the libFuzzer targets of Tests/Fuzz (instrumented with -sanitize=fuzzer,address) into
# .build-fuzz, runs each for a bounded time, and prints each target's executions and coverage.
# Usage: scripts/fuzz.sh [seconds-per-target] [Target...]   (default: $FUZZ_SECONDS or 60, every target)
# FUZZ_CONFIG=release builds optimised (about four times the executions per second; Swift's `assert`s
# are then off); the default, debug, builds faster and checks them.
# A crash (or a broken invariant) stops nothing else; the script exits 1 and names the input to replay:
#   .build-fuzz/debug/<Target> <crash-file>
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-${FUZZ_SECONDS:-60}}"
[ $# -gt 0 ] && shift
TARGETS="${*:-$(for main in Tests/Fuzz/*/main.swift; do basename "$(dirname "$main")"; done)}"
SCRATCH=.build-fuzz
CONFIG="${FUZZ_CONFIG:-debug}"
case "$CONFIG" in
debug) BUILD_FLAGS="-c debug" ;;
release) BUILD_FLAGS="-c release -Xswiftc -enable-testing" ;;   # targets may use @testable import
*) echo "fuzz: FUZZ_CONFIG must be debug or release, not $CONFIG" >&2; exit 2 ;;
esac

# libFuzzer ships with the Swift toolchain (compiler-rt); nothing to install, but say so if it is missing.
SWIFTC="$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)"
if ! ls "$(dirname "$SWIFTC")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a \
        "$(dirname "$SWIFTC")"/../lib/swift/clang/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
    echo "fuzz: this Swift toolchain ($SWIFTC) has no libFuzzer runtime (libclang_rt.fuzzer)" >&2
    exit 1
fi

mkdir -p "$SCRATCH/logs"
for target in $TARGETS; do
    # One product per build: hubd and loadtest are not linked with libFuzzer.
    if ! HUB_FUZZ=1 swift build $BUILD_FLAGS --scratch-path "$SCRATCH" -Xswiftc -sanitize=fuzzer,address \
            --product "$target" >"$SCRATCH/logs/build-$target.log" 2>&1; then
        grep -v "Cannot export local symbol" "$SCRATCH/logs/build-$target.log" | tail -30 >&2
        echo "fuzz: building $target failed" >&2
        exit 1
    fi
done

BIN="$(HUB_FUZZ=1 swift build $BUILD_FLAGS --scratch-path "$SCRATCH" --show-bin-path)"
failed=""
printf '%-22s %12s %10s %8s %8s %8s  %s\n' target execs exec/s cov ft corpus result
for target in $TARGETS; do
    corpus="$SCRATCH/corpus/$target" artifacts="$SCRATCH/artifacts/$target/" log="$SCRATCH/logs/$CONFIG-$target.log"
    mkdir -p "$corpus" "$artifacts"
    dict=""
    [ -f "Tests/Fuzz/dict/$target.dict" ] && dict="-dict=Tests/Fuzz/dict/$target.dict"
    # New inputs go to the first folder (under .build-fuzz); the seeds in Tests/Fuzz/corpus stay as committed.
    # Swift's own backtracer is off: it fights ASan over a crashing process.
    status=0
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        "$BIN/$target" -max_total_time="$SECONDS_EACH" -timeout=10 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$artifacts" $dict "$corpus" "Tests/Fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
    last="$(grep -aE '^#[0-9]+' "$log" | grep -a 'cov:' | tail -1)"
    cov="$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')"
    ft="$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')"
    corp="$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')"
    result=ok
    if [ "$status" != 0 ]; then
        crash="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
        result="FAILED ($status): ${crash:-see $log}"
        failed="$failed $target"
    fi
    printf '%-22s %12s %10s %8s %8s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
if [ -n "$failed" ]; then
    for target in $failed; do
        log="$SCRATCH/logs/$CONFIG-$target.log"
        echo "== $target: $log" >&2
        grep -aE "fuzz invariant broken|ERROR:|Fatal error|SUMMARY" "$log" | head -5 >&2
        echo "replay: SWIFT_BACKTRACE=enable=no $BIN/$target <the crash file above>" >&2
    done
    exit 1
fi
