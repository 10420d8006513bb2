#!/bin/sh
# The GDB stub against Debian's i686 kernel under -icount: -S, a
# breakpoint at the decompressed kernel's entry (the ELF entry of the
# bzImage's payload, paging still off), linux_banner read there by its
# physical address, then a read watchpoint on linux_banner's virtual
# address (0xc0000000 + physical: the kernel's direct map) that stops in
# start_kernel's printk, where x/s reads it through the page tables and
# stepi moves on; kill ends v2e with 0. Debian's linux-image package ships
# no real System.map, so the addresses come from the kernel image itself.
#
#   gdb.t [path/to/v2e]     (default: the v2e beside this test)
set -u
here=$(cd "$(dirname "$0")" && pwd)
v2e=${1:-$here/../v2e}
root=$(cd "$here/../../.." && pwd)
. "$(dirname "$0")/tap.sh"
has() { printf '%s\n' "$out" | grep -q -- "$1"; }

command -v gdb >/dev/null && command -v xz >/dev/null && command -v readelf >/dev/null || {
	echo "1..0 # SKIP needs gdb, xz and readelf"
	exit 0
}
paths=$("$root/scripts/fetch-guest.sh" --paths 2>/dev/null) || {
	echo "1..0 # SKIP guest material could not be fetched from Debian's archive"
	exit 0
}
eval "$paths"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The payload (boot protocol: setup_sects at 0x1f1, payload_offset at
# 0x248 from the protected-mode code) is an xz-compressed ELF vmlinux.
le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$V2E_KERNEL" | tr -d ' ')
[ "$setup" -eq 0 ] && setup=4
off=$(( (setup + 1) * 512 + $(le32 "$V2E_KERNEL" $((0x248))) ))
tail -c +$((off + 1)) "$V2E_KERNEL" | xz -dc --single-stream >"$tmp/vmlinux" 2>/dev/null
entry=$(le32 "$tmp/vmlinux" 24)
# linux_banner is the copy with the build number ("#1 SMP ..."); the
# weak one in init/version.c lacks it.
boff=$(grep -abo 'Linux version [^#]* #[0-9]' "$tmp/vmlinux" | head -1 | cut -d: -f1)
bphys=""
if [ -n "$boff" ]; then
	# LOAD Offset VirtAddr PhysAddr FileSiz ...: the segment holding it.
	bphys=$(readelf -lW "$tmp/vmlinux" | while read -r type fo va pa fsz rest; do
		[ "$type" = LOAD ] || continue
		if [ "$boff" -ge $((fo)) ] && [ "$boff" -lt $((fo + fsz)) ]; then
			printf '0x%x\n' $((pa + boff - fo))
		fi
	done)
fi
[ -n "$entry" ] && [ -n "$bphys" ]; ok $? "the kernel's entry ($(printf '%#x' "${entry:-0}")) and linux_banner ($bphys) found in the image"
[ -n "$bphys" ] || tap_done
bvirt=$(printf '0x%x' $((bphys + 0xc0000000)))

sock="$tmp/gdb.sock"
(timeout 600 "$v2e" -kernel "$V2E_KERNEL" -initrd "$V2E_INITRD_TEST" \
	-append "console=ttyS0 nokaslr" -display none -icount -no-reboot \
	-gdb "unix:$sock" -S </dev/null >/dev/null 2>"$tmp/err"; echo $? >"$tmp/st") &
i=0
while [ ! -S "$sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
out=$(timeout 600 gdb -nx -batch -ex 'set pagination off' -ex "target remote $sock" \
	-ex "break *$entry" -ex 'continue' -ex 'p $pc' -ex "x/s $bphys" -ex 'delete' \
	-ex "rwatch *(char *)$bvirt" -ex 'continue' -ex 'p/x $cr0 & 0x80000000' \
	-ex "x/s $bvirt" -ex 'p $pc' -ex 'stepi' -ex 'p $pc' -ex 'kill' 2>&1)
i=0
while [ ! -s "$tmp/st" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
st=$(cat "$tmp/st" 2>/dev/null || echo none)

has "^Breakpoint 1, $(printf '0x%08x' "$entry")"; ok $? "break at the decompressed kernel's entry"
has "^$bphys:	\"Linux version "; ok $? "linux_banner read by its physical address there (paging off)"
has 'Hardware read watchpoint 2' && has '^\$2 = 0x80000000$'; ok $? "a read watchpoint on linux_banner's virtual address stops the kernel printing it, paging on"
has "^$bvirt:	\"Linux version "; ok $? "x/s linux_banner through the kernel's page tables"
pc1=$(printf '%s\n' "$out" | sed -n 's/^\$3 = (void (\*)()) \(0x[0-9a-f]*\).*/\1/p')
pc2=$(printf '%s\n' "$out" | sed -n 's/^\$4 = (void (\*)()) \(0x[0-9a-f]*\).*/\1/p')
[ -n "$pc1" ] && [ -n "$pc2" ] && [ "$pc1" != "$pc2" ]; ok $? "stepi moves the kernel on ($pc1 -> $pc2)"
[ "$st" = 0 ]; ok $? "kill ends v2e with status 0 ($st)"
[ $tap_failed -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
tap_done
