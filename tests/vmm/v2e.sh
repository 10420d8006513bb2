#!/bin/sh
# The v2e program end to end: exit statuses as DESIGN.md fixes them, the
# Multiboot hand-over, deterministic time under -icount, refusals by name.
dir=$(dirname "$0")
v2e="$dir/../v2e"
k="$dir/vmm"
. "$(dirname "$0")/tap.sh"
# The exit device; and no display, so that stderr holds only what a test
# looks for (the default, a VNC server, has its own check below).
exit_dev="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
dx="$exit_dev -display none"

"$v2e" -kernel "$k/exit42.mb" -append hello $dx 2>/dev/null; st=$?
[ $st -eq 67 ]; ok $? "isa-debug-exit: guest wrote 0x21, status (0x21 << 1) | 1 = 67 (got $st)"

"$v2e" -kernel "$k/exit42.mb" -append bye $dx 2>/dev/null; st=$?
[ $st -eq 255 ]; ok $? "the kernel sees its own command line (wrong one: 0x7f -> 255, got $st)"

err=$("$v2e" -kernel "$k/triple.mb" -no-reboot $dx 2>&1); st=$?
[ $st -eq 4 ] && echo "$err" | grep -q "triple fault"; ok $? "triple fault under -no-reboot: status 4 and a reason ($st: $err)"

err=$("$v2e" -frobnicate 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q -- "-frobnicate"; ok $? "unknown option: status 2, named"

err=$("$v2e" -kernel "$k/does-not-exist" 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "does-not-exist"; ok $? "missing kernel: status 2, named"

a=$("$v2e" -kernel "$k/clock.mb" -icount $dx 2>/dev/null; echo $?)
b=$("$v2e" -kernel "$k/clock.mb" -icount $dx 2>/dev/null; echo $?)
[ "$a" = "$b" ] && [ $((a & 1)) -eq 1 ]; ok $? "-icount: two runs end the same way ($a, $b)"

"$v2e" -kernel "$k/clock.mb" -icount shift=0 $dx 2>/dev/null; c=$?
[ "$c" != "$a" ]; ok $? "-icount shift changes the guest's view of time ($a vs $c)"

out=$("$v2e" -kernel "$k/hello.mb" -serial stdio -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ "$out" = "hello from COM1
rtc 26-01-01" ]; ok $? "COM1 on stdio, RTC at the deterministic epoch under -icount ($st: $out)"

out=$("$v2e" -kernel "$k/hello.mb" -nographic -icount $dx </dev/null 2>&1); st=$?
echo "$out" | grep -q "hello from COM1"; ok $? "-nographic puts COM1 on the terminal"

f=$(mktemp)
"$v2e" -kernel "$k/hello.mb" -serial "file:$f" $dx </dev/null >/dev/null 2>&1; st=$?
[ $st -eq 1 ] && grep -q "hello from COM1" "$f"; ok $? "-serial file:PATH"
rm -f "$f"

out=$("$v2e" -kernel "$k/hello.mb" -display none $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ -z "$out" ]; ok $? "no -serial: COM1 exists, its output goes nowhere"

out=$("$v2e" -kernel "$k/float.mb" -serial stdio -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ "$out" = "x87 10 3141593
sse2 21 3fd5555555555555" ]; ok $? "a guest computes with the x87 and SSE2 ($st: $out)"

out=$("$v2e" -kernel "$k/irq.mb" -serial stdio -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ "$out" = "irqs P" ]; ok $? "RTC periodic IRQ 8 through the PIC cascade wakes HLT 16 times (-icount) ($st: $out)"

out=$(timeout 20 "$v2e" -kernel "$k/irq.mb" -serial stdio $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ "$out" = "irqs P" ]; ok $? "the same in real time ($st: $out)"

exp="pit irq0 ticks 50
out2 rose, low at load: 0"
out=$("$v2e" -kernel "$k/pit.mb" -serial stdio -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ "$out" = "$exp" ]; ok $? "PIT counter 0 mode 2 on IRQ 0, counter 2 gated by port 0x61 (-icount) ($st: $out)"

out=$(timeout 20 "$v2e" -kernel "$k/pit.mb" -serial stdio $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ "$out" = "$exp" ]; ok $? "the same in real time ($st: $out)"

err=$("$v2e" -kernel "$k/reset.mb" -no-reboot $dx </dev/null 2>&1); st=$?
[ $st -eq 0 ]; ok $? "reset through port 0x92 under -no-reboot: status 0 ($st: $err)"

"$v2e" -kernel "$k/reset.mb" $dx </dev/null >/dev/null 2>&1; st=$?
[ $st -eq 11 ]; ok $? "without -no-reboot the machine boots again (second boot exits 5 -> 11, got $st)"

err=$("$v2e" -kernel "$k/kbd.mb" -no-reboot $dx </dev/null 2>&1); st=$?
[ $st -eq 0 ]; ok $? "reset through the keyboard controller (0xfe to port 0x64) under -no-reboot: status 0 ($st: $err)"

"$v2e" -kernel "$k/kbd.mb" $dx </dev/null >/dev/null 2>&1; st=$?
[ $st -eq 11 ]; ok $? "the same without -no-reboot boots again (second boot exits 5 -> 11, got $st)"

exp="lapic timer 20, ioapic irq0 20, pm timer ok"
out=$("$v2e" -kernel "$k/apic.mb" -append off -serial stdio -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 0 ] && [ "$out" = "$exp" ]; ok $? "ACPI tables found by a scan; LAPIC periodic timer, PIT through the IOAPIC, PM timer agree; ACPI S5 power-off: status 0 (-icount) ($st: $out)"

out=$(timeout 20 "$v2e" -kernel "$k/apic.mb" -append off -serial stdio $dx </dev/null 2>&1); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "^lapic timer 20, ioapic irq0 20, pm timer"; ok $? "the same in real time ($st: $out)"

out=$("$v2e" -kernel "$k/apic.mb" -append cf9 -no-reboot -serial stdio -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 0 ] && [ "$out" = "$exp" ]; ok $? "reset through the FADT's reset register (0xcf9) under -no-reboot: status 0 ($st)"

"$v2e" -kernel "$k/apic.mb" -append cf9 -icount $dx </dev/null >/dev/null 2>&1; st=$?
[ $st -eq 11 ]; ok $? "without -no-reboot the machine boots again, APIC and ACPI state reset (second boot exits 5 -> 11, got $st)"

exp="spun through 8 ticks, x=1"
for mode in "-icount" ""; do
	out=$(timeout -k 2 20 "$v2e" -kernel "$k/spin.mb" -serial stdio $mode $dx </dev/null 2>&1); st=$?
	[ $st -eq 1 ] && [ "$out" = "$exp" ]; ok $? "a guest in 'l: inc eax; jmp l' and 'l: mov [x], 1; jmp l' gets its timer interrupts ${mode:-(real time)} ($st: $out)"
done

# Whatever the guest does, SIGTERM ends v2e within a second, cleanly.
for mode in "-icount" "" "-jit off"; do
	"$v2e" -kernel "$k/spin.mb" -append cli $mode $dx </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 1
	kill -TERM $pid
	waited=0
	while kill -0 $pid 2>/dev/null && [ $waited -lt 10 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		kill -KILL $pid
		st=killed
	else
		wait $pid; st=$?
	fi
	[ "$st" = 0 ]; ok $? "SIGTERM ends v2e within 1 s while the guest spins with IF=0 ${mode:-(real time)} (status $st after ${waited}00 ms)"
done

# Ctrl-A X on the terminal (script(1) gives v2e a pty) ends v2e, with the
# device models out of process and in process alike.
if command -v script >/dev/null 2>&1; then
	for dm in process inprocess; do
		(sleep 2; printf '\001x') | timeout -k 2 15 script -qec \
			"$v2e -dm $dm -nographic -kernel $k/spin.mb -append cli" /dev/null >/dev/null 2>&1
		st=$?
		[ $st -eq 0 ]; ok $? "-dm $dm -nographic: the terminal is read, Ctrl-A X quits (status $st)"
	done
fi

# What a user types: their file errors are theirs (status 2, named),
# QEMU's options either work or are refused the same way.
err=$("$v2e" -kernel "$k" 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "not a regular file (a directory)"; ok $? "-kernel DIR: status 2, named ($st: $err)"
fifo=$(mktemp -u); mkfifo "$fifo"
err=$(timeout -k 2 10 "$v2e" -kernel "$fifo" 2>&1); st=$?
rm -f "$fifo"
[ $st -eq 2 ] && echo "$err" | grep -q "not a regular file"; ok $? "-kernel a FIFO: status 2 at once, not a hang ($st: $err)"
err=$("$v2e" -kernel "$k/hello.mb" -initrd /dev/null 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "initrd /dev/null: not a regular file"; ok $? "-initrd a device: status 2, named ($st: $err)"
for o in -nic -qmp -monitor -k; do
	err=$("$v2e" $o x 2>&1); st=$?
	[ $st -eq 2 ] && echo "$err" | grep -q -- "option $o is not supported by v2e yet"; ok $? "$o: refused as not supported yet ($err)"
done
err=$("$v2e" -kernel "$k/hello.mb" -serial mon:stdio 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "no monitor"; ok $? "-serial mon:stdio refused until a monitor exists ($err)"
pf=$(mktemp -u)
out=$("$v2e" -kernel "$k/hello.mb" -name guest1 -accel tcg -M pc -pidfile "$pf" -icount $exit_dev </dev/null 2>&1); st=$?
[ $st -eq 1 ] && echo "$out" | grep -q "hello from COM1" && [ ! -e "$pf" ] &&
	[ "$(echo "$out" | grep -c "VNC server on localhost:59[0-9][0-9] (display :[0-9]*); the serial console is on this terminal")" = 1 ]
ok $? "-name, -accel tcg, -M pc, -pidfile accepted; no display option: VNC on localhost and serial on the terminal, said once ($st: $out)"
"$v2e" -kernel "$k/spin.mb" -append cli -pidfile "$pf" $dx </dev/null >/dev/null 2>&1 &
pid=$!
sleep 1
[ "$(cat "$pf" 2>/dev/null)" = "$pid" ]; ok $? "-pidfile holds v2e's PID while it runs"
kill -TERM $pid; wait $pid
[ ! -e "$pf" ]; ok $? "-pidfile is removed at the end"
out=$("$v2e" -kernel "$k/hello.mb" -nodefaults -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && [ -z "$out" ]; ok $? "-nodefaults: no COM1, nothing printed ($st: $out)"

out=$("$v2e" -kernel "$k/hello.mb" -serial stdio -icount -rtc base=2006-06-17T16:01:21,clock=host $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && echo "$out" | grep -q "^rtc 06-06-17$"; ok $? "-rtc base=DATE sets the RTC, under -icount too ($st: $out)"
out=$("$v2e" -kernel "$k/hello.mb" -serial stdio -rtc base=localtime,clock=vm,driftfix=slew $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ]; ok $? "-rtc base=localtime,clock=vm,driftfix=slew accepted ($st)"
err=$("$v2e" -kernel "$k/hello.mb" -rtc base=yesterday 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "base is utc, localtime, or a date"; ok $? "-rtc with a bad base refused ($err)"

err=$("$v2e" -kernel "$k/hello.mb" -daemonize -nographic 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "cannot be used with -daemonize"; ok $? "-daemonize with -nographic refused, as QEMU does ($err)"
pf=$(mktemp -u)
"$v2e" -kernel "$k/spin.mb" -append cli -display none -daemonize -pidfile "$pf" $dx </dev/null >/dev/null 2>&1; st=$?
pid=$(cat "$pf" 2>/dev/null)
[ $st -eq 0 ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; ok $? "-daemonize: the parent exits 0 once the VM runs, the daemon's PID in -pidfile ($st, ${pid:-none})"
[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e "$pf" ] || break; sleep 0.1; done
[ ! -e "$pf" ]; ok $? "-daemonize: SIGTERM ends the daemon, its pidfile removed"
err=$("$v2e" -kernel "$0" -display none -daemonize 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "neither a Multiboot kernel nor a Linux bzImage"; ok $? "-daemonize: the daemon's error setting up the VM reaches the user and the status ($st: $err)"

# The device kinds: -device help lists every one of them (the platform
# core, the device models' and, in test builds, the test devices),
# -device NAME,help its properties, and a -device isa-serial is a COM port.
out=$("$v2e" -device help 2>&1); st=$?
missing=""
for kind in isa-serial isa-debug-exit i8042 port92 post fw_cfg i8259 ioapic lapic i8254 \
	mc146818rtc acpi-pm test-sandbox test-dma; do
	echo "$out" | grep -q "^name \"$kind\"" || missing="$missing $kind"
done
[ $st -eq 0 ] && [ -z "$missing" ] && echo "$out" | grep -q "^Input devices:"
ok $? "-device help lists every kind, grouped (missing:${missing:-none})"
out=$("$v2e" -device isa-debug-exit,help 2>&1); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "iobase=.*default: 0x501" && echo "$out" | grep -q "iosize=.*default: 0x2"
ok $? "-device isa-debug-exit,help: properties with QEMU's defaults"
err=$("$v2e" -device isa-debug-exit,iobase=0x10000 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "iobase"; ok $? "a bad property value: status 2, named ($err)"
err=$("$v2e" -device vga 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "'vga'"; ok $? "an unknown device: status 2, named ($err)"
out=$("$v2e" -kernel "$k/hello.mb" -display none -device isa-serial,chardev=stdio -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 1 ] && echo "$out" | grep -q "hello from COM1"; ok $? "-device isa-serial,chardev=stdio is COM1 ($st)"

# Firmware: a hand-written 64 KiB ROM from the reset vector, its log on
# the debug console; images v2e cannot map refused by name.
out=$(timeout -k 5 20 "$v2e" -bios "$k/hello.rom" -debugcon stdio -display none -icount $dx </dev/null 2>&1); st=$?
[ $st -eq 67 ] && [ "$out" = "hello from the reset vector" ]
ok $? "-bios ROM: reset vector at 4 GiB, far jump to 0xf0000, -debugcon stdio, readback 0xe9 ($st: $out)"
f=$(mktemp)
timeout -k 5 20 "$v2e" -bios "$k/hello.rom" -device isa-debugcon,iobase=0xe9,chardev=log \
	-chardev file,id=log,path="$f" -display none -icount $dx </dev/null >/dev/null 2>&1; st=$?
[ $st -eq 67 ] && [ "$(cat "$f")" = "hello from the reset vector" ]
ok $? "-device isa-debugcon,chardev=ID with -chardev file ($st)"
head -c 1000 /dev/zero >"$f"
err=$("$v2e" -bios "$f" -display none 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q -- "-bios $f: 1000 bytes"; ok $? "-bios of 1000 bytes: status 2, named ($err)"
rm -f "$f"
err=$("$v2e" -bios no-such-bios.bin -L /nonexistent -display none 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "no-such-bios.bin: not found"; ok $? "a missing -bios: status 2, named ($err)"

tap_done
