#!/bin/sh
# Runs each benchmark binary given as an argument in turn, showing its output.
# Exits non-zero if any benchmark is missing or fails (all are still run).
# Files that exist but are not executable (make's bench_NAME.d dependency
# files, when called with a glob such as build/bench/bench_*) are skipped.
# Usage: sh tests/bench/run.sh build/bench/bench_*
# Environment (e.g. BENCH_SCALE) passes through to the benchmarks.
# Then the gateway end to end (tests/bench/gateway.py: tandemd + pstnsim on 8
# virtual E1s, driven by SIPp); BENCH_GATEWAY=0 leaves it out.
set -u

if [ $# -eq 0 ]; then
    echo "usage: $0 BENCH_BINARY..." >&2
    exit 2
fi

failed=""
ran=0
for b in "$@"; do
    if [ ! -e "$b" ]; then
        echo "bench: $b: no such file" >&2
        failed="$failed $b"
        continue
    fi
    if [ ! -f "$b" ] || [ ! -x "$b" ]; then
        continue
    fi
    echo "== $b"
    ran=$((ran + 1))
    "$b"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "bench: $b failed (exit $rc)" >&2
        failed="$failed $b"
    fi
done

# The gateway end to end: needs build/tandemd, build/pstnsim, build/tandemctl and sipp.
gw_ran=0
if [ "${BENCH_GATEWAY:-1}" != 0 ]; then
    gw="$(dirname "$0")/gateway.py"
    echo "== $gw"
    /usr/bin/python3 "$gw"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "bench: $gw failed (exit $rc)" >&2
        failed="$failed $gw"
    else
        gw_ran=1
    fi
fi

if [ -n "$failed" ]; then
    echo "bench: FAILED:$failed" >&2
    exit 1
fi
if [ "$ran" -eq 0 ]; then
    echo "bench: no benchmark binary among the arguments" >&2
    exit 1
fi
echo "bench: $((ran + gw_ran)) passed"
