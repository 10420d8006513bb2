#!/bin/sh
# Side by side: each bench/cpu kernel under v2e's emulator and under QEMU's
# TCG (qemu-system-i386), in turns, RUNS times each; prints medians, the
# emulator's instruction rate, and the v2e/QEMU time ratio (below 1 means
# v2e is faster). Start-up cost (the null kernel) is subtracted from both.
# Usage: bench/cpu/run.sh [RUNS]   (after `make MODE=release bench`)
set -e
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
B=build/release
make --no-print-directory MODE=release bench >/dev/null
command -v qemu-system-i386 >/dev/null ||
	{ echo "run.sh: qemu-system-i386 missing (apt-get install qemu-system-x86)" >&2; exit 1; }

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

qemu_time() {
	t0=$(now)
	# isa-debug-exit: status (0 << 1) | 1 = 1 means the kernel finished.
	set +e
	qemu-system-i386 -m 128 -nodefaults -display none -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$1"
	st=$?
	set -e
	t1=$(now)
	[ $st -eq 1 ] || { echo "run.sh: qemu failed on $1 ($st)" >&2; exit 1; }
	echo "$t1 - $t0" | bc -l
}

v2e_time() {
	t0=$(now)
	out=$($B/bench/cpubench "$1")
	t1=$(now)
	echo "$(echo "$t1 - $t0" | bc -l) $out"
}

q0=$(for i in $(seq $RUNS); do qemu_time $B/bench/cpu/null.mb; done | median)
v0=$(for i in $(seq $RUNS); do v2e_time $B/bench/cpu/null.mb | cut -d' ' -f1; done | median)
printf "%-8s %12s %10s %8s %10s %8s\n" kernel insns v2e_s MIPS qemu_s ratio
for k in alu memcpy memset call farcall paging bignum rangedec percpu; do
	vt=""; qt=""; insns=0
	for i in $(seq $RUNS); do
		r=$(v2e_time $B/bench/cpu/$k.mb)
		vt="$vt $(echo "$r" | cut -d' ' -f1)"
		insns=$(echo "$r" | cut -d' ' -f2)
		qt="$qt $(qemu_time $B/bench/cpu/$k.mb)"
	done
	vm=$(echo $vt | tr ' ' '\n' | median)
	qm=$(echo $qt | tr ' ' '\n' | median)
	vs=$(echo "$vm - $v0" | bc -l)
	qs=$(echo "$qm - $q0" | bc -l)
	printf "%-8s %12s %10.3f %8.1f %10.3f %8.2f\n" $k $insns $vs \
		$(echo "$insns / $vs / 1000000" | bc -l) $qs $(echo "$vs / $qs" | bc -l)
done
printf "start-up: v2e %.3f s, qemu %.3f s (subtracted)\n" $v0 $q0
