#!/bin/sh
# Runs the Swift test suites under ThreadSanitizer, then under AddressSanitizer (LeakSanitizer on),
# each from a build of its own (.build-tsan, .build-asan). Reports go to files, one per process, so a
# report from a hubd that a test starts is not lost in that hubd's piped output; any report fails.
# Needs HUB_TEST_DATABASE_URL (the Makefile's test-sanitize sets it, as `make test` does).
# Usage: scripts/sanitize.sh [thread] [address]
set -eu
cd "$(dirname "$0")/.."
: "${HUB_TEST_DATABASE_URL:?HUB_TEST_DATABASE_URL is required (use make test-sanitize)}"
failed=""
for sanitizer in ${*:-thread address}; do
    case "$sanitizer" in
    thread) scratch=.build-tsan ;;
    address) scratch=.build-asan ;;
    *) echo "sanitize: unknown sanitizer $sanitizer (thread or address)" >&2; exit 2 ;;
    esac
    echo "== $sanitizer: building into $scratch"
    swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" 2>&1 | grep -v "Cannot export local symbol" \
        | tail -3
    reports="$(pwd)/$scratch/reports"
    rm -rf "$reports" && mkdir -p "$reports"
    # The suites are Swift Testing; the empty XCTest pass only adds XCTest's own allocations to LeakSanitizer.
    status=0
    SWIFT_BACKTRACE=enable=no \
    TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 log_path=$reports/tsan" \
    ASAN_OPTIONS="detect_leaks=1 log_path=$reports/asan" \
    HUBD_BINARY="$(pwd)/$scratch/debug/hubd" \
        swift test --skip-build --disable-xctest --sanitize="$sanitizer" --scratch-path "$scratch" \
        >"$scratch/test.log" 2>&1 || status=$?
    grep -E "^(✔|✘) Test run|error:" "$scratch/test.log" | tail -5
    count="$(ls "$reports" | wc -l)"
    if [ "$status" != 0 ] || [ "$count" != 0 ]; then
        echo "sanitize: $sanitizer: tests exited $status, $count report(s) in $reports (log: $scratch/test.log)" >&2
        for report in "$reports"/*; do
            [ -f "$report" ] && grep -E "WARNING|ERROR|SUMMARY" "$report" | head -3 >&2
        done
        failed="$failed $sanitizer"
    else
        echo "sanitize: $sanitizer: clean"
    fi
done
[ -z "$failed" ] || { echo "sanitize: reports from:$failed" >&2; exit 1; }
