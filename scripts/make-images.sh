#!/bin/sh
# Builds the disk, CD and floppy images that v2e's whole-guest tests boot
# through the firmware, from Debian packages and the default guest
# (scripts/fetch-guest.sh), into OUTDIR:
#
#   hd-syslinux.img      16 MiB hard disk: MBR (syslinux's mbr.bin), one
#                        bootable FAT16 partition at 1 MiB with SYSLINUX,
#                        the kernel and the test and interactive initramfs
#   cd-isolinux.iso      El Torito CD (ISOLINUX, no emulation; isohybrid
#                        MBR), the same kernel and initramfs, /v2e-cd.txt
#   cd-grub.iso          GRUB rescue CD (grub-mkrescue, i386-pc only), the
#                        same kernel and initramfs, /v2e-cd.txt
#   fd-syslinux.img      1.44 MB floppy, FAT12 with SYSLINUX, booting
#                        guest/floppy.asm through mboot.c32 (Multiboot)
#   root-ext4.img        32 MiB ext4 filesystem on the whole disk (no
#                        partition table) with busybox and guest/rootfs-init
#                        as /init, for root=/dev/sda
#   root-ext4.qcow2      the same in qcow2
#   initramfs-disk.cpio.gz  the initramfs that mounts it: the IDE, disk,
#                        CD-ROM, ext4 and ISO 9660 modules of the kernel's
#                        package and guest/init-disk
#   initramfs-display.cpio.gz  the display test guest: bochs-drm, UHCI,
#                        USB HID, PS/2 mouse and evdev modules,
#                        guest/evread (built here, gcc -m32 -static) and
#                        guest/init-display (a shell on the VGA console)
#   SHA256SUMS           the sums of the above
#
# Every boot loader and kernel writes to COM1 at 115200 and the kernel gets
# console=ttyS0; the loaders' menus wait 1 s, then boot the test initramfs
# (guest/init-test), which prints its checks and powers off. Tests boot
# copies of the images (or with -snapshot): the root image is the guest's
# to write.
#
# Usage: scripts/make-images.sh OUTDIR
#   The guest material comes from V2E_KERNEL, V2E_INITRD, V2E_INITRD_TEST,
#   V2E_BUSYBOX and V2E_MODULES, or, where one is unset, from
#   `scripts/fetch-guest.sh --paths --modules`. `scripts/fetch-guest.sh
#   --images` runs this into ~/.cache/v2e/images when an input changed.
#
# Nothing needs root, loop devices or mounting: sfdisk, mkfs.vfat and
# syslinux work on image files (at an offset for the partition), mtools
# copies into FAT, xorriso writes ISO 9660, mke2fs -d fills ext4 from a
# folder. The images are byte-identical from run to run: every time is
# SOURCE_DATE_EPOCH (default 1767225600, 2026-01-01 00:00:00 UTC, the
# date v2e's deterministic clock starts at), every identifier is fixed
# (partition table id, FAT volume ids with --invariant, the ext4 UUID and
# hash seed), owners are 0, directories are read in C-locale order.
# Debian packages: syslinux, syslinux-common, isolinux, mtools, dosfstools,
# xorriso, grub-pc-bin, grub-common, e2fsprogs, fdisk (sfdisk), qemu-utils
# (qemu-img), nasm, gcc-multilib (scripts/install-deps.sh installs them).
set -eu

usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -eq 1 ] || usage
case $1 in -h|--help) usage ;; esac
export LC_ALL=C TZ=UTC
# mtools checks a FAT's geometry against the image size, which a
# partition in a disk image does not match.
export MTOOLS_SKIP_CHECK=1
umask 022
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
say() { echo "make-images: $*" >&2; }
die() { say "$*"; exit 1; }

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600}
export SOURCE_DATE_EPOCH
# e2fsprogs 1.47.0 takes its "now" from here (SOURCE_DATE_EPOCH only from
# 1.47.1 on); mtools and xorriso read SOURCE_DATE_EPOCH.
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
export E2FSPROGS_FAKE_TIME
isodate=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S00)

SYSLINUX_BIOS=/usr/lib/syslinux/modules/bios
SYSLINUX_MBR=/usr/lib/syslinux/mbr/mbr.bin
ISOLINUX=/usr/lib/ISOLINUX
GRUB_PC=/usr/lib/grub/i386-pc

for tool in nasm sfdisk mkfs.vfat syslinux mcopy xorriso grub-mkrescue \
	mke2fs debugfs e2fsck qemu-img gzip gcc; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing (scripts/install-deps.sh installs it)"
done
for f in "$SYSLINUX_BIOS/ldlinux.c32" "$SYSLINUX_BIOS/mboot.c32" \
	"$SYSLINUX_BIOS/libcom32.c32" "$SYSLINUX_MBR" "$ISOLINUX/isolinux.bin" \
	"$ISOLINUX/isohdpfx.bin" "$GRUB_PC/cdboot.img"; do
	[ -f "$f" ] || die "$f is missing (scripts/install-deps.sh installs it)"
done

if [ -z "${V2E_KERNEL:-}" ] || [ -z "${V2E_INITRD:-}" ] ||
   [ -z "${V2E_INITRD_TEST:-}" ] || [ -z "${V2E_BUSYBOX:-}" ] ||
   [ -z "${V2E_MODULES:-}" ]; then
	eval "$("$here/fetch-guest.sh" --paths --modules)"
fi
for f in "$V2E_KERNEL" "$V2E_INITRD" "$V2E_INITRD_TEST" "$V2E_BUSYBOX"; do
	[ -f "$f" ] || die "no $f"
done
[ -d "$V2E_MODULES/kernel" ] || die "no kernel modules in $V2E_MODULES"

mkdir -p "$1"
out=$(cd "$1" && pwd)
work=$out/.work
rm -rf "$work"
mkdir -p "$work"

# Every file and folder of a tree gets the one date before it goes into
# an image (mke2fs and mtools copy the date from the file).
stamp_tree() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

# --- the pieces several images share ------------------------------------------
# The same 290 KB everywhere a guest reads a CD: the root guest prints its
# sum from either CD.
seq 1 50000 | sed 's/^/v2e-cd /' >"$work/v2e-cd.txt"

# SYSLINUX and ISOLINUX: COM1 at 115200, and as little as it lets on the
# BIOS screen (CONSOLE 0), which SeaBIOS's sercon copies to COM1 too: its
# banner, the "boot:" prompt and the Linux loader's progress still go
# both ways, so under sercon those show twice. A prompt that waits 1 s,
# then the test guest; "shell" boots the interactive one.
syslinux_cfg() { # WHERE KERNEL-DIR
	cat <<EOF
SERIAL 0 115200
CONSOLE 0
SAY v2e: SYSLINUX on the $1; "test" (default) or "shell"
PROMPT 1
TIMEOUT 10
DEFAULT test
LABEL test
	KERNEL $2vmlinuz
	INITRD $2initrd.gz
	APPEND console=ttyS0
LABEL shell
	KERNEL $2vmlinuz
	INITRD $2shell.gz
	APPEND console=ttyS0
EOF
}

# --- floppy kernel -------------------------------------------------------------
nasm -f bin -I "$top/tests/vmm/" -o "$work/floppy.mb" "$top/guest/floppy.asm"

# --- the initramfs images: modules in dependency order, from .modinfo -------
# Debian's package has no modules.dep (its postinst runs depmod): each
# module's "depends=" field in .modinfo names what it needs, as depmod
# reads it. module_tree TREE MODULE... puts the modules named and all
# they need under TREE/lib/modules/VERSION with a modules.dep, their
# names in TREE/etc/modules, and guest/load-modules as /bin/load-modules,
# which loads them in the guest.
kver=$(basename "$V2E_MODULES")
(cd "$V2E_MODULES" && find kernel -name '*.ko' | sort) |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n)
	       print n, $0 }' >"$work/modules.index"
modpath() { awk -v n="$(echo "$1" | tr - _)" '$1 == n { print $2; exit }' "$work/modules.index"; }
moddeps() { tr '\0' '\n' <"$V2E_MODULES/$1" | sed -n 's/^depends=//p' | head -n 1 | tr , ' '; }
visit() { # PATH: what it needs first, then the line "PATH NEEDED-PATH..."
	case $visited in *" $1 "*) return 0 ;; esac
	visited="$visited$1 "
	for _d in $(moddeps "$1"); do
		_p=$(modpath "$_d")
		[ -n "$_p" ] || die "$1 needs $_d, which is not in $V2E_MODULES"
		visit "$_p"
	done
	_deps=
	for _d in $(moddeps "$1"); do _deps="$_deps $(modpath "$_d")"; done
	echo "$1$_deps" >>"$work/modules.direct"
}
module_tree() { # TREE MODULE...
	_tree=$1
	shift
	: >"$work/modules.direct"
	visited=" "
	for m in "$@"; do
		p=$(modpath "$m")
		[ -n "$p" ] || die "no module $m in $V2E_MODULES"
		visit "$p"
	done
	_mdir=$_tree/lib/modules/$kver
	mkdir -p "$_mdir" "$_tree/etc" "$_tree/bin"
	while read -r p rest; do
		mkdir -p "$_mdir/$(dirname "$p")"
		cp "$V2E_MODULES/$p" "$_mdir/$p"
	done <"$work/modules.direct"
	# modules.dep as depmod writes it: every module a module needs,
	# directly or not, in an order that loads from the last to the first.
	awk '{ n = 0; split("", seen)
	       for (i = 2; i <= NF; i++) {
		       k = split(all[$i], a, " ")
		       for (j = 1; j <= k; j++) if (!(a[j] in seen)) { seen[a[j]] = 1; l[++n] = a[j] }
		       if (!($i in seen)) { seen[$i] = 1; l[++n] = $i }
	       }
	       s = ""; for (j = 1; j <= n; j++) s = s (j > 1 ? " " : "") l[j]
	       all[$1] = s
	       r = ""; for (j = n; j >= 1; j--) r = r " " l[j]
	       print $1 ":" r }' "$work/modules.direct" >"$_mdir/modules.dep"
	printf '%s\n' "$@" >"$_tree/etc/modules"
	cp "$top/guest/load-modules" "$_tree/bin/load-modules"
	chmod 0755 "$_tree/bin/load-modules"
}

# initramfs-disk: crc32c_generic is not a symbol dependency of ext4 and
# jbd2 but their checksums need it (the crypto API would ask modprobe
# for it).
module_tree "$work/disk-tree" crc32c_generic ata_piix sd_mod sr_mod isofs ext4
"$here/make-initramfs.sh" "$V2E_BUSYBOX" "$work" disk "$work/disk-tree" >&2

# initramfs-display: bochs-drm (its fbcon takes the console over on the
# VGA), the UHCI and USB HID for -usb's tablet and keyboard, the PS/2
# mouse (the i8042 and atkbd are built in), evdev; and guest/evread,
# compiled here as a static i386 program (stripped, so no path of this
# host is in it).
module_tree "$work/display-tree" bochs uhci-hcd usbhid hid-generic evdev psmouse
gcc -m32 -static -Os -s -std=gnu11 -Wall -Wextra -Werror \
	-o "$work/display-tree/bin/evread" "$top/guest/evread.c" ||
	die "cannot build guest/evread.c (gcc-multilib is needed)"
"$here/make-initramfs.sh" "$V2E_BUSYBOX" "$work" display "$work/display-tree" >&2

# --- hd-syslinux.img -----------------------------------------------------------
hd=$work/hd-syslinux.img
part_start=2048                         # sectors: the partition at 1 MiB
disk_mib=16
part_kib=$(( disk_mib * 1024 - part_start / 2 ))
truncate -s "${disk_mib}M" "$hd"
sfdisk -q --no-reread --no-tell-kernel "$hd" >/dev/null <<EOF
label: dos
label-id: 0x76326501
unit: sectors
start=$part_start, type=e, bootable
EOF
mkfs.vfat -F 16 --invariant -i 76326502 -n V2E-HD -h "$part_start" \
	--offset="$part_start" "$hd" "$part_kib" >/dev/null
syslinux --offset $((part_start * 512)) --install "$hd"
mkdir -p "$work/hd"
syslinux_cfg "hard disk" "" >"$work/hd/syslinux.cfg"
cp "$V2E_KERNEL" "$work/hd/vmlinuz"
cp "$V2E_INITRD_TEST" "$work/hd/initrd.gz"
cp "$V2E_INITRD" "$work/hd/shell.gz"
stamp_tree "$work/hd"
(cd "$work/hd" && mcopy -m -i "$hd@@$((part_start * 512))" \
	syslinux.cfg vmlinuz initrd.gz shell.gz ::)
dd if="$SYSLINUX_MBR" of="$hd" bs=440 count=1 conv=notrunc 2>/dev/null

# --- fd-syslinux.img -----------------------------------------------------------
fd=$work/fd-syslinux.img
mkfs.vfat --invariant -i 76326503 -n V2E-FD -C "$fd" 1440 >/dev/null
syslinux --install "$fd"
mkdir -p "$work/fd"
cat >"$work/fd/syslinux.cfg" <<EOF
SERIAL 0 115200
CONSOLE 0
SAY v2e: SYSLINUX on the floppy; "floppy" boots floppy.mb through mboot.c32
PROMPT 1
TIMEOUT 10
DEFAULT floppy
LABEL floppy
	KERNEL mboot.c32
	APPEND floppy.mb v2e floppy
EOF
cp "$work/floppy.mb" "$SYSLINUX_BIOS/mboot.c32" "$SYSLINUX_BIOS/libcom32.c32" "$work/fd/"
stamp_tree "$work/fd"
(cd "$work/fd" && mcopy -m -i "$fd" syslinux.cfg mboot.c32 libcom32.c32 floppy.mb ::)

# --- cd-isolinux.iso -----------------------------------------------------------
iso=$work/iso
mkdir -p "$iso/isolinux" "$iso/boot"
cp "$ISOLINUX/isolinux.bin" "$SYSLINUX_BIOS/ldlinux.c32" "$iso/isolinux/"
syslinux_cfg "CD (ISOLINUX)" /boot/ >"$iso/isolinux/isolinux.cfg"
cp "$V2E_KERNEL" "$iso/boot/vmlinuz"
cp "$V2E_INITRD_TEST" "$iso/boot/initrd.gz"
cp "$V2E_INITRD" "$iso/boot/shell.gz"
cp "$work/v2e-cd.txt" "$iso/"
stamp_tree "$iso"
xorriso -as mkisofs -quiet -o "$work/cd-isolinux.iso" -r -V V2E_ISOLINUX \
	-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
	-boot-load-size 4 -boot-info-table -isohybrid-mbr "$ISOLINUX/isohdpfx.bin" \
	--modification-date="$isodate" --set_all_file_dates "$isodate" \
	"$iso" 2>"$work/xorriso.log" || { cat "$work/xorriso.log" >&2; die "xorriso failed"; }

# --- cd-grub.iso ---------------------------------------------------------------
# grub-mkrescue copies GRUB's files into a folder of its own (with the
# time of the copy) and names the volume after the time of day; the
# native xorriso commands after "--" set both from SOURCE_DATE_EPOCH.
grub=$work/grub
mkdir -p "$grub/boot/grub"
cat >"$grub/boot/grub/grub.cfg" <<'EOF'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=1
set default=0
menuentry "v2e test guest" {
	linux /boot/vmlinuz console=ttyS0
	initrd /boot/initrd.gz
}
menuentry "v2e shell" {
	linux /boot/vmlinuz console=ttyS0
	initrd /boot/shell.gz
}
EOF
cp "$V2E_KERNEL" "$grub/boot/vmlinuz"
cp "$V2E_INITRD_TEST" "$grub/boot/initrd.gz"
cp "$V2E_INITRD" "$grub/boot/shell.gz"
cp "$work/v2e-cd.txt" "$grub/"
stamp_tree "$grub"
grub-mkrescue -d "$GRUB_PC" --fonts= --locales= --themes= \
	-o "$work/cd-grub.iso" "$grub" -- \
	-volume_date uuid "$isodate" -volume_date all_file_dates "$isodate" \
	>"$work/grub-mkrescue.log" 2>&1 ||
	{ cat "$work/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }

# --- root-ext4.img and root-ext4.qcow2 -------------------------------------------
root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/etc" "$root/mnt" "$root/proc" \
	"$root/root" "$root/sys" "$root/tmp" "$root/usr"
cp "$V2E_BUSYBOX" "$root/bin/busybox"
for a in $("$here/make-initramfs.sh" --applets "$V2E_BUSYBOX"); do
	ln -s busybox "$root/bin/$a"
done
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
cp "$top/guest/rootfs-init" "$root/init"
{
	echo "v2e: written by scripts/make-images.sh on the host"
	seq 1 20000
} >"$root/host-wrote.txt"
(cd "$root" && sha256sum host-wrote.txt) |
	sed 's| host-wrote.txt$| /host-wrote.txt|' >"$root/host-wrote.sha256"
chmod 0755 "$root/bin/busybox" "$root/init"
chmod 0644 "$root/host-wrote.txt" "$root/host-wrote.sha256"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
stamp_tree "$root"
# mke2fs's settings in full, not the host's /etc/mke2fs.conf: Debian 12's
# ext4 features, 4 KiB blocks also below 512 MiB (usage type "small"),
# tables written out (not left for the kernel's lazy init to zero while
# the guest runs).
cat >"$work/mke2fs.conf" <<'EOF'
[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384
[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
	small = {
	}
EOF
ext=$work/root-ext4.img
truncate -s 32M "$ext"
MKE2FS_CONFIG=$work/mke2fs.conf mke2fs -q -F -t ext4 -L v2e-root -m 0 \
	-U 76326500-0000-4000-8000-000000000001 \
	-E hash_seed=76326500-0000-4000-8000-000000000002,root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0 \
	-d "$root" "$ext"
# mke2fs -d copies each file's owner and its three times from the folder,
# and a file's change time (and, for a symlink read meanwhile, its access
# time) cannot be set there: debugfs sets them on every inode.
{
	echo /
	echo /lost+found
	(cd "$root" && find . -mindepth 1 | sed 's|^\.||' | sort)
} | while read -r p; do
	for f in atime mtime ctime crtime; do echo "sif $p $f @$SOURCE_DATE_EPOCH"; done
	echo "sif $p uid 0"
	echo "sif $p gid 0"
done >"$work/debugfs.cmds"
debugfs -w -f "$work/debugfs.cmds" "$ext" >"$work/debugfs.log" 2>&1 ||
	{ cat "$work/debugfs.log" >&2; die "debugfs failed"; }
if grep -v '^debugfs' "$work/debugfs.log" | grep -q .; then
	cat "$work/debugfs.log" >&2; die "debugfs complained"
fi
printf '[options]\n\tbroken_system_clock = 1\n' >"$work/e2fsck.conf"
E2FSCK_CONFIG=$work/e2fsck.conf e2fsck -fn "$ext" >"$work/e2fsck.log" 2>&1 ||
	{ cat "$work/e2fsck.log" >&2; die "e2fsck finds $ext broken"; }
qemu-img convert -f raw -O qcow2 -o compat=1.1,cluster_size=65536 \
	"$ext" "$work/root-ext4.qcow2"

# --- into OUTDIR --------------------------------------------------------------
images="hd-syslinux.img cd-isolinux.iso cd-grub.iso fd-syslinux.img
root-ext4.img root-ext4.qcow2 initramfs-disk.cpio.gz initramfs-display.cpio.gz"
for i in $images; do mv "$work/$i" "$out/$i"; done
(cd "$out" && sha256sum $images) >"$out/SHA256SUMS"
rm -rf "$work"
for i in $images; do say "$out/$i ($(wc -c <"$out/$i") bytes)"; done
