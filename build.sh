#!/bin/sh
# The README's two commands on a fresh Debian machine where only git was
# installed: make itself comes from Debian's build-essential first, then
# make does the rest (its targets install what they need).
#   ./build.sh run      boot the default guest on this terminal
#   ./build.sh check    install the test dependencies, build, run every test
set -e
cd "$(dirname "$0")"
if ! command -v make >/dev/null 2>&1 || ! command -v cc >/dev/null 2>&1; then
	echo "build.sh: installing build-essential (make, gcc) from Debian" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq build-essential >/dev/null
fi
exec make "$@"
