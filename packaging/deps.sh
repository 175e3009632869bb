#!/bin/sh
# Installs the Debian 12 packages that Tandem's build and tests need.
# Idempotent: quiet and quick when everything is already there.
# Usage: packaging/deps.sh            (as root, or with sudo available)
set -eu

PKGS="
build-essential pkg-config clang llvm libclang-rt-14-dev
libyaml-dev libssl-dev libc-ares-dev libsqlite3-dev libcmocka-dev
libpri-dev dahdi-source libspandsp-dev libsrtp2-dev libspeexdsp-dev
libosip2-dev libsofia-sip-ua-dev
python3 python3-pytest python3-pytest-rerunfailures python3-pytest-xdist
sip-tester sipsak sipvicious dnsmasq-base tshark openssl iproute2
baresip baresip-core sox
"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer once, no prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
