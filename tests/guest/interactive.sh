#!/bin/sh
# Whole-guest test of the default interactive image (guest/init-interactive)
# as a user drives it through the serial console: programs the shell
# starts have SIGINT at its default, Ctrl-C (a 0x03 byte on the console)
# stops a foreground program, and 'poweroff' (without -f, through
# busybox's init) ends v2e with status 0. Real time: under -icount a
# guest 'sleep' would end before the keystroke arrives.
#
#   interactive.t [path/to/v2e]     (default: the v2e beside this test)
set -u
here=$(cd "$(dirname "$0")" && pwd)
v2e=${1:-$here/../v2e}
root=$(cd "$here/../../.." && pwd)
. "$here/tap.sh"

paths=$("$root/scripts/fetch-guest.sh" --paths 2>/dev/null) || {
	skip_all "guest material could not be fetched from Debian's archive"
}
eval "$paths"
out=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$out"' EXIT
mkfifo "$out/in"
# Held open for writing here, so the console never sees end-of-file.
exec 3<>"$out/in"
: >"$out/log"
timeout -k 5 200 "$v2e" -kernel "$V2E_KERNEL" -initrd "$V2E_INITRD" -append console=ttyS0 \
	-serial stdio -display none <"$out/in" >>"$out/log" 2>&1 &
pid=$!

# Waits (up to $2 s, default 240) for the guest's output to hold a line
# matching $1.
wait_for() {
	i=0
	while ! tr -d '\r' <"$out/log" | grep -q -- "$1"; do
		kill -0 $pid 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -gt $((${2:-240} * 5)) ] && return 1
		sleep 0.2
	done
}
prompts() { tr -d '\r' <"$out/log" | grep -o '/root # ' | wc -l; }
# Waits for one more prompt than there were ($1), up to $2 s.
wait_prompt() {
	i=0
	while [ "$(prompts)" -le "$1" ]; do
		kill -0 $pid 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -gt $(($2 * 5)) ] && return 1
		sleep 0.2
	done
}

wait_for '^/root # '
rc=$?
check '[ $rc = 0 ]' "the shell prompt appears"
p=$(prompts)
# The background child is looked at once it runs sleep: before its exec
# it is a copy of the shell, which ignores job-control signals.
printf '%s\n' 'sleep 100 & until grep -q ^sleep /proc/$!/cmdline; do :; done; grep SigIgn /proc/$!/status; grep SigIgn /proc/self/status; kill $!' >&3
wait_prompt $p 60
ign=$(tr -d '\r' <"$out/log" | grep '^SigIgn:' | sort -u | tr '\t' ' ')
check '[ "$ign" = "SigIgn: 0000000000000000" ]' "programs from the shell ignore no signal (got: $ign)"
sleep 1
p=$(prompts)
printf 'sleep 100\n' >&3
sleep 3
printf '\003' >&3
wait_prompt $p 30
rc=$?
check '[ $rc = 0 ]' "Ctrl-C on the console stops a foreground 'sleep 100' (a prompt within 30 s)"
sleep 1
# A line pasted at once, longer than the FIFO and the dm's buffer
# together: the rest goes in as the guest reads, with no more input to
# wake the dm.
printf 'echo paste-$((100+23)) %s\n' "$(printf 'abcdefghij%.0s' $(seq 60))" >&3
wait_for '^paste-123 \(abcdefghij\)\{60\}$' 30
rc=$?
check '[ $rc = 0 ]' "a 620-byte line pasted at once reaches the shell whole"
sleep 1
printf 'poweroff\n' >&3
wait $pid
rc=$?
pid=
check '[ "$rc" = 0 ]' "'poweroff' powers the guest off and v2e exits 0 (got $rc)"
[ $tap_failed = 0 ] || { echo "# the console:"; tr -d '\r' <"$out/log" | tail -30 | sed 's/^/# /'; }
tap_done
