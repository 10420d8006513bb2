#!/bin/sh
# v2e-io from the outside: qemu-io's command spelling, size suffixes,
# pattern checks and their exit status, read-only mode, info, map, and
# backing files resolved relative to the image, not the working directory.
here=$(cd "$(dirname "$0")" && pwd)
io=$here/../v2e-io
tmp=$(mktemp -d "${TMPDIR:-/tmp}/v2e-io-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$here/tap.sh"

cd "$tmp" || exit 1
mkdir sub
qemu-img create -q -f qcow2 sub/base.qcow2 4M
qemu-io -c 'write -P 0x33 0 4M' sub/base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 sub/top.qcow2
qemu-img create -q -f raw r.raw 2M

run_ok "write and read back with -P and k/M suffixes" \
	"$io" -f raw -c "write -P 0xab 1k 1M" -c "read -P 0xab 1k 1M" r.raw
run_ok "bytes around the write are still zero" \
	"$io" -f raw -c "read -P 0 0 1k" -c "read -P 0 1025k 1023k" r.raw
run_fails "a pattern mismatch fails" "$io" -f raw -c "read -P 0xac 1k 4k" r.raw
run_ok "and says where" sh -c \
	"'$io' -f raw -c 'read -P 0xac 1k 4k' r.raw | grep -q 'Pattern verification failed at offset 1024'"
run_fails "read past the end fails" "$io" -f raw -c "read 2M 1" r.raw
run_fails "-r refuses writes" "$io" -r -f raw -c "write 0 512" r.raw
run_ok "write -z zeroes" "$io" -f raw -c "write -z 1k 4k" -c "read -P 0 1k 4k" r.raw
run_ok "read -v dumps" sh -c "'$io' -f raw -c 'read -v 2048 32' r.raw | grep -q '^00000800:  00 00'"
run_fails "unknown command fails" "$io" -c "frobnicate" r.raw
run_fails "unknown format fails" "$io" -f vmdk -c "read 0 1" r.raw
run_ok "probing finds qcow2" sh -c "'$io' -c info sub/top.qcow2 | grep -q 'format name: qcow2'"
run_ok "info names the backing file" sh -c \
	"'$io' -c info sub/top.qcow2 | grep -q 'backing file: base.qcow2 (format qcow2)'"
run_ok "backing data shows through, from another directory" \
	"$io" -c "read -P 0x33 0 4M" sub/top.qcow2
run_ok "write over backing, discard, flush" \
	"$io" -c "write -P 0x44 64k 64k" -c "discard 192k 64k" -c flush sub/top.qcow2
run_ok "map shows what the top layer holds" sh -c \
	"'$io' -c map sub/top.qcow2 | grep -q '64 KiB (0x10000) bytes      allocated at offset 64 KiB (0x10000)'"
run_ok "qemu-io reads what v2e-io wrote" \
	sh -c "! qemu-io -r -c 'read -P 0x44 64k 64k' -c 'read -P 0x33 0 64k' sub/top.qcow2 | grep -q 'verification failed'"
run_ok "qemu-img check is clean" qemu-img check -q sub/top.qcow2
run_ok "qemu-img compare agrees" sh -c \
	"qemu-io -c 'write -P 0x44 64k 64k' sub/top.qcow2 >/dev/null && qemu-img convert -O raw sub/top.qcow2 top.raw && qemu-img compare -f qcow2 -F raw sub/top.qcow2 top.raw"
run_fails "a missing backing file is an error at open" sh -c \
	"qemu-img create -q -f qcow2 -u -b nowhere.qcow2 -F qcow2 orphan.qcow2 1M && '$io' -c 'read 0 1' orphan.qcow2"
tap_done
