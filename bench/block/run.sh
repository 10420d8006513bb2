#!/bin/sh
# Side-by-side block benchmark: qemu-img bench and v2e-blkbench, same
# files, same access pattern, same queue depth, one after the other.
# Rows: sequential 1 MiB and "random" 4 KiB (qemu-img bench only strides:
# step 7919 x 4 KiB, a prime, wrapping over the image, for both tools)
# reads and writes at queue depth 1 and 32, on raw, fresh qcow2 (writes
# allocate; recreated before each run) and fully allocated qcow2.
# Both tools use the host page cache (qemu-img bench's default, cache=
# writeback) and their default thread pools. Each cell is the best of
# RUNS (default 3) runs, the tools alternating.
#   bench/block/run.sh   (needs `make bench` first; BENCH_DIR, BENCH_SIZE,
#   RUNS override the scratch folder, image size and repeats)
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
ours=$root/build/release/bench/v2e-blkbench
dir=${BENCH_DIR:-/tmp/v2e-bench}
size=${BENCH_SIZE:-512M}
mkdir -p "$dir"
[ -x "$ours" ] || { echo "run 'make bench' first" >&2; exit 1; }

mk() {	# mk KIND FILE
	rm -f "$2"
	case $1 in
	raw) qemu-img create -q -f raw -o preallocation=full "$2" "$size" ;;
	fresh) qemu-img create -q -f qcow2 "$2" "$size" ;;
	full) qemu-img create -q -f qcow2 -o preallocation=full "$2" "$size" ;;
	esac
}

qemu_run() {	# prints seconds
	qemu-img bench "$@" | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p'
}

ours_run() {
	"$ours" "$@" | awk '{print $2}'
}

min() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'
}

rate() {	# rate COUNT BYTES SECONDS -> "IOPS MiB/s"
	awk -v c="$1" -v b="$2" -v s="$3" 'BEGIN { if (s <= 0) s = 1e-9;
		printf "%d | %.0f", c / s, c * b / s / 1048576 }'
}

echo "| image | workload | QD | qemu-img IOPS | qemu-img MiB/s | v2e IOPS | v2e MiB/s | v2e/qemu |"
echo "|---|---|---|---|---|---|---|---|"
for kind in raw fresh full; do
	f=$dir/bench-$kind.img
	fmt=qcow2
	[ $kind = raw ] && fmt=raw
	mk $kind "$f"
	for wl in "read 1M seq" "write 1M seq" "read 4k rand" "write 4k rand"; do
		set -- $wl
		op=$1 bs=$2 pat=$3
		for qd in 1 32; do
			if [ "$bs" = 1M ]; then
				bytes=1048576 step=1048576 count=2048
				[ $kind = fresh ] && [ $op = write ] && count=512
			else
				bytes=4096 step=$((7919 * 4096)) count=100000
				[ $op = write ] && count=30000
				[ $kind = fresh ] && [ $op = write ] && count=8000
			fi
			w=""
			[ $op = write ] && w=-w
			args="-c $count -d $qd -s $bytes -S $step $w -f $fmt"
			# Best of $RUNS, alternating tools, against host noise.
			tq="" to=""
			for r in $(seq ${RUNS:-3}); do
				[ $kind = fresh ] && [ $op = write ] && mk fresh "$f"
				tq=$(min "$(qemu_run $args "$f")" "$tq")
				[ $kind = fresh ] && [ $op = write ] && mk fresh "$f"
				to=$(min "$(ours_run $args "$f")" "$to")
			done
			rq=$(rate $count $bytes "$tq")
			ro=$(rate $count $bytes "$to")
			ratio=$(awk -v a="$tq" -v b="$to" 'BEGIN { printf "%.2f", a / b }')
			label=$kind
			[ $kind = fresh ] && label="qcow2 fresh"
			[ $kind = full ] && label="qcow2 allocated"
			echo "| $label | $pat $bs $op | $qd | $rq | $ro | $ratio |"
		done
	done
	[ $kind = fresh ] && mk fresh "$f"
done
rm -f "$dir"/bench-*.img
