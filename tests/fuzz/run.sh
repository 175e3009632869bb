#!/bin/sh
# Runs libFuzzer targets. Usage: tests/fuzz/run.sh smoke|SECONDS FUZZER...
#   smoke: each target replays its committed corpus, then fuzzes 10 s (make check).
#   SECONDS: each target fuzzes that long, new inputs go to a scratch corpus.
mode=$1; shift
cd "$(dirname "$0")/../.." || exit 1
rc=0
for f in "$@"; do
    name=$(basename "$f"); name=${name#fuzz_}
    corpus=tests/fuzz/corpus/$name
    [ -d "$corpus" ] || { echo "fuzz: $f has no corpus at $corpus"; rc=1; continue; }
    scratch=$(mktemp -d)
    if [ "$mode" = smoke ]; then
        secs=10
    else
        secs=$mode
    fi
    if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
         -artifact_prefix="$scratch/" "$scratch" "$corpus" >"$scratch/log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs' "$scratch/log" | tail -n 1)
        echo "fuzz $name: ok (${runs:-no summary}, ${secs}s)"
    else
        echo "fuzz $name: FAILED"; tail -n 30 "$scratch/log"; rc=1
        ls "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* 2>/dev/null
    fi
    rm -rf "$scratch"
done
exit $rc
