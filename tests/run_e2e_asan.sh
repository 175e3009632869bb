#!/bin/sh
# The gateway's end-to-end tests once more, with the programs built under
# ASan+UBSan (build/asan/: tandemd, pstnsim, ...): real calls, transfers, media
# and restarts exercise lifetimes no unit test reaches. Any sanitizer report
# (also a leak at exit) fails the run, even when the test itself passed.
cd "$(dirname "$0")/.." || exit 1
logs=$(mktemp -d /tmp/tandem-asan.XXXXXX) || exit 1
export TANDEM_BUILD=build/asan
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$logs/ubsan"
/usr/bin/python3 -m pytest -q -p no:cacheprovider --reruns 1 -rR \
	-n "${E2E_JOBS:-2}" --dist loadfile ${E2E_ASAN_ARGS:-} \
	tests/e2e/test_audio.py tests/e2e/test_gateway.py tests/e2e/test_message.py \
	tests/e2e/test_redirect.py tests/e2e/test_ops.py tests/e2e/test_back_to_back.py \
	tests/e2e/test_static_bindings.py tests/e2e/test_trunk_proxy.py
rc=$?
if [ -n "$(ls -A "$logs")" ]; then
	echo "sanitizer reports (full text in $logs):"
	head -n 40 "$logs"/*
	exit 1
fi
rm -rf "$logs"
exit $rc
