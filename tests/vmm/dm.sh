#!/bin/sh
# Device models out of process, end to end (test builds: the test-only
# devices and -dm-hostile exist only there). The sandbox stops a device
# model that tries to reach the host, the vmm names the dead dm and exits
# with the device-model-failure status (6), nothing on the host changes; a
# hostile dm's random and malformed answers stop the guest cleanly; claims
# that overlap are refused by name; a second dm serves chosen devices; a
# dm's windows move while the guest runs (winmove.asm).
dir=$(dirname "$0")
v2e="$dir/../v2e"
k="$dir/vmm"
. "$(dirname "$0")/tap.sh"
# No display: stderr holds only what a test looks for.
dx="-device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none"
probe="-device test-sandbox,iobase=0x700"
escape=/tmp/v2e-sandbox-escape
rm -f "$escape"

out=$("$v2e" -kernel "$k/dmprobe.mb" -append 0 $dx $probe -icount </dev/null 2>&1); st=$?
[ $st -eq $(((22 << 1) | 1)) ]; ok $? "the probe answers when it attempts nothing forbidden (EINVAL back, status $st)"

for what in "1 open(/etc/passwd)" "2 execve(/bin/true)" "3 socket(AF_INET)" "4 ptrace(TRACEME)" "5 creat($escape)"; do
	num=${what%% *}
	out=$(timeout 60 "$v2e" -kernel "$k/dmprobe.mb" -append "$num" $dx $probe -icount </dev/null 2>&1); st=$?
	[ $st -eq 6 ] && echo "$out" | grep -q "device model dm0" && echo "$out" | grep -q "SIGSYS"
	ok $? "a device model trying ${what#* } is killed by the sandbox; v2e exits 6 naming it ($st: $out)"
done
[ ! -e "$escape" ]; ok $? "nothing was created on the host"

out=$("$v2e" -kernel "$k/dmprobe.mb" -append 1 $dx $probe -dm inprocess -icount </dev/null 2>&1); st=$?
[ $st -eq 1 ]; ok $? "the same open in-process succeeds: the sandbox made the difference (status $st)"

out=$("$v2e" -kernel "$k/dmprobe.mb" -append d $dx -device test-dma,iobase=0x710 -icount </dev/null 2>&1); st=$?
[ $st -eq 67 ]; ok $? "a device model's DMA lands in guest RAM and is refused outside it ($st: $out)"

for mode in process inprocess; do
	out=$("$v2e" -kernel "$k/dmprobe.mb" -append s -serial stdio -dm $mode $dx -icount </dev/null 2>&1); st=$?
	[ $st -eq 67 ] && [ "$out" = "rep outsb to COM1" ]
	ok $? "REP OUTSB and REP INSB through the device model ($mode) ($st: $out)"
done

for mode in process inprocess; do
	for clock in -icount ""; do
		out=$(timeout 60 "$v2e" -kernel "$k/winmove.mb" $dx -device test-sandbox,iobase=0x720 \
			-dm $mode $clock </dev/null 2>&1); st=$?
		[ $st -eq 67 ]
		ok $? "a device model moves, adds and removes its windows under the running guest ($mode${clock:+, $clock}; status $st: $out)"
	done
done

exp="00:00.0 8086:1237
00:01.0 8086:7000
00:05.0 1234:0005"
for mode in process inprocess; do
	out=$(timeout 60 "$v2e" -kernel "$k/pci.mb" -serial stdio $dx -vga none -device test-pci \
		-dm $mode -icount </dev/null 2>&1); st=$?
	[ $st -eq 67 ] && [ "$out" = "$exp" ]
	ok $? "PCI bus 0 through 0xcf8/0xcfc: chipset ids, a device model's function, BAR sizing and its window moving, PAM ($mode; $st: $out)"
done
for slot in 0 1; do
	out=$(timeout 60 "$v2e" -kernel "$k/pci.mb" $dx -device test-pci,addr=$slot -icount </dev/null 2>&1); st=$?
	[ $st -eq 6 ] && echo "$out" | grep -Eq "PCI 0$slot.0, which is|PCI slot $slot refused"
	ok $? "a device model's claim of chipset slot $slot is refused by name ($st: $out)"
done
out=$(timeout 60 "$v2e" -kernel "$k/pci.mb" $dx -device test-pci -device test-pci -icount </dev/null 2>&1); st=$?
[ $st -eq 6 ] && echo "$out" | grep -q "PCI slot 5 refused"
ok $? "two functions cannot share a slot ($st: $out)"

out=$("$v2e" -kernel "$k/dmprobe.mb" -append l $dx -icount </dev/null 2>&1); st=$?
[ $st -eq 67 ]; ok $? "100000 port round trips to the device model ($st)"

for seed in 301 302 303 304 305 306 307 308 309 310 311 312; do
	out=$(timeout 60 "$v2e" -kernel "$k/dmprobe.mb" -append l $dx -icount \
		-dm-hostile $seed -dm-timeout 1000 </dev/null 2>&1); st=$?
	[ $st -eq 6 ] && echo "$out" | grep -q "device model dm0 failed" && ! echo "$out" | grep -q "AddressSanitizer\|runtime error"
	ok $? "hostile dm (seed $seed): the guest stops cleanly with status 6 ($st: $(echo "$out" | tail -1))"
done

out=$("$v2e" -kernel "$k/hello.mb" $dx -device isa-debug-exit,iobase=0x3f8,iosize=1 -icount </dev/null 2>&1); st=$?
[ $st -eq 2 ]; ok $? "a second isa-debug-exit is refused by the command line ($st)"

out=$("$v2e" -kernel "$k/hello.mb" -device isa-debug-exit,iobase=0x3f8,iosize=1 -dm-split isa-debug-exit -icount </dev/null 2>&1); st=$?
[ $st -eq 6 ] && echo "$out" | grep -q "overlaps com1"; ok $? "a claim by dm1 overlapping dm0's COM1 is refused by name ($st: $out)"

out=$("$v2e" -kernel "$k/hello.mb" -serial stdio -dm-split i8042,port92,isa-debug-exit $dx -icount </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ "$out" = "hello from COM1
rtc 26-01-01" ]; ok $? "-dm-split: isa-debug-exit in a second device model, COM1 in the first ($st: $out)"

err=$("$v2e" -kernel "$k/kbd.mb" -no-reboot -dm-split i8042 $dx </dev/null 2>&1); st=$?
[ $st -eq 0 ]; ok $? "-dm-split: reset through the keyboard controller in dm1 ($st: $err)"

err=$("$v2e" -kernel "$k/hello.mb" -dm frobnicate 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "inprocess"; ok $? "-dm with a wrong mode: status 2, the choices named"

rm -f "$escape"
tap_done
