#!/bin/sh
# -d ITEM[,ITEM] and -D FILE: what each item reports for a kernel whose
# faults and port accesses sit at known addresses (dlog.asm), refusals,
# and that logging never changes what the guest sees under -icount.
dir=$(dirname "$0")
v2e="$dir/../v2e"
k="$dir/vmm"
. "$(dirname "$0")/tap.sh"
# No display: stderr holds only what a test looks for.
dx="-device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
# has FILE ERE: the log holds a line matching ERE
has() { grep -Eq -- "$2" "$1"; }
run() { # run NAME KERNEL ARGS...: serial to NAME.out, stderr to NAME.err
	rn=$1 rk=$2
	shift 2
	"$v2e" -kernel "$k/$rk" -serial stdio -icount $dx "$@" </dev/null \
		>"$t/$rn.out" 2>"$t/$rn.err"
	echo $? >"$t/$rn.rc"
}

out=$("$v2e" -d help 2>&1); st=$?
items_ok=0
for i in int in_asm exec cpu cpu_reset guest_errors unimp; do
	echo "$out" | grep -q "^$i  *[a-z]" || items_ok=1
done
[ $st -eq 0 ] && [ $items_ok -eq 0 ]; ok $? "-d help lists every item with a line and exits 0 ($st)"

err=$("$v2e" -kernel "$k/dlog.mb" -d int,bogus 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "'bogus'"; ok $? "-d with an unknown item: status 2, the item named ($st: $err)"

err=$("$v2e" -kernel "$k/dlog.mb" -d 2>&1); st=$?
[ $st -eq 2 ]; ok $? "-d without items: status 2 ($st)"

run plain dlog.mb
[ "$(cat "$t/plain.rc")" = 1 ] && [ "$(cat "$t/plain.out")" = "PBGU?" ] && [ ! -s "$t/plain.err" ]
ok $? "without -d: the guest's handlers ran, nothing on stderr ($(cat "$t/plain.rc"): $(cat "$t/plain.out"))"

run int dlog.mb -d int
f="$t/int.err"
has "$f" ': v=0e e=0002 i=0 exc cpl=0 IP=0008:00100200 pc=00100200 SP=0010:[0-9a-f]+ CR2=00800000$'
ok $? "-d int: the #PF with error code 2, its EIP and CR2"
has "$f" ': v=03 e=---- i=1 int cpl=0 IP=0008:00100206 '
ok $? "-d int: INT3 as a software interrupt, EIP past it"
has "$f" ': v=0d e=0000 i=0 exc cpl=0 IP=0008:00100206 '
ok $? "-d int: RDMSR's #GP(0) at the RDMSR"
has "$f" ': v=06 e=---- i=0 exc cpl=0 IP=0008:00100208 '
ok $? "-d int: GETSEC's #UD"
[ "$(grep -c ': v=' "$f")" = 4 ]; ok $? "-d int: four deliveries, no more ($(grep -c ': v=' "$f"))"
[ "$(cat "$t/int.out")" = "PBGU?" ]; ok $? "-d int: the guest's output unchanged"

run asm dlog.mb -d in_asm
f="$t/asm.err"
has "$f" '^IN: 0008:00100200 pc=00100200 paddr=00100200 32-bit, 2 insns, 6 bytes$'
ok $? "-d in_asm: the block at 0x100200, its mode and size"
has "$f" '^0x00100200:  a3 00 00 80 00 +mov dword ptr \[0x800000\], eax$'
ok $? "-d in_asm: the MOV that faults, its bytes and disassembly"
has "$f" '^0x00100205:  cc +int3 *$'
ok $? "-d in_asm: INT3"
has "$f" '^0x00100206:  0f 32 +rdmsr *$' && has "$f" '^0x00100208:  0f 37 +getsec *$'
ok $? "-d in_asm: RDMSR and GETSEC, decoded again after the INT3 returns"

run ge dlog.mb -d guest_errors
f="$t/ge.err"
has "$f" '^unclaimed port write: addr 0x310 size 1 value 0x5a at 0008:00100246 \(icount [0-9]+\)$'
ok $? "-d guest_errors: the write to the unclaimed port, with the OUT's CS:EIP"
has "$f" '^unclaimed port read: addr 0x310 size 1 at 0008:00100247 '
ok $? "-d guest_errors: the read from it"
has "$f" '^rdmsr 0x4b564dff: MSR not implemented, #GP at 0008:00100206$'
ok $? "-d guest_errors: the unknown MSR's #GP"
! has "$f" 'v=0e'; ok $? "-d guest_errors: no interrupt lines"

run un dlog.mb -d unimp
has "$t/un.err" '^rdmsr 0x4b564dff' && ! has "$t/un.err" 'unclaimed'
ok $? "-d unimp: the unknown MSR, not the unclaimed port"
has "$t/un.err" '^0f 37: no handler in v2e, #UD at 0008:00100208$'
ok $? "-d unimp: the opcode without a handler"
! has "$t/ge.err" '0f 37'; ok $? "-d guest_errors: not the opcode without a handler"

run ex dlog.mb -d exec
has "$t/ex.err" '^Trace 0: \[0008:00100200\] pc=00100200 paddr=00100200 n=2$' &&
	has "$t/ex.err" '^Trace 0: \[0008:00100240\]'
ok $? "-d exec: a line per block entered, with CS:EIP"

# Every block entry is seen, chained or not: the generated code (which
# chains inline) and the interpreter give the same trace.
for kern in dlog irq; do
	run "ej-$kern" "$kern.mb" -d exec -D "$t/ej-$kern.log"
	run "ei-$kern" "$kern.mb" -d exec -jit off -D "$t/ei-$kern.log"
	[ -s "$t/ej-$kern.log" ] && cmp -s "$t/ej-$kern.log" "$t/ei-$kern.log"
	ok $? "-d exec, $kern.mb: the same $(wc -l <"$t/ej-$kern.log") blocks with and without the code generator"
done

run cr dlog.mb -d cpu_reset
has "$t/cr.err" '^CPU Reset' && has "$t/cr.err" '^EIP=0000fff0 ' &&
	has "$t/cr.err" '^CS =f000 ffff0000 0000ffff'
ok $? "-d cpu_reset: the reset state"

run cpu dlog.mb -d cpu
has "$t/cpu.err" '^EIP=00100200 ' && has "$t/cpu.err" '^CR0=80000011 '
ok $? "-d cpu: the registers before the block at 0x100200 (paging on)"

run df dlog.mb -d int,guest_errors -D "$t/log"
has "$t/log" 'v=0e e=0002' && has "$t/log" 'unclaimed port' && [ ! -s "$t/df.err" ]
ok $? "-D FILE: the log goes to the file, nothing to stderr"

"$v2e" -kernel "$k/dlog.mb" -serial none -icount $dx -d int -D "$t/pid-%d.log" </dev/null &
pid=$!
wait $pid
has "$t/pid-$pid.log" 'v=0e e=0002'; ok $? "-D FILE-%d.log: %d is v2e's process ID, as QEMU"

err=$("$v2e" -kernel "$k/dlog.mb" -d int -D "$t/no/such/dir/log" 2>&1); st=$?
[ $st -eq 2 ] && echo "$err" | grep -q "no/such/dir"; ok $? "-D into a missing folder: status 2, named ($st: $err)"

err=$("$v2e" -kernel "$k/triple.mb" -no-reboot $dx -d guest_errors 2>&1); st=$?
[ $st -eq 4 ] && echo "$err" | grep -q "^triple fault at icount"
ok $? "-d guest_errors: the triple fault ($st)"

# Logging changes nothing the guest sees: the same output, status, and
# interrupts at the same instruction counts, with every item on, with
# and without the code generator.
for kern in dlog irq clock pit apic; do
	run "a-$kern" "$kern.mb" -d int -D "$t/a-$kern.log"
	run "b-$kern" "$kern.mb" -d int,in_asm,exec,cpu,cpu_reset,guest_errors,unimp \
		-D "$t/b-$kern.log"
	run "c-$kern" "$kern.mb"
	run "d-$kern" "$kern.mb" -jit off -d all -D "$t/d-$kern.log"
	same=0
	for x in b c d; do
		cmp -s "$t/a-$kern.out" "$t/$x-$kern.out" || same=1
		cmp -s "$t/a-$kern.rc" "$t/$x-$kern.rc" || same=1
	done
	grep ': v=' "$t/a-$kern.log" >"$t/a-$kern.int"
	grep ': v=' "$t/b-$kern.log" >"$t/b-$kern.int"
	grep ': v=' "$t/d-$kern.log" >"$t/d-$kern.int"
	cmp -s "$t/a-$kern.int" "$t/b-$kern.int" || same=1
	cmp -s "$t/a-$kern.int" "$t/d-$kern.int" || same=1
	[ $same -eq 0 ] && [ -s "$t/a-$kern.rc" ]
	ok $? "-icount, $kern.mb: -d int,in_asm,exec,cpu,... and -d all with -jit off leave output, status and every interrupt's icount as without ($(cat "$t/a-$kern.rc"), $(wc -l <"$t/a-$kern.int") interrupts)"
done

tap_done
