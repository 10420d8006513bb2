#!/bin/sh
# The GDB stub end to end (-gdb, -s, -S), with Debian's gdb in batch mode
# against kernel.elf (paging on, symbols): break on a symbol, continue,
# registers, memory through the page tables (and an unmapped page), stepi,
# a hardware watchpoint, monitor commands, detach and reattach, kill; a
# raw client's Ctrl-C and hostile stream; the guest computes the same with
# a debugger stepping it under -icount. Everything has a timeout.
dir=$(dirname "$0")
v2e="$dir/../v2e"
kel="$dir/gdb/kernel.elf"
rsp="$dir/gdb/rsp.pl"
. "$(dirname "$0")/tap.sh"
dx="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sock="$tmp/gdb.sock"

# Starts v2e in the background with "$@" (its status lands in $tmp/st,
# its stderr in $tmp/err) and waits for its socket.
start_v2e() {
	rm -f "$tmp/st" "$tmp/err"
	(timeout 60 "$v2e" "$@" </dev/null >/dev/null 2>"$tmp/err"; echo $? >"$tmp/st") &
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
# Waits for that v2e to end; prints its status.
v2e_status() {
	i=0
	while [ ! -s "$tmp/st" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$tmp/st" 2>/dev/null || echo none
}
# gdb in batch mode on kernel.elf with the commands given as arguments.
run_gdb() {
	set -- -nx -batch -ex "set pagination off" -ex "set confirm off" "$@"
	timeout 60 gdb "$@" "$kel" 2>&1
}
has() { printf '%s\n' "$out" | grep -q -- "$1"; }

command -v gdb >/dev/null || { echo "1..0 # SKIP gdb not installed"; exit 0; }

err=$("$v2e" -kernel "$kel" -S 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q -- "-S"; ok $? "-S without a debugger is refused by name ($st: $(echo "$err" | head -1))"
err=$("$v2e" -kernel "$kel" -gdb udp::1 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q -- "-gdb"; ok $? "a -gdb device v2e cannot serve is refused ($st)"
"$v2e" -help | grep -q -- "-gdb DEV"; ok $? "-help lists -gdb"

# 1: -S, break on a symbol, registers, memory, stepi, watch, monitor, detach.
start_v2e -kernel "$kel" $dx -icount -gdb "unix:$sock,server=on,wait=off" -S
out=$(run_gdb -ex "target remote $sock" -ex 'p $pc == start' \
	-ex 'break bump' -ex 'continue' -ex 'p $pc == bump' -ex 'p *(int*)&counter' \
	-ex 'stepi' -ex 'p $pc == (char*)bump + 6' -ex 'p/x $cr0' -ex 'p $cr3 == (int)&pd' \
	-ex 'p *(int*)((char*)&counter + 0xc0000000)' -ex 'x/wx 0x80000000' \
	-ex 'p/x *(int*)&marker' -ex 'info registers' \
	-ex 'delete' -ex 'watch *(int*)&counter' -ex 'continue' -ex 'p $pc == (char*)bump + 6' \
	-ex 'delete' -ex 'monitor help' -ex 'monitor info registers' -ex 'detach')
has '^\$1 = 1$'; ok $? "-S: the vCPU waits at the kernel's entry for the debugger"
has '^Breakpoint 1, bump ()' && has '^\$2 = 1$'; ok $? "break on a symbol, continue: stopped at bump"
has '^\$3 = 0$'; ok $? "a memory variable read at the breakpoint (counter = 0)"
has '^\$4 = 1$'; ok $? "stepi moves EIP by one instruction (inc dword [counter]: 6 bytes)"
has '^\$5 = 0x80000011$' && has '^\$6 = 1$'; ok $? "control registers from the extra feature (\$cr0 with PG, \$cr3)"
has '^\$7 = 1$'; ok $? "a virtual address through the guest's page tables (counter's alias at 0xc0000000)"
has 'Cannot access memory at address 0x80000000'; ok $? "an unmapped page is an error, not a crash"
has '^\$8 = 0x12345678$'; ok $? "a data variable read"
has '^eip  *0x[0-9a-f]* *0x[0-9a-f]* <bump+6>' && has '^eflags' && has '^cs  *0x8'; ok $? "info registers (general registers, eflags, selectors)"
has 'Hardware watchpoint 2' && has 'Old value = 1' && has 'New value = 2' && has '^\$9 = 1$'
ok $? "a hardware watchpoint on a variable the kernel writes stops after the write"
has 'system_reset' && has 'CR0=80000011'; ok $? "monitor help and monitor info registers"
has 'Inferior 1 (Remote target) detached'; ok $? "detach"
[ ! -s "$tmp/st" ]; ok $? "after detach the guest runs on"

# 2: reattach; the guest ran on meanwhile; end it through its own variable.
out=$(run_gdb -ex "target remote $sock" -ex 'p *(int*)&counter > 2' \
	-ex 'break *main_loop' -ex 'continue' -ex 'p $pc == main_loop' -ex 'delete' \
	-ex 'set var *(int*)&limit = 0' -ex 'continue')
st=$(v2e_status)
has '^\$1 = 1$'; ok $? "reattach: the stub listened again, the counter went on"
has '^\$2 = 1$'; ok $? "a breakpoint in code that ran hot (compiled, chained) stops it"
has 'exited with code 0103' && [ "$st" = 67 ]; ok $? "continue to the guest's end: gdb sees its status, v2e exits 67 ($st)"
! grep -q "ERROR: AddressSanitizer\|runtime error" "$tmp/err"; ok $? "no sanitizer report"

# 3: TCP, kill: v2e ends with status 0 as QEMU.
port=$((20000 + $$ % 20000))
rm -f "$sock"
start_v2e -kernel "$kel" $dx -icount -gdb "tcp:127.0.0.1:$port" -S
sleep 0.3
out=$(run_gdb -ex "target remote 127.0.0.1:$port" -ex 'hbreak bump' -ex 'continue' \
	-ex 'continue' -ex 'p *(int*)&counter' -ex 'p $mxcsr' -ex 'set $xmm1.v4_int32[2] = 7' \
	-ex 'p $xmm1.v4_int32' -ex 'set $st0 = 1.5' -ex 'p $st0' -ex 'p $fctrl' \
	-ex 'set var *(unsigned char *)((char *)bump + 1) = 0x0d' -ex 'delete' \
	-ex 'watch *(int*)&counter' -ex 'continue' -ex 'kill')
st=$(v2e_status)
has 'Hardware assisted breakpoint 1' && has '^\$1 = 1$' && [ "$st" = 0 ]
ok $? "-gdb tcp:HOST:PORT: a hardware breakpoint hit twice, kill ends v2e with 0 ($st)"
has '^\$2 = \[ IM DM ZM OM UM PM \]$' && has '^\$3 = {0, 0, 7, 0}$' && has '^\$4 = 1.5$' &&
	has '^\$5 = 64$'
ok $? "x87 and SSE registers read and written (mxcsr, xmm1, st0, fctrl)"
has 'Old value = 1' && has 'New value = 0'
ok $? "a write into decoded code (inc -> dec in bump) is what runs next"

# 4: Ctrl-C while the guest runs: a T02 stop reply.
start_v2e -kernel "$kel" $dx -icount -gdb "unix:$sock" -S
out=$(timeout 30 perl "$rsp" interrupt "$sock" 2>&1)
st=$(v2e_status)
has '^stop T02thread:01;$' && [ "$st" = 0 ]; ok $? "Ctrl-C stops the running guest with SIGINT; k ends v2e ($st: $out)"

# 4b: the same in real time (no -icount): Ctrl-C between short bursts.
start_v2e -kernel "$kel" $dx -gdb "unix:$sock" -S
out=$(timeout 30 perl "$rsp" interrupt "$sock" 2>&1)
st=$(v2e_status)
has '^stop T02thread:01;$' && [ "$st" = 0 ]; ok $? "Ctrl-C in real-time mode ($st: $out)"

# 4c: SIGTERM still ends v2e while the vCPU waits for a debugger.
rm -f "$sock"
err=$(timeout 30 timeout --preserve-status -s TERM 1 "$v2e" -kernel "$kel" $dx -icount \
	-gdb "unix:$sock" -S 2>&1 </dev/null); st=$?
[ $st -eq 0 ] && echo "$err" | grep -q "signal 15"; ok $? "SIGTERM while stopped: status 0 and a reason ($st: $err)"

# 5: a hostile stream does not crash v2e, and the stub still answers.
start_v2e -kernel "$kel" $dx -icount -gdb "unix:$sock" -S
out=$(timeout 60 perl "$rsp" garbage "$sock" 2>&1)
has '^alive T05'; ok $? "garbage, bad checksums, overlong and malformed packets: the stub answers after ($out)"
out=$(run_gdb -ex "target remote $sock" -ex 'p *(int*)&counter > 0' -ex 'kill')
st=$(v2e_status)
has '^\$1 = 1$' && [ "$st" = 0 ]; ok $? "the client vanished without a word: the guest ran on, gdb attaches after ($st)"
! grep -q "ERROR: AddressSanitizer\|runtime error" "$tmp/err"; ok $? "no sanitizer report"

# 6: under -icount a debugger stepping and stopping the guest does not
# change what it computes (clock.mb's status depends on the clock).
a=$(timeout 60 "$v2e" -kernel "$dir/vmm/clock.mb" -icount $dx 2>/dev/null; echo $?)
start_v2e -kernel "$dir/vmm/clock.mb" -icount $dx -gdb "unix:$sock" -S
out=$(timeout 60 gdb -nx -batch -ex "target remote $sock" -ex 'stepi 200' \
	-ex 'break *($pc + 0)' -ex 'info registers eip' -ex 'delete' -ex 'continue' 2>&1)
st=$(v2e_status)
[ "$st" = "$a" ] && [ $((a & 1)) -eq 1 ]; ok $? "-icount: 200 steps under gdb, then the same result as without ($a, $st)"

tap_done
