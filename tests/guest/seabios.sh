#!/bin/sh
# Whole-guest test: SeaBIOS (Debian's seabios package) from the reset
# vector, no -kernel and no disks, under the deterministic clock. Its log
# on the debug console at 0x402 must show the banner, the RAM size from
# fw_cfg's e820 map and "No bootable device"; its text screen must reach
# COM1 through sercon; with -boot reboot-timeout=0 it resets at once,
# which ends v2e with status 0 under -no-reboot and starts SeaBIOS again
# without it.
#
#   seabios.t [path/to/v2e]     (default: the v2e beside this test)
set -u
here=$(cd "$(dirname "$0")" && pwd)
v2e=${1:-$here/../v2e}
. "$here/tap.sh"

[ -r /usr/share/seabios/bios-256k.bin ] ||
	skip_all "no /usr/share/seabios/bios-256k.bin (scripts/install-deps.sh installs seabios)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

boot() {
	timeout -k 5 60 "$v2e" -m 256 -nographic -icount -no-reboot -boot reboot-timeout=0 \
		-device isa-debugcon,iobase=0x402,chardev=dbg \
		-chardev file,id=dbg,path="$out/$1.log" </dev/null >"$out/$1.com1" 2>"$out/$1.err"
	echo $? >"$out/$1.rc"
}

boot run1
rc=$(cat "$out/run1.rc")
check '[ "$rc" = 0 ]' "SeaBIOS resets after no device booted: status 0 under -no-reboot (got $rc: $(cat "$out/run1.err"))"
check 'grep -q "^SeaBIOS (version " "$out/run1.log"' "the debug console at 0x402 shows SeaBIOS's banner"
check 'grep -q "^Found QEMU fw_cfg" "$out/run1.log"' "SeaBIOS finds fw_cfg"
check 'grep -q "qemu/e820: addr 0x0000000000000000 len 0x0000000010000000 \[RAM\]" "$out/run1.log"' \
	"SeaBIOS reads the RAM size (-m 256) from etc/e820"
check 'grep -q "^sercon: using ioport 0x3f8" "$out/run1.log"' "SeaBIOS takes etc/sercon-port"
check 'grep -q "^No bootable device.  Retrying in 0 seconds." "$out/run1.log" && grep -q "^Rebooting" "$out/run1.log"' \
	"SeaBIOS reaches \"No bootable device\", waits etc/boot-fail-wait and reboots"
check 'tr -d "\r" <"$out/run1.com1" | grep -q "SeaBIOS (version " && tr -d "\r" <"$out/run1.com1" | grep -q "^No bootable device"' \
	"COM1 (sercon, -nographic) shows the banner and the boot messages"

boot run2
check 'cmp -s "$out/run1.log" "$out/run2.log" && cmp -s "$out/run1.com1" "$out/run2.com1"' \
	"a second run under -icount prints the same bytes"

# Without -no-reboot the reset starts SeaBIOS again at the reset vector.
timeout -k 5 3 "$v2e" -nographic -icount -boot reboot-timeout=0 \
	-debugcon file:"$out/loop.log" -device isa-debugcon,iobase=0x402,chardev=dbg \
	-chardev file,id=dbg,path="$out/loop.log2" </dev/null >/dev/null 2>&1
n=$(grep -c "^SeaBIOS (version " "$out/loop.log2")
check '[ "$n" -ge 2 ]' "a guest reset restarts the firmware from the reset vector ($n boots in 3 s)"

err=$("$v2e" -bios "$out/run1.log" -display none 2>&1); st=$?
check '[ "$st" = 2 ] && echo "$err" | grep -q -- "-bios $out/run1.log: [0-9]* bytes"' \
	"-bios with a file that is no firmware image: status 2, named ($err)"

tap_done
