#!/bin/sh
# Runs the end-to-end tests (pytest from Debian) against the binaries in build/.
# A test that fails is run once more (pytest-rerunfailures) and reported as
# "rerun" in the summary: these tests drive real processes with real timers on a
# shared 2-core machine. Test files run two at a time (pytest-xdist, one file
# per worker: most of the time goes to waiting on timers such as a session
# timer's 60 s; every test picks its own ports and socket names).
# Extra pytest arguments: E2E_ARGS="-k sipp -x"; E2E_JOBS=1 runs one at a time.
cd "$(dirname "$0")/.." || exit 1
# shellcheck disable=SC2086
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider --reruns 1 -rR \
	-n "${E2E_JOBS:-2}" --dist loadfile ${E2E_ARGS:-} tests/e2e
