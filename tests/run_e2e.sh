#!/bin/sh
# Runs the end-to-end tests (pytest from Debian) against the binaries in build/.
# Extra pytest arguments: E2E_ARGS="-k sipp -x"
cd "$(dirname "$0")/.." || exit 1
set -- tests/e2e
# shellcheck disable=SC2086
/usr/bin/python3 -m pytest -q -p no:cacheprovider ${E2E_ARGS:-} "$@"
