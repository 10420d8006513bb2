#!/bin/sh
# Builds v2e's default guest initramfs images from a static i386 busybox:
#
#   OUTDIR/initramfs-interactive.cpio.gz   /init = guest/init-interactive
#   OUTDIR/initramfs-test.cpio.gz          /init = guest/init-test
#
# Usage: scripts/make-initramfs.sh BUSYBOX OUTDIR [NAME [TREE]]
#        scripts/make-initramfs.sh --applets BUSYBOX
#   (scripts/fetch-guest.sh runs it with the busybox it fetched; with NAME
#   it builds OUTDIR/initramfs-NAME.cpio.gz alone, /init = guest/init-NAME,
#   with every directory and file under TREE added at the same path, as
#   scripts/make-images.sh does with kernel modules; --applets prints the
#   applet names, one a line)
#
# Each image is a gzip-compressed cpio archive in the "newc" format that the
# kernel unpacks into its rootfs. This script writes the archive itself
# rather than through cpio(1), so that the bytes depend on the inputs only:
# entries in sorted order (C locale), inode numbers counted from 1 in that
# order, uid and gid 0, every mtime SOURCE_DATE_EPOCH (default 0), and
# `gzip -n` (no name, no time stamp). Two runs give byte-identical images,
# which the deterministic (-icount) guest tests rely on. No root or fakeroot
# is needed: the device node /dev/console is only a header in the archive.
#
# Contents: /bin/busybox and a symlink /bin/APPLET -> busybox for every
# applet; /sbin, /usr/bin and /usr/sbin as symlinks to /bin; /init; empty
# /dev (with the console node the kernel opens for init), /proc, /sys,
# /tmp, /root, /etc, /mnt.
#
# The applet list: this busybox is an i386 program and an amd64 host does
# not necessarily run it, so `busybox --list` is not used. Busybox keeps its
# applet names as one sorted, NUL-separated table ("[", "[[", "acpid", ...,
# ended by an empty name) from which --list prints: the script reads that
# table from the binary and accepts it only if it looks right (at least 50
# names, strictly ascending, each a plain applet name, including every
# applet the init scripts need); otherwise it falls back to that fixed list
# of needed applets and says so.
set -eu

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
applets_only=0
if [ "${1:-}" = --applets ]; then
	[ $# -eq 2 ] || usage
	applets_only=1
	busybox=$2
else
	[ $# -ge 2 ] && [ $# -le 4 ] || usage
	busybox=$1
	outdir=$2
	name=${3:-}
	extra=${4:-}
fi
here=$(cd "$(dirname "$0")" && pwd)
guest=$here/../guest
mtime=${SOURCE_DATE_EPOCH:-0}
export LC_ALL=C

[ -f "$busybox" ] || { echo "make-initramfs: no such file: $busybox" >&2; exit 1; }
if [ -n "${extra:-}" ]; then
	[ -d "$extra" ] || { echo "make-initramfs: no such directory: $extra" >&2; exit 1; }
	extra=$(cd "$extra" && pwd)
fi

# The applets the init scripts (and the guest tests) use.
needed="sh ash mount umount mkdir echo cat printf poweroff reboot uname date
hwclock ls grep sed awk sleep seq sha256sum gzip gunzip zcat dd head tail wc
expr cttyhack setsid test [ true false tr cut sort uniq env stty init halt"

# --- applet names from busybox's own table ----------------------------------
applets_from_binary() {
	off=$(grep -obUaP '\x00\[\x00\[\[\x00' "$busybox" 2>/dev/null |
		head -n 1 | cut -d: -f1) || return 1
	[ -n "$off" ] || return 1
	tail -c "+$((off + 2))" "$busybox" | head -c 16384 | tr '\0' '\n' |
		sed '/^$/q' | sed '/^$/d'
}

applets_ok() { # $1 = list, one per line
	n=$(printf '%s\n' "$1" | wc -l)
	[ "$n" -ge 50 ] || return 1
	printf '%s\n' "$1" | grep -qv '^[][a-z0-9_.-]*[a-z0-9[]$' && return 1
	[ "$(printf '%s\n' "$1" | sort -u)" = "$1" ] || return 1
	for a in $needed; do
		printf '%s\n' "$1" | grep -qxF -- "$a" || return 1
	done
	return 0
}

list=$(applets_from_binary || :)
if ! applets_ok "$list"; then
	echo "make-initramfs: no usable applet table in $busybox;" \
		"linking only the needed applets" >&2
	list=$(printf '%s\n' $needed | sort -u)
fi
list=$(printf '%s\n' "$list" | grep -vxF busybox)
if [ "$applets_only" = 1 ]; then
	printf '%s\n' "$list"
	exit 0
fi
mkdir -p "$outdir"

# --- newc writer ------------------------------------------------------------
# Each entry: TYPE PATH [ARG]; d = directory, f = file (ARG: source, mode
# 0755), F = file (ARG: source, mode 0644), l = symlink (ARG: target),
# c = character device (ARG: major,minor).
ino=0
pad4() { # $1 = byte count already written for this piece
	p=$(( (4 - $1 % 4) % 4 ))
	[ "$p" -eq 0 ] || head -c "$p" /dev/zero
}
header() { # mode nlink size rmajor rminor name
	ino=$((ino + 1))
	namesize=$(( ${#6} + 1 ))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$ino" "$1" 0 0 "$2" "$mtime" "$3" 0 0 "$4" "$5" "$namesize" 0
	printf '%s\0' "$6"
	pad4 $((110 + namesize))
}
entry() { # type path [arg]
	case "$1" in
	d)	mode=$((0040755)); [ "$2" = tmp ] && mode=$((0041777))
		[ "$2" = root ] && mode=$((0040700))
		header "$mode" 2 0 0 0 "$2" ;;
	f|F)	size=$(wc -c < "$3")
		mode=$((0100755)); [ "$1" = F ] && mode=$((0100644))
		header "$mode" 1 "$size" 0 0 "$2"
		cat "$3"; pad4 "$size" ;;
	l)	header $((0120777)) 1 "${#3}" 0 0 "$2"
		printf '%s' "$3"; pad4 "${#3}" ;;
	c)	header $((0020600)) 1 0 "${3%,*}" "${3#*,}" "$2" ;;
	esac
}

# The tree, one entry a line, sorted by path (a directory before its
# contents); the busybox binary and the init script are passed by name.
# TREE's entries come after the base ones of the same path (a directory
# both have, such as etc, appears once); its files keep their execute bit.
tree() { # init-script [extra-tree]
	{
		for d in bin dev etc mnt proc root sys tmp usr; do echo "d	$d"; done
		echo "f	bin/busybox	$busybox"
		printf '%s\n' "$list" | sed 's|.*|l	bin/&	busybox|'
		echo "c	dev/console	5,1"
		echo "f	init	$1"
		echo "l	sbin	bin"
		echo "l	usr/bin	../bin"
		echo "l	usr/sbin	../bin"
		if [ -n "${2:-}" ]; then
			(cd "$2" && find . -mindepth 1 \( -type d -printf 'd\t%P\n' \) -o \
				\( -type f -perm -u+x -printf "f\t%P\t$2/%P\n" \) -o \
				\( -type f -printf "F\t%P\t$2/%P\n" \) | sort)
		fi
	} | sort -s -t '	' -k 2,2 | awk -F '	' '!seen[$2]++'
}

build() { # variant [extra-tree]
	init=$guest/init-$1
	out=$outdir/initramfs-$1.cpio.gz
	[ -f "$init" ] || { echo "make-initramfs: no $init" >&2; exit 1; }
	ino=0
	tree "$init" "${2:-}" > "$outdir/.initramfs-$1.list"
	{
		while IFS='	' read -r type path arg; do
			entry "$type" "$path" "$arg"
		done < "$outdir/.initramfs-$1.list"
		ino=-1
		header 0 1 0 0 0 'TRAILER!!!'
	} | gzip -n -9 > "$out.tmp"
	rm -f "$outdir/.initramfs-$1.list"
	mv "$out.tmp" "$out"
	echo "make-initramfs: $out ($(wc -c < "$out") bytes," \
		"$(printf '%s\n' "$list" | wc -l) applets)"
}

if [ -n "$name" ]; then
	build "$name" "$extra"
else
	build interactive
	build test
fi
