#!/bin/sh
# Whole-guest test: Debian's i686 kernel with the test initramfs
# (guest/init-test) under the deterministic clock. Every "v2e-test:" line
# the guest prints must match a rule below (a line no rule knows fails),
# every check must appear, v2e must exit 0 after the guest's poweroff, and
# a second run must print the same bytes.
#
#   linux.t [path/to/v2e]     (default: the v2e beside this test)
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
trap 'rm -rf "$out"' EXIT

boot() {
	timeout 900 "$v2e" -kernel "$V2E_KERNEL" -initrd "$V2E_INITRD_TEST" \
		-append console=ttyS0 -serial stdio -display none -icount -no-reboot \
		</dev/null >"$out/$1.log" 2>"$out/$1.err"
	echo $? >"$out/$1.rc"
}

# A user's initrd that does not fit is the user's error, before anything
# starts, with the -m that holds it.
head -c 40000000 /dev/zero >"$out/big.img"
err=$("$v2e" -m 32 -kernel "$V2E_KERNEL" -initrd "$out/big.img" -display none </dev/null 2>&1)
rc=$?
check '[ "$rc" = 2 ] && echo "$err" | grep -q -- "-m [0-9]*M or more holds them"' \
	"an initrd too big for -m 32: status 2 and the -m that fits ($rc: $err)"
rm -f "$out/big.img"

boot run1
rc=$(cat "$out/run1.rc")
check '[ "$rc" = 0 ]' "v2e exits 0 after the guest powers off (got $rc: $(tail -1 "$out/run1.err"))"
tr -d '\r' <"$out/run1.log" | grep '^v2e-test: ' | sed 's/^v2e-test: //' >"$out/lines"
check 'grep -qx begin "$out/lines" && grep -qx end "$out/lines"' "the script ran from begin to end"

# The rules: NAME and an extended regular expression for the rest of the
# line. Lines of one NAME may match any of its rules.
cat >"$out/rules" <<'EOF'
uname	^Linux 6\.[0-9]+\.[0-9]+-[0-9]+-686 i686$
cmdline	^console=ttyS0$
cpuinfo	^processor	: 0$
cpuinfo	^vendor_id	: GenuineIntel$
cpuinfo	^cpu family	: 6$
cpuinfo	^model		: 5$
cpuinfo	^model name	: v2e x86 emulator$
cpuinfo	^stepping	: 2$
cpuinfo	^cpu MHz		: 99[0-9]\.[0-9]+|^cpu MHz		: 100[0-9]\.[0-9]+$
cpuinfo	^cache size	: [0-9]+ KB$
cpuinfo	^(physical id|core id|apicid|initial apicid)[	 ]*: 0$
cpuinfo	^(siblings|cpu cores)	: 1$
cpuinfo	^(fdiv_bug|f00f_bug|coma_bug)	: no$
cpuinfo	^(fpu|fpu_exception|wp)[	 ]*: yes$
cpuinfo	^cpuid level	: [0-9]+$
cpuinfo	^flags		: fpu vme de pse tsc msr pae cx8 (apic )?sep mtrr pge cmov pse36 mmx fxsr sse sse2( [a-z_0-9]+)*$
cpuinfo	^bugs		: [a-z0-9_ ]+$
cpuinfo	^bogomips	: 19[0-9][0-9]\.[0-9]+|^bogomips	: 20[0-9][0-9]\.[0-9]+$
cpuinfo	^(clflush size|cache_alignment)	: 32$
cpuinfo	^address sizes	: 36 bits physical, 32 bits virtual$
cpuinfo	^power management:$
cpuinfo	^$
interrupts	^ +CPU0 *$
interrupts	^ +[0-9]+: +[0-9]+ +IO-APIC +[0-9]+-(edge|fasteoi) +[A-Za-z0-9_]+$
interrupts	^ +[0-9]+: +[0-9]+ +XT-PIC +[A-Za-z0-9_]+$
interrupts	^ *[A-Z]{3}: +[0-9]+( +[A-Za-z][A-Za-z -]+)?$
date	^2026-01-01 00:0[0-9]:[0-9][0-9] 17672[0-9]{5}$
rtc	^rtc_time	: 00:0[0-9]:[0-9][0-9]$
rtc	^rtc_date	: 2026-01-01$
rtc	^alrm_time	: [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$
rtc	^alrm_date	: 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]$
rtc	^(alarm_IRQ|alrm_pending|update IRQ enabled|periodic IRQ enabled|periodic_IRQ|update_IRQ|HPET_emulated|DST_enable)[	 ]*: no$
rtc	^(24hr|BCD)[	 ]*: yes$
rtc	^(periodic IRQ frequency|periodic_freq)[	 ]*: 1024$
rtc	^max user IRQ frequency	: 64$
rtc	^batt_status	: okay$
hwclock	^Thu Jan  1 00:0[0-9]:[0-9][0-9] 2026  0\.000000 seconds$
pci	^0000:00:00\.0 0x8086:0x1237 0x060000$|^0000:00:01\.0 0x8086:0x7000 0x060100$|^0000:00:01\.1 0x8086:0x7010 0x010180$|^0000:00:01\.3 0x8086:0x7113 0x068000$|^0000:00:02\.0 0x1234:0x1111 0x030000$
sleep	^ok$
sleep-delta	^1\.0[0-9]$
mul	^9449772114007$
pi	^3\.141593$
sqrt2	^1\.414213562373$
div	^3\.333333333333333e-01$
sha256	^8060aa0ac20a3e5db2b67325c98a0122f2d09a612574458225dcb9a086f87cc3  -$
gzip	^8060aa0ac20a3e5db2b67325c98a0122f2d09a612574458225dcb9a086f87cc3  -$
EOF

unknown=0
while IFS= read -r line; do
	case $line in begin|end) continue ;; esac
	name=${line%%: *}
	rest=${line#*: }
	[ "$name" = "$line" ] && { unknown=$((unknown + 1)); echo "# no NAME: $line"; continue; }
	matched=no
	while IFS='	' read -r rname rx; do
		[ "$rname" = "$name" ] || continue
		if printf '%s\n' "$rest" | grep -Eq -- "$rx"; then matched=yes; break; fi
	done <"$out/rules"
	if [ $matched = no ]; then
		unknown=$((unknown + 1))
		echo "# unexpected: $line"
	fi
done <"$out/lines"
check '[ $unknown = 0 ]' "every line the guest printed matches its rule ($unknown did not)"

check '[ "$(grep -c "^pci: " "$out/lines")" = 5 ]' \
	"the kernel found the i440FX, the PIIX3's ISA bridge and IDE, the PIIX4's PM and the VGA on PCI bus 0 (ACPI's root bridge)"
for name in uname cmdline cpuinfo interrupts date rtc hwclock pci sleep sleep-delta mul pi sqrt2 div sha256 gzip; do
	check 'grep -q "^$name: " "$out/lines"' "the guest reported $name"
done
count() { # IRQ-NAME: the count on its /proc/interrupts line
	grep "^interrupts: .* $1\$" "$out/lines" | awk '{ print $3 }' | head -1
}
timer=$(count timer)
tty=$(count ttyS0)
check '[ "${timer:-0}" -gt 0 ] || grep -q "^interrupts: LOC: *[1-9]" "$out/lines"' \
	"the timer interrupt counts (timer ${timer:-none})"
check '[ "${tty:-0}" -gt 0 ]' "the serial port interrupts count (${tty:-none})"
check 'grep -q "^interrupts: .* IO-APIC .* ttyS0$" "$out/lines"' "the serial port's interrupt comes through the IOAPIC"
check 'grep -q "^interrupts: LOC: *[1-9]" "$out/lines"' "the local APIC timer ticks (LOC)"
check 'grep -q "reboot: Power down" "$out/run1.log"' "the guest powered off through ACPI"
check '! grep -q "clocksource.*unstable" "$out/run1.log"' "no clocksource is marked unstable"

boot run2
check 'cmp -s "$out/run1.log" "$out/run2.log"' "a second run prints the same bytes"
tap_done
