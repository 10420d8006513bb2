#!/bin/sh
# Boots the default guest: Debian's i686 kernel and a busybox initramfs,
# fetched by package name on first use (scripts/fetch-guest.sh), on the
# terminal with the stock command line. Usage: scripts/run-guest.sh V2E
set -e
v2e=${1:?usage: run-guest.sh PATH-TO-V2E}
cd "$(dirname "$0")/.."
# Its progress shows on the terminal (the first run downloads).
scripts/fetch-guest.sh >&2
eval "$(scripts/fetch-guest.sh --paths)"
exec "$v2e" -m 256 -kernel "$V2E_KERNEL" -initrd "$V2E_INITRD" \
	-append console=ttyS0 -nographic
