#!/bin/sh
# make run: starts tandemd in the foreground with the demo configuration.
# The PSTN side (virtual spans and pstnsim) is not built yet; see README.md.
cd "$(dirname "$0")/.." || exit 1
cfg=provisioning/examples/tandem.yaml
build/tandemd --check -c "$cfg" || exit 1
echo "tandemd: SIP on 127.0.0.1:5060 (UDP and TCP). Try: sipsak -s sip:test@127.0.0.1:5060"
echo "Stop with Ctrl-C."
exec build/tandemd -c "$cfg"
