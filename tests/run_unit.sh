#!/bin/sh
# Runs cmocka unit test binaries and prints one summary line.
# Usage: tests/run_unit.sh LABEL BINARY...
# Under ASan, LeakSanitizer is on and any report fails the binary.
label=$1; shift
passed=0; failed=0; failed_list=""
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
for t in "$@"; do
    log=$(mktemp)
    if timeout 300 "$t" >"$log" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failed_list="$failed_list $t"
        echo "---- $t ($label) failed:"; tail -n 40 "$log"
    fi
    rm -f "$log"
done
echo "unit-$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { echo "failed:$failed_list"; exit 1; }
