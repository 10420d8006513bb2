#!/bin/sh
# Boots every image scripts/make-images.sh builds under QEMU
# (qemu-system-i386 -M pc, TCG), one at a time, and checks COM1: the boot
# loader's banner, the guest's lines, the power-off; for the root disk
# also what the guest wrote (scripts/check-root-image.sh). QEMU is the
# reference v2e's IDE and floppy devices are compared with; this is for
# runs by hand, no `make check` test depends on QEMU.
#
# Usage: scripts/boot-images-qemu.sh [LOGDIR]
#   LOGDIR (default: a new temporary folder) gets each run's COM1 output
#   (NAME.log) and the copies of the disks the guests wrote. Prints each
#   command line and "ok"/"FAIL" per check; exits 1 if any check failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
command -v qemu-system-i386 >/dev/null ||
	{ echo "boot-images-qemu: qemu-system-i386 is missing (qemu-system-x86)" >&2; exit 2; }
paths=$("$here/fetch-guest.sh" --paths --images) || exit 2
eval "$paths"
logs=${1:-$(mktemp -d)}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
img=$V2E_IMAGES
qemu="qemu-system-i386 -M pc -nographic -m 256 -no-reboot"
bad=0

run() { # NAME QEMU-ARGS...: boots, COM1 into LOGDIR/NAME.log
	name=$1; shift
	echo "== $name"
	line="\$ $qemu"
	for a in "$@"; do
		case $a in *' '*) line="$line '$a'" ;; *) line="$line $a" ;; esac
	done
	echo "$line"
	{ timeout 600 $qemu "$@" </dev/null 2>&1; echo $? >"$logs/$name.rc"; } |
		tr -d '\r' >"$logs/$name.log"
	rc=$(cat "$logs/$name.rc")
	echo "exit status $rc"
}
status() { # WANT: the status of the last run
	if [ "$rc" = "$1" ]; then echo "ok: exit status $1"
	else echo "FAIL: exit status $rc, not $1"; bad=1; fi
}
has() { # NAME TEXT: COM1 of NAME has a line with TEXT
	if grep -qF -- "$2" "$logs/$1.log"; then echo "ok: $2"
	else echo "FAIL: no \"$2\" in $logs/$1.log"; bad=1; fi
}
show() { # NAME PATTERN: print the lines matching PATTERN
	grep -E -- "$2" "$logs/$1.log" | sed 's/^/  | /'
}

test_guest() { # NAME: the test initramfs ran and powered off
	has "$1" "v2e-test: begin"
	has "$1" "v2e-test: end"
	has "$1" "reboot: Power down"
	show "$1" '^v2e-test: (uname|cmdline):'
}

run hd-syslinux -drive file="$img/hd-syslinux.img",format=raw,if=ide,index=0,media=disk,snapshot=on
status 0
has hd-syslinux "SYSLINUX 6.04 EDD"
has hd-syslinux "v2e: SYSLINUX on the hard disk"
test_guest hd-syslinux

run cd-isolinux -drive file="$img/cd-isolinux.iso",format=raw,if=ide,index=2,media=cdrom,readonly=on -boot d
status 0
has cd-isolinux "ISOLINUX 6.04"
has cd-isolinux "v2e: SYSLINUX on the CD (ISOLINUX)"
test_guest cd-isolinux

run cd-grub -drive file="$img/cd-grub.iso",format=raw,if=ide,index=2,media=cdrom,readonly=on -boot d
status 0
has cd-grub "GNU GRUB  version"
has cd-grub "v2e test guest"
test_guest cd-grub

# Without isa-debug-exit the floppy kernel powers off through ACPI
# (status 0), with it through the device (status (0 << 1) | 1).
for exit in acpi debug-exit; do
	dev=
	[ $exit = acpi ] || dev="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
	run fd-syslinux-$exit -drive file="$img/fd-syslinux.img",format=raw,if=floppy,index=0,snapshot=on -boot a $dev
	if [ $exit = acpi ]; then status 0; else status 1; fi
	has fd-syslinux-$exit "SYSLINUX 6.04 CHS"
	has fd-syslinux-$exit "v2e-floppy: magic 0x2badb002"
	has fd-syslinux-$exit "v2e-floppy: cmdline: floppy.mb v2e floppy"
	has fd-syslinux-$exit "v2e-floppy: powering off"
	show fd-syslinux-$exit '^v2e-floppy:'
done

# The root disk (a copy: the guest writes it) with the ISOLINUX CD in the
# secondary master, which the guest reads /v2e-cd.txt from.
cd_sum=$(seq 1 50000 | sed 's/^/v2e-cd /' | sha256sum)
host_sum=$( { echo "v2e: written by scripts/make-images.sh on the host"; seq 1 20000; } | sha256sum)
for fmt in raw qcow2; do
	case $fmt in raw) f=root-ext4.img ;; qcow2) f=root-ext4.qcow2 ;; esac
	cp "$img/$f" "$logs/$f"
	run root-$fmt -kernel "$V2E_KERNEL" -initrd "$img/initramfs-disk.cpio.gz" \
		-append "console=ttyS0 root=/dev/sda rw" \
		-drive file="$logs/$f",format=$fmt,if=ide,index=0,media=disk \
		-drive file="$img/cd-isolinux.iso",format=raw,if=ide,index=2,media=cdrom,readonly=on
	status 0
	has root-$fmt "v2e-disk: insmod ext4.ko"
	has root-$fmt "v2e-disk: switch_root to /dev/sda (ext4, rw)"
	has root-$fmt "v2e-root: root: /dev/sda ext4"
	has root-$fmt "v2e-root: host-wrote: OK $host_sum"
	has root-$fmt "v2e-root: cd: $cd_sum"
	has root-$fmt "v2e-root: remount-ro: ok"
	has root-$fmt "v2e-root: end"
	show root-$fmt '^v2e-(disk|root):'
	echo "\$ scripts/check-root-image.sh $logs/$f"
	if "$here/check-root-image.sh" "$logs/$f"; then echo "ok: check-root-image.sh"
	else echo "FAIL: check-root-image.sh"; bad=1; fi
done

echo "logs in $logs"
[ $bad = 0 ] && echo "boot-images-qemu: all ok" || echo "boot-images-qemu: FAILED"
exit $bad
