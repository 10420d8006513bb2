#!/bin/sh
# Checks, after the disk guest powered off, what it wrote into a copy of
# root-ext4.img (raw) or root-ext4.qcow2 (scripts/make-images.sh,
# guest/rootfs-init), without mounting anything: e2fsck -fn finds the
# filesystem clean, /guest-wrote.txt says the guest found the host's file
# intact, and /guest-seq.txt is `seq 1 100000` with the sum the guest
# computed for it. Prints one "check-root-image: ..." line per check (and
# the file), exits 0 when all hold, 1 otherwise.
#
# Usage: scripts/check-root-image.sh IMAGE
#   A qcow2 image (its magic "QFI\xfb") is converted to raw first with
#   qemu-img. e2fsck and debugfs come from e2fsprogs.
set -eu

[ $# -eq 1 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
img=$1
[ -f "$img" ] || { echo "check-root-image: no such file: $img" >&2; exit 2; }
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

raw=$img
if [ "$(head -c 4 "$img" | od -An -tx1 | tr -d ' \n')" = 514649fb ]; then
	qemu-img convert -f qcow2 -O raw "$img" "$tmp/raw.img"
	raw=$tmp/raw.img
fi

bad=0
ok() { echo "check-root-image: ok: $*"; }
notok() { echo "check-root-image: FAIL: $*"; bad=1; }

# The guest's clock (v2e's -icount epoch, QEMU's host time) is not the
# host's: the superblock's times are no error here.
printf '[options]\n\tbroken_system_clock = 1\n' >"$tmp/e2fsck.conf"
if E2FSCK_CONFIG=$tmp/e2fsck.conf e2fsck -fn "$raw" >"$tmp/e2fsck.log" 2>&1; then
	ok "e2fsck -fn: $(tail -n 1 "$tmp/e2fsck.log")"
else
	sed 's/^/# /' "$tmp/e2fsck.log"
	notok "e2fsck -fn finds errors"
fi

if debugfs -R "cat /guest-wrote.txt" "$raw" >"$tmp/guest-wrote.txt" 2>"$tmp/debugfs.err" &&
   [ -s "$tmp/guest-wrote.txt" ]; then
	sed 's/^/check-root-image: guest-wrote.txt: /' "$tmp/guest-wrote.txt"
else
	notok "no /guest-wrote.txt ($(grep -v '^debugfs' "$tmp/debugfs.err" | head -n 1))"
fi
line() { sed -n "s/^$1: //p" "$tmp/guest-wrote.txt"; }
if [ "$(head -n 1 "$tmp/guest-wrote.txt")" = "v2e guest wrote this" ]; then
	ok "guest-wrote.txt is the guest's"
else
	notok "guest-wrote.txt does not start with the guest's line"
fi
if [ "$(line host-wrote)" = OK ]; then
	ok "the guest read /host-wrote.txt intact"
else
	notok "the guest found /host-wrote.txt \"$(line host-wrote)\""
fi

want=$(seq 1 100000 | sha256sum)
debugfs -R "cat /guest-seq.txt" "$raw" 2>/dev/null >"$tmp/guest-seq.txt" || :
got=$(sha256sum <"$tmp/guest-seq.txt")
if [ "$got" = "$want" ] && [ "$(line guest-seq)" = "$want" ]; then
	ok "guest-seq.txt is seq 1 100000, as the guest summed it"
else
	notok "guest-seq.txt: $got, the guest said $(line guest-seq), seq 1 100000 is $want"
fi
exit $bad
