#!/bin/sh
# The display, side by side with QEMU (issue 15): the same guest
# (fb.asm: Bochs VBE 1024x768x32 on the standard VGA) under v2e -vnc and
# qemu-system-i386 -vga std -vnc, and the same client (vncbench, raw
# encoding) against each:
#   latency  a key press over VNC to the new picture at the client (ms)
#   fps      whole-screen changes a client sees per second (guest painting
#            as fast as it can)
#   static   bytes sent for an unchanged screen over 10 s (goal: 0)
#   cpu      the display's share of a core over 8 s of an unchanged
#            screen with a client connected (v2e: the v2e-display process;
#            QEMU has no process of its own for it) (goal: < 1%), and the
#            whole VM's (every process; the guest sleeps in HLT between
#            its 100 Hz timer ticks)
# usage: bench/display/run.sh [RUNS]   (after make bench)
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
b=$root/build/release
runs=${1:-3}
kernel=$b/bench/display/fb.mb
client=$b/bench/vncbench
[ -x "$client" ] && [ -f "$kernel" ] || { echo "run make bench first" >&2; exit 1; }
qemu=${QEMU:-qemu-system-i386}

cpu_ticks() { # user + system ticks of one process
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# start SYSTEM MODE PORT: the VM in the background; $vm its pid
start() {
	if [ "$1" = v2e ]; then
		"$b/v2e" -kernel "$kernel" -append "$2" -vnc "127.0.0.1:$(($3 - 5900))" \
			-serial none -m 64 >/dev/null 2>&1 &
	else
		"$qemu" -kernel "$kernel" -append "$2" -vga std -vnc "127.0.0.1:$(($3 - 5900))" \
			-serial none -m 64 >/dev/null 2>&1 &
	fi
	vm=$!
	sleep 2
}

# the process that serves the display
display_pid() {
	if [ "$1" = v2e ]; then
		for c in $(cat /proc/$vm/task/$vm/children 2>/dev/null); do
			[ "$(cat /proc/$c/comm)" = v2e-display ] && { echo "$c"; return; }
		done
		echo "$vm"
	else
		echo "$vm"
	fi
}

stop() { kill "$vm" 2>/dev/null; wait "$vm" 2>/dev/null || true; }

# the VM's processes together: the vmm (QEMU) and its children
vm_ticks() {
	n=$(cpu_ticks "$vm")
	for c in $(cat /proc/$vm/task/$vm/children 2>/dev/null); do
		n=$((n + $(cpu_ticks "$c")))
	done
	echo "$n"
}

hz=$(getconf CLK_TCK)
port=5977
for r in $(seq "$runs"); do
	for s in v2e qemu; do
		start $s wait $port
		lat=$($client 127.0.0.1 $port latency 20 | awk '{print $2}')
		out=$(mktemp)
		$client 127.0.0.1 $port static 10 >"$out" &
		cl=$!
		sleep 2
		p=$(display_pid $s)
		t0=$(cpu_ticks "$p")
		v0=$(vm_ticks)
		sleep 8
		t1=$(cpu_ticks "$p")
		v1=$(vm_ticks)
		wait $cl || true
		static=$(awk '{print $2}' "$out")
		rm -f "$out"
		stop
		start $s spin $port
		fps=$($client 127.0.0.1 $port fps 10 | awk '{print $2}')
		stop
		cpu=$(echo "$t0 $t1 $hz" | awk '{printf "%.2f", 100 * ($2 - $1) / $3 / 8}')
		vmcpu=$(echo "$v0 $v1 $hz" | awk '{printf "%.2f", 100 * ($2 - $1) / $3 / 8}')
		[ $s = qemu ] && cpu="-"
		echo "run $r $s: latency ${lat} ms, fps ${fps}, unchanged screen ${static} bytes/10 s, display cpu ${cpu}%, whole VM ${vmcpu}%"
	done
done
