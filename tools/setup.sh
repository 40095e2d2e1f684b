#!/bin/sh
# Installs the Debian packages Switchboard builds with, only those that are missing,
# so that it costs nothing on a machine that already has them.
set -eu
PKGS="build-essential cmake pkg-config libzmq3-dev libmsgpack-dev libjansson-dev libcmocka-dev clang"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "setup: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
