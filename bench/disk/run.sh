#!/bin/sh
# Side by side with qemu-system-i386 -M pc (TCG), on the same images, in
# turns (v2e, QEMU, v2e, QEMU, ...), real-time clock, RUNS rounds; prints
# medians and v2e/QEMU ratios:
#
#  boot  hd-syslinux.img (scripts/make-images.sh) from -drive through
#        SeaBIOS and SYSLINUX (whose prompt waits 1 s: TIMEOUT 10) to the
#        test guest's first line, "v2e-test: begin" (the shell-ready
#        point), and to the process's exit after the guest's poweroff.
#        On the way, when the host saw the line that ends each step: the
#        firmware's "Booting from Hard Disk", SYSLINUX's banner, its
#        prompt (left after the 1 s), "Loading vmlinuz" (the kernel read
#        through the BIOS), "Loading initrd", the kernel's first line.
#        Ratio: v2e time / QEMU time (at most 1.0 is the goal).
#  disk  Debian's kernel with a bench initramfs (bench/disk/init as
#        rdinit, ata_piix and sd_mod, a static i386 bench/disk/diskbench)
#        on a scratch raw disk of DISK_MIB on the PIIX3 IDE (bus-master
#        DMA), cache=CACHE for both: O_DIRECT sequential writes and reads
#        with dd (1 MiB blocks over SEQ1M MiB, 4 KiB over SEQ4K MiB) and
#        RAND random 4 KiB writes and reads, one request at a time, timed
#        inside the guest (NAME-mibs, NAME-iops) and by the host from the
#        guest's lines on the serial console (NAME-hostmibs: no trust in
#        the guest's clock needed). Ratio: v2e MiB/s / QEMU MiB/s (at
#        least 1.0 is the goal). Also the host wall time of each run and
#        the guest's and the host's seconds over the measurements.
#
#   bench/disk/run.sh [boot] [disk]   (default both; needs build/release/v2e)
#
# Environment: RUNS (3), MEM (guest RAM in MiB for both, 128), CACHE
# (writeback; none is O_DIRECT on the host), DISK_MIB (1024), SEQ1M (1024),
# SEQ4K (64), RAND (16384), BENCH_DIR (scratch and logs, /tmp/v2e-diskbench;
# the logs of every run stay there), V2E (build/release/v2e), QEMU
# (qemu-system-i386), QEMU_ARGS (added to QEMU's command line).
# Needs gcc with -m32 (gcc-multilib) and qemu-img. bench/ is not run by
# `make check`.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/disk
RUNS=${RUNS:-3}
MEM=${MEM:-128}
CACHE=${CACHE:-writeback}
DISK_MIB=${DISK_MIB:-1024}
SEQ1M=${SEQ1M:-1024}
SEQ4K=${SEQ4K:-64}
RAND=${RAND:-16384}
dir=${BENCH_DIR:-/tmp/v2e-diskbench}
v2e=${V2E:-$root/build/release/v2e}
qemu=${QEMU:-qemu-system-i386}
what=${*:-boot disk}
say() { echo "run.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$v2e" ] || die "no $v2e (make -j2 builds it)"
command -v "$qemu" >/dev/null || die "no $qemu (apt-get install qemu-system-x86)"
eval "$("$root/scripts/fetch-guest.sh" --paths --images)"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
logs=$dir/logs
rm -rf "$logs"
mkdir -p "$logs"

# --- the helpers and the bench initramfs --------------------------------------
cc -O2 -o "$dir/clock" "$here/clock.c"
gcc -m32 -static -O2 -D_FILE_OFFSET_BITS=64 -o "$dir/diskbench" "$here/diskbench.c" ||
	die "gcc -m32 -static failed (apt-get install gcc-multilib)"

# The modules ata_piix and sd_mod need, each after what it needs (the
# "depends=" of each module's .modinfo, as depmod reads it).
tree=$dir/tree
rm -rf "$tree"
mkdir -p "$tree/bench/mod"
: >"$tree/bench/modules"
modpath() { find "$V2E_MODULES/kernel" -name "$1.ko" | head -n 1; }
visit() { # NAME
	grep -qx "$1" "$tree/bench/modules" && return 0
	# sh has no local variables: the path is found again after the
	# recursion has reused $_p.
	_p=$(modpath "$1")
	[ -n "$_p" ] || _p=$(modpath "$(echo "$1" | tr _ -)")
	[ -n "$_p" ] || die "no module $1 in $V2E_MODULES"
	for _d in $(tr '\0' '\n' <"$_p" | sed -n 's/^depends=//p' | head -n 1 | tr , ' '); do
		visit "$_d"
	done
	_p=$(modpath "$1")
	[ -n "$_p" ] || _p=$(modpath "$(echo "$1" | tr _ -)")
	cp "$_p" "$tree/bench/mod/$1.ko"
	echo "$1" >>"$tree/bench/modules"
}
visit ata_piix
visit sd_mod
cp "$here/init" "$dir/diskbench" "$tree/bench/"
chmod 0755 "$tree/bench/init" "$tree/bench/diskbench"
# The "disk" variant (guest/init-disk as /init, unused: rdinit= picks
# /bench/init) with the tree above added.
"$root/scripts/make-initramfs.sh" "$V2E_BUSYBOX" "$dir" disk "$tree" >/dev/null
initrd=$dir/initramfs-disk.cpio.gz

# --- one run ------------------------------------------------------------------
# run SYSTEM ROUND KIND: runs one VM under clock, appends to $dir/results
# "SYSTEM KIND ROUND METRIC VALUE" lines.
results=$dir/results
: >"$results"
run() {
	sys=$1 round=$2 kind=$3
	log=$logs/$kind-$sys-$round.log
	case $sys in
	v2e) cmd="$v2e" ;;
	qemu) cmd="$qemu -M pc ${QEMU_ARGS:-}" ;;
	esac
	case $kind in
	boot)
		cp "$V2E_IMAGES/hd-syslinux.img" "$dir/hd.img"
		# shellcheck disable=SC2086
		"$dir/clock" "$log" 300 firmware="Booting from Hard Disk" \
			syslinux="SYSLINUX 6" prompt="boot:" vmlinuz="Loading vmlinuz" \
			initrd="Loading initrd" linux="Linux version" \
			begin="v2e-test: begin" end="v2e-test: end" -- $cmd -m "$MEM" \
			-nographic -no-reboot -drive file="$dir/hd.img",format=raw,if=ide,index=0 \
			>"$log.clock"
		;;
	disk)
		# shellcheck disable=SC2086
		"$dir/clock" "$log" 600 linux="Linux version" begin="v2e-bench: begin" \
			end="v2e-bench: end" -- $cmd -m "$MEM" \
			-nographic -no-reboot -kernel "$V2E_KERNEL" -initrd "$initrd" \
			-append "console=ttyS0 rdinit=/bench/init v2eb_seq1m=$SEQ1M v2eb_seq4k=$SEQ4K v2eb_rand=$RAND" \
			-drive file="$dir/scratch.img",format=raw,if=ide,index=0,cache="$CACHE" \
			>"$log.clock"
		;;
	esac
	awk -v s="$sys" -v k="$kind" -v r="$round" '
		$1 == "mark" && $3 != "-" { print s, k, r, "to-" $2, $3 }
		$1 == "exit" { print s, k, r, "exit", $2 }
		$1 == "cpu" { print s, k, r, "cpu", $2 + $3 }' "$log.clock" >>"$results"
	tr -d '\r' <"$log" | sed -n 's/^v2e-bench: \([a-zA-Z0-9-]*-[a-z]*\) \([0-9.]*\) .*/\1 \2/p' |
		sed "s/^/$sys $kind $round /" >>"$results"
	# Host-timed rates: from the guest's "start NAME BYTES" line to its
	# "NAME-mibs" line, as the host saw them arrive.
	awk -v s="$sys" -v k="$kind" -v r="$round" '
		$2 == "v2e-bench:" && $3 == "start" { t[$4] = $1; b[$4] = $5 }
		$2 == "v2e-bench:" && $3 ~ /-mibs$/ { n = $3; sub(/-mibs$/, "", n)
			if (n in t && $1 > t[n]) print s, k, r, n "-hostmibs", b[n] / ($1 - t[n]) / 1048576 }
		$2 == "v2e-bench:" && $3 == "begin" { t0 = $1 }
		$2 == "v2e-bench:" && $3 == "end" && t0 != "" { print s, k, r, "host-seconds", $1 - t0 }
		' "$log.lines" >>"$results"
	grep -q '^exit [0-9.]* 0$' "$log.clock" || die "$sys $kind round $round failed: $log"
	tr -d '\r' <"$log" | grep -q '^v2e-bench: .*FAIL' &&
		die "$sys $kind round $round: the guest failed, see $log"
	if [ "$kind" = disk ] && ! tr -d '\r' <"$log" | grep -q '^v2e-bench: end'; then
		die "$sys disk round $round did not finish: $log"
	fi
	if [ "$kind" = boot ] && ! grep -q '^mark end [0-9]' "$log.clock"; then
		die "$sys boot round $round did not finish: $log"
	fi
	say "$kind $sys round $round: $(tr '\n' ' ' <"$log.clock")"
}

# --- the rounds ---------------------------------------------------------------
for kind in $what; do
	case $kind in
	boot) ;;
	disk)
		rm -f "$dir/scratch.img"
		qemu-img create -q -f raw -o preallocation=full "$dir/scratch.img" "${DISK_MIB}M"
		;;
	*) die "unknown part $kind (boot, disk)" ;;
	esac
	for r in $(seq "$RUNS"); do
		run v2e "$r" "$kind"
		run qemu "$r" "$kind"
	done
done

# --- the tables ---------------------------------------------------------------
# Medians per system and metric; the ratio of the medians, and the median
# (min-max) of the round-by-round ratios.
table() { # KIND
	awk -v k="$1" '
	function med(list,   n, a, i, j, t) {
		n = split(list, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function lo(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]
		for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
	function hi(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]
		for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
	$2 != k { next }
	{ key = $4
	  if (!(key in seen)) { seen[key] = 1; order[++n] = key }
	  v[$1, key] = v[$1, key] " " $5; val[$1, key, $3] = $5; rounds[$3] = 1 }
	END {
		print "| " k " | v2e | QEMU | v2e/QEMU | per round |"
		print "|---|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			key = order[i]
			if (v["v2e", key] == "" || v["qemu", key] == "") continue
			a = med(v["v2e", key]); b = med(v["qemu", key])
			rr = ""
			for (r in rounds)
				if ((("v2e" SUBSEP key SUBSEP r) in val) && (("qemu" SUBSEP key SUBSEP r) in val) &&
				    val["qemu", key, r] > 0)
					rr = rr " " val["v2e", key, r] / val["qemu", key, r]
			unit = key ~ /mibs$/ ? " MiB/s" : key ~ /-iops$/ ? "" : " s"
			f = key ~ /-iops$/ ? "%.0f" : "%.2f"
			printf "| %s | " f "%s | " f "%s | %.2f | %.2f (%.2f-%.2f) |\n", key, a, unit, b, unit,
				(b > 0 ? a / b : 0), med(rr), lo(rr), hi(rr)
		}
	}' "$results"
}
echo "v2e: $v2e (this work tree at commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?))"
echo "QEMU: $("$qemu" --version | head -n 1)"
echo "host: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "rounds: $RUNS, -m $MEM; disk: $DISK_MIB MiB raw, cache=$CACHE"
for kind in $what; do
	echo
	if [ "$kind" = boot ]; then
		echo "boot (s; lower is better; SYSLINUX's 1 s prompt included in both)"
		table boot
	else
		echo "disk (MiB/s and IOPS: higher is better; to:*, exit and cpu in s)"
		table disk
	fi
done
