#!/bin/sh
# make run: pstnsim as the exchange on a virtual E1, and tandemd in the foreground
# with the demo configuration (phones 1001-1004, PSTN numbers at pstnsim).
cd "$(dirname "$0")/.." || exit 1
cfg=provisioning/examples/tandem.yaml
simcfg=tdm/pstnsim/examples/demo.yaml
build/tandemd --check -c "$cfg" || exit 1
sim=""
if [ -x build/pstnsim ]; then
	build/pstnsim -c "$simcfg" &
	sim=$!
	trap 'kill "$sim" 2>/dev/null' EXIT INT TERM
	echo "pstnsim: the exchange (numbers in $simcfg); control with build/pstnctl"
else
	echo "pstnsim is not built: calls get 503 until the span comes up"
fi
echo "tandemd: SIP on 127.0.0.1:5060 (UDP and TCP). Register a softphone as 1001/demo1001"
echo "and call +12125550100 (answers), +12125550486 (busy). Stop with Ctrl-C."
echo "Operations: build/tandemctl -s /tmp/tandem-ctl.sock status|calls|spans|cdr;"
echo "metrics at http://127.0.0.1:9469/metrics; CDRs in /tmp/tandem-cdr.db;"
echo "registrations in /tmp/tandem-registrar.db (kept across restarts; delete it to forget them)."
build/tandemd -c "$cfg"
