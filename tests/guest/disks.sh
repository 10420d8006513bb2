#!/bin/sh
# Whole-guest test of the PC from the reset vector: the images that
# scripts/make-images.sh builds from Debian's packages boot through
# SeaBIOS from -hda, -cdrom and -fda (SYSLINUX, ISOLINUX, GRUB), and Debian's
# kernel runs from an ext4 root on the IDE disk (raw and qcow2) and
# writes files the host then checks. Deterministic clock throughout; one
# boot runs twice and must print the same bytes. The release build's v2e
# when there is one (the sanitizers add nothing to a whole guest and
# triple its time), else the one beside this test.
#
#   disks.t [path/to/v2e]
set -u
. "$(dirname "$0")/guest.inc"

paths=$("$root/scripts/fetch-guest.sh" --paths --images 2>/dev/null) || {
	skip_all "guest images could not be built from Debian's packages"
}
eval "$paths"
I=$V2E_IMAGES
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run NAME ARGS...: v2e under the deterministic clock, output in NAME.log
run() {
	name=$1
	shift
	timeout -k 5 600 "$v2e" -nographic -icount -no-reboot "$@" \
		</dev/null >"$out/$name.log" 2>"$out/$name.err"
	echo $? >"$out/$name.rc"
}
rc() { cat "$out/$1.rc"; }
has() { tr -d '\r' <"$out/$1.log" | grep -q -- "$2"; }
last() { tail -c 300 "$out/$1.log" | tr -d '\r' | tr '\n' '|'; }

# 1. SYSLINUX from the hard disk, twice.
cp "$I/hd-syslinux.img" "$out/hd.img"
run hd1 -drive file="$out/hd.img",format=raw
run hd2 -drive file="$out/hd.img",format=raw
check '[ "$(rc hd1)" = 0 ] && has hd1 "SYSLINUX 6" && has hd1 "^v2e-test: begin" &&
	has hd1 "^v2e-test: end" && has hd1 "reboot: Power down"' \
	"-hda: SeaBIOS boots SYSLINUX, the guest runs and powers off ($(rc hd1): $(last hd1))"
check 'cmp -s "$out/hd1.log" "$out/hd2.log"' "two boots from the disk print the same bytes"
check 'has hd1 "DMI: v2e Standard PC (i440FX + PIIX, 1996), BIOS 1\.16" &&
	has hd1 "ACPI: RSDP 0x00000000000F.*(v02 V2E" && has hd1 "ACPI: DSDT .*V2E PC"' \
	"SeaBIOS hands on v2e's SMBIOS (with its own BIOS entry) and ACPI tables"
check 'has hd1 "Interrupt link LNKA configured for IRQ 10" &&
	has hd1 "Interrupt link LNKD configured for IRQ 11"' \
	"the DSDT's PCI interrupt links read the PIRQ routing SeaBIOS programmed"
# The PCI functions Linux finds: QEMU's pc machine's, -vga std's included.
tr -d '\r' <"$out/hd1.log" | grep '^v2e-test: pci: ' | sed 's/^v2e-test: pci: //' >"$out/pci"
cat >"$out/pci.want" <<'PCI'
0000:00:00.0 0x8086:0x1237 0x060000
0000:00:01.0 0x8086:0x7000 0x060100
0000:00:01.1 0x8086:0x7010 0x010180
0000:00:01.3 0x8086:0x7113 0x068000
0000:00:02.0 0x1234:0x1111 0x030000
PCI
check 'cmp -s "$out/pci" "$out/pci.want"' \
	"Linux sees QEMU's i440FX, PIIX3 ISA and IDE, PIIX4 PM and the std VGA ($(tr '\n' '|' <"$out/pci"))"

# 2. The CDs: ISOLINUX (El Torito, no emulation) and GRUB's rescue image.
run iso -cdrom "$I/cd-isolinux.iso" -boot d -usb -device usb-tablet -device usb-kbd
check '[ "$(rc iso)" = 0 ] && has iso "ISOLINUX 6" && has iso "^v2e-test: end"' \
	"-cdrom -boot d: ISOLINUX boots the guest, SeaBIOS past a USB tablet and keyboard ($(rc iso): $(last iso))"
check 'has iso "^v2e-test: pci: 0000:00:01.2 0x8086:0x7020 0x0c0300"' \
	"-usb: Linux finds the PIIX3's UHCI at 00:01.2"
run grub -cdrom "$I/cd-grub.iso" -boot order=dc
check '[ "$(rc grub)" = 0 ] && has grub "GNU GRUB" && has grub "^v2e-test: end"' \
	"-cdrom: GRUB's rescue CD boots the guest ($(rc grub): $(last grub))"

# The SYSLINUX floppy (82077AA, DMA channel 2): a Multiboot kernel that
# powers off through ACPI, finding S5 in the DSDT the firmware placed.
cp "$I/fd-syslinux.img" "$out/fd.img"
run fd -fda "$out/fd.img" -boot a
check '[ "$(rc fd)" = 0 ] && has fd "SYSLINUX 6" && has fd "^v2e-floppy: magic 0x2badb002" &&
	has fd "^v2e-floppy: powering off"' \
	"-fda -boot a: SYSLINUX from the floppy runs its kernel ($(rc fd): $(last fd))"

# 3. An ext4 root on the IDE disk, raw and qcow2, with the CD beside it.
rootboot() {
	run "$1" -kernel "$V2E_KERNEL" -initrd "$I/initramfs-disk.cpio.gz" \
		-append "console=ttyS0 root=/dev/sda rw" -drive file="$2",if=ide,index=0,format=$3 \
		-cdrom "$I/cd-isolinux.iso"
}
cp "$I/root-ext4.img" "$out/root.img"
rootboot raw "$out/root.img" raw
check '[ "$(rc raw)" = 0 ] && has raw "^v2e-root: host-wrote: OK" && has raw "^v2e-root: end" &&
	has raw "^v2e-root: cd: a7739adf"' \
	"ext4 root on a raw IDE disk: the guest reads the host's file and the CD, writes its own ($(rc raw): $(last raw))"
check 'tr -d "\r" <"$out/raw.log" | grep -q "ata1.00: ATA-7: V2E HARDDISK" &&
	tr -d "\r" <"$out/raw.log" | grep -q "ata2.00: ATAPI: V2E DVD-ROM"' \
	"Linux's ata_piix finds the disk and the DVD-ROM"
"$root/scripts/check-root-image.sh" "$out/root.img" >"$out/check-raw" 2>&1
check '[ $? = 0 ]' "after power-off the raw image is clean and holds the guest's files ($(tail -1 "$out/check-raw"))"
cp "$I/root-ext4.qcow2" "$out/root.qcow2"
rootboot qcow "$out/root.qcow2" qcow2
check '[ "$(rc qcow)" = 0 ] && has qcow "^v2e-root: end"' \
	"ext4 root on a qcow2 IDE disk ($(rc qcow): $(last qcow))"
"$root/scripts/check-root-image.sh" "$out/root.qcow2" >"$out/check-qcow" 2>&1
check '[ $? = 0 ] && qemu-img check -q "$out/root.qcow2"' \
	"the qcow2 image passes qemu-img check and holds the guest's files ($(tail -1 "$out/check-qcow"))"

# 4. -snapshot: the guest writes, the image does not change.
cp "$I/root-ext4.qcow2" "$out/snap.qcow2"
sum=$(sha256sum <"$out/snap.qcow2")
run snap -snapshot -kernel "$V2E_KERNEL" -initrd "$I/initramfs-disk.cpio.gz" \
	-append "console=ttyS0 root=/dev/sda rw" -hda "$out/snap.qcow2"
check '[ "$(rc snap)" = 0 ] && has snap "^v2e-root: wrote:" && [ "$(sha256sum <"$out/snap.qcow2")" = "$sum" ]' \
	"-snapshot: the guest wrote, the image is unchanged ($(rc snap): $(last snap))"

# 5. SIGKILL right after the guest said its writes are synced: the qcow2
#    image is consistent and holds them.
cp "$I/root-ext4.qcow2" "$out/kill.qcow2"
timeout -k 5 600 "$v2e" -nographic -icount -no-reboot -kernel "$V2E_KERNEL" \
	-initrd "$I/initramfs-disk.cpio.gz" -append "console=ttyS0 root=/dev/sda rw" \
	-drive file="$out/kill.qcow2",format=qcow2 </dev/null >"$out/kill.log" 2>&1 &
pid=$!
n=0
while [ $n -lt 1200 ] && ! grep -q "^v2e-root: wrote:" "$out/kill.log" 2>/dev/null; do
	sleep 0.1
	n=$((n + 1))
done
# v2e itself, not the timeout that runs it: SIGKILL does not pass
# through timeout. The backend dies with v2e (its parent-death signal),
# a moment later: until it is gone it holds the image's lock, and
# qemu-img would refuse to look (status 1) rather than check.
vmm=$(pgrep -P $pid -x v2e)
blk=$(pgrep -P "${vmm:-0}" -x v2e-blk)
kill -KILL ${vmm:-$pid} 2>/dev/null
wait $pid 2>/dev/null
n=0
while [ -n "$blk" ] && [ -d "/proc/$blk" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
qemu-img check -q "$out/kill.qcow2" >"$out/kill.check" 2>&1; st=$?
# 0: clean; 3: only leaked clusters, which waste space and lose nothing.
check '[ $st = 0 ] || [ $st = 3 ]' "SIGKILL after the guest's sync: qemu-img check passes ($st: $(head -c 200 "$out/kill.check"))"
"$root/scripts/check-root-image.sh" "$out/kill.qcow2" >"$out/check-kill" 2>&1
check '[ $? = 0 ]' "every write the guest had synced is in the image ($(tail -1 "$out/check-kill"))"

# 6. A user's image errors: status 2 before the guest starts, file named.
err=$("$v2e" -hda "$out/nonexistent.img" -display none </dev/null 2>&1); st=$?
check '[ $st = 2 ] && echo "$err" | grep -q nonexistent.img' "a missing image: status 2, named ($st: $err)"
cp "$I/hd-syslinux.img" "$out/lock.img"
# The holder opens and locks its image before anything else; it waits
# in SYSLINUX's menu meanwhile (real time, no -icount).
"$v2e" -nographic -drive file="$out/lock.img",format=raw </dev/null >/dev/null 2>&1 &
holder=$!
sleep 2
err=$(timeout -k 1 20 "$v2e" -drive file="$out/lock.img",format=raw -display none </dev/null 2>&1)
st=$?
kill $holder 2>/dev/null
wait $holder 2>/dev/null
check '[ $st = 2 ] && echo "$err" | grep -q "locked"' \
	"an image another v2e writes: status 2, 'locked' ($st: $err)"
tap_done
