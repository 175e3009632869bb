#!/bin/sh
# Runs the end-to-end tests (pytest from Debian) against the binaries in build/.
# A test that fails is run once more (pytest-rerunfailures) and reported as
# "rerun" in the summary: these tests drive real processes with real timers on a
# shared 2-core machine. Extra pytest arguments: E2E_ARGS="-k sipp -x"
cd "$(dirname "$0")/.." || exit 1
# shellcheck disable=SC2086
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider --reruns 1 -rR ${E2E_ARGS:-} tests/e2e
