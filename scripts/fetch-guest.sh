#!/bin/sh
# Fetches v2e's default guest from Debian's archive by package name and
# builds its initramfs images:
#
#   linux-image-686 (i386 metapackage, resolved through apt's dependency data
#                    to the real linux-image-<version>-686 package)
#   busybox-static  (i386)
#
# Nothing on the host changes: apt runs with i386 as its only architecture
# and with lists, caches and a dpkg status file of its own under the cache
# folder, so the host's dpkg architectures and package lists stay as they
# are. The sources come from the host's own Debian configuration (the same
# mirror URIs and the release named in /etc/os-release).
#
# Cache folder: $V2E_CACHE if set, else $HOME/.cache/v2e (outside git).
# A second run with everything in place downloads nothing and rebuilds
# nothing; it only prints the paths.
#
# Usage: scripts/fetch-guest.sh [--refresh] [--paths] [--modules] [--images]
#   --refresh  ask the archive again for the newest packages
#   --paths    print only KEY=VALUE lines (V2E_KERNEL, V2E_INITRD,
#              V2E_INITRD_TEST, V2E_BUSYBOX, and V2E_MODULES or V2E_IMAGES
#              when asked for), for scripts: eval "$(fetch-guest.sh --paths)"
#   --modules  also unpack the kernel package's modules (once, from the
#              .deb kept in the cache) into guest/linux/lib/modules
#   --images   also build the boot images (scripts/make-images.sh) into
#              the cache's images folder, again whenever an input changed
set -eu

refresh=0
paths_only=0
want_modules=0
want_images=0
for a in "$@"; do
	case "$a" in
	--refresh) refresh=1 ;;
	--paths) paths_only=1 ;;
	--modules) want_modules=1 ;;
	--images) want_modules=1; want_images=1 ;;
	-h|--help) sed -n '/^set -eu/q; 2,$p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "fetch-guest: unknown option: $a" >&2; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${V2E_CACHE:-${HOME:?HOME is not set}/.cache/v2e}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
APTDIR=$CACHE/apt
DEBS=$CACHE/debs
GUEST=$CACHE/guest
IMAGES=$CACHE/images
STAMP=$CACHE/fetch.stamp

say() { [ "$paths_only" = 1 ] || echo "fetch-guest: $*"; }
log() { echo "fetch-guest: $*" >&2; }

# --- the sources: the host's Debian mirrors for the host's release ---------
# Prints one-line "deb URI SUITE COMPONENTS" entries for the host's release
# (suites named CODENAME or CODENAME-something) from sources.list and from
# deb822 *.sources files; other repositories (third-party ones) are skipped.
host_sources() {
	codename=$1
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
		awk -v c="$codename" '$1 == "deb" && ($3 == c || index($3, c "-") == 1) {
			line = "deb " $2 " " $3
			for (i = 4; i <= NF; i++) line = line " " $i
			print line }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v c="$codename" '
		function flush(   n, m, k, j, i, s) {
			if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
				n = split(uris, u, " "); m = split(suites, s, " ")
				for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
					if (s[j] == c || index(s[j], c "-") == 1)
						print "deb " u[i] " " s[j] " " comps
			}
			types = uris = suites = comps = enabled = ""
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		{
			key = tolower($1); sub(/:$/, "", key)
			val = $0; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types") types = val
			else if (key == "uris") uris = val
			else if (key == "suites") suites = val
			else if (key == "components") comps = val
			else if (key == "enabled") enabled = tolower(val)
		}
		END { flush() }' "$f"
	done
}

write_sources() {
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || { log "no VERSION_CODENAME in /etc/os-release"; exit 1; }
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	lines=$(host_sources "$codename" | awk '!seen[$0]++')
	if [ -z "$lines" ]; then
		log "no Debian $codename sources configured on this host; using deb.debian.org"
		lines="deb http://deb.debian.org/debian $codename main
deb http://deb.debian.org/debian $codename-updates main
deb http://deb.debian.org/debian-security $codename-security main"
	fi
	echo "$lines" | sed "s|^deb |deb [arch=i386 signed-by=$keyring] |" \
		> "$APTDIR/sources.list.new"
	mv "$APTDIR/sources.list.new" "$APTDIR/sources.list"
}

# As root, apt would try its _apt sandbox user, which cannot write into a
# cache under /root, and fall back with a warning: say root up front.
sandbox=
[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"

apt_i386() {
	apt-get -q $sandbox \
		-o APT::Architecture=i386 -o APT::Architectures=i386 \
		-o Dir::State="$APTDIR/state" \
		-o Dir::State::status="$APTDIR/state/status" \
		-o Dir::Cache="$APTDIR/cache" \
		-o Dir::Cache::pkgcache="$APTDIR/cache/pkgcache.bin" \
		-o Dir::Cache::srcpkgcache="$APTDIR/cache/srcpkgcache.bin" \
		-o Dir::Etc::SourceList="$APTDIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Debug::NoLocking=1 \
		"$@"
}
apt_cache_i386() {
	apt-cache \
		-o APT::Architecture=i386 -o APT::Architectures=i386 \
		-o Dir::State="$APTDIR/state" \
		-o Dir::State::status="$APTDIR/state/status" \
		-o Dir::Cache="$APTDIR/cache" \
		-o Dir::Cache::pkgcache="$APTDIR/cache/pkgcache.bin" \
		-o Dir::Cache::srcpkgcache="$APTDIR/cache/srcpkgcache.bin" \
		-o Dir::Etc::SourceList="$APTDIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		"$@"
}

# --- is everything already here? -------------------------------------------
stamp_get() { sed -n "s/^$1=//p" "$STAMP" 2>/dev/null | head -n 1; }

fetched=0
if [ "$refresh" = 0 ] && [ -f "$STAMP" ]; then
	kernel=$(stamp_get kernel)
	busybox=$(stamp_get busybox)
	if [ -n "$kernel" ] && [ -f "$kernel" ] && [ -n "$busybox" ] &&
	   [ -x "$busybox" ]; then
		fetched=1
	fi
fi

if [ "$fetched" = 0 ]; then
	t0=$(date +%s)
	for tool in apt-get apt-cache dpkg-deb tar; do
		command -v "$tool" >/dev/null ||
			{ log "$tool is needed (this script runs on Debian)"; exit 1; }
	done
	mkdir -p "$APTDIR/state/lists/partial" "$APTDIR/cache/archives/partial" \
		"$DEBS" "$GUEST"
	: >> "$APTDIR/state/status"
	write_sources
	say "sources ($APTDIR/sources.list):"
	[ "$paths_only" = 1 ] || sed 's/^/  /' "$APTDIR/sources.list"
	say "apt-get update (i386, private lists in $APTDIR)"
	# A mirror caught mid-sync can fail one suite's index (apt then ignores
	# it); go on with the suites that did arrive, but say so.
	if ! apt_i386 update >"$APTDIR/update.log" 2>&1; then
		grep '^E:' "$APTDIR/update.log" | sed 's/^/  /' >&2 || :
		ls "$APTDIR"/state/lists/*_Packages* >/dev/null 2>&1 ||
			{ cat "$APTDIR/update.log" >&2; log "apt-get update failed"; exit 1; }
		log "warning: apt-get update failed for some suites; using the others"
	fi

	# linux-image-686 is a metapackage: its candidate depends on the real
	# linux-image-<abi>-686 package.
	kpkg=$(apt_cache_i386 depends --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances \
		linux-image-686 |
		sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[^ <>]*-686\)$/\1/p' |
		head -n 1)
	[ -n "$kpkg" ] || { log "cannot resolve linux-image-686"; exit 1; }
	say "linux-image-686 -> $kpkg"

	say "apt-get download $kpkg busybox-static"
	rm -f "$DEBS"/*.deb
	(cd "$DEBS" && apt_i386 download "$kpkg:i386" busybox-static:i386) \
		>"$APTDIR/download.log" 2>&1 ||
		{ cat "$APTDIR/download.log" >&2; log "apt-get download failed"; exit 1; }
	kdeb=$(ls "$DEBS"/"$kpkg"_*_i386.deb)
	bdeb=$(ls "$DEBS"/busybox-static_*_i386.deb)

	# The kernel package is mostly modules (hundreds of MB unpacked) that an
	# initramfs of busybox alone does not use: unpack /boot only. The .deb
	# stays in $DEBS for --modules.
	rm -rf "$GUEST/linux" "$GUEST/busybox"
	mkdir -p "$GUEST/linux" "$GUEST/busybox"
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$GUEST/linux" ./boot
	dpkg-deb -x "$bdeb" "$GUEST/busybox"

	kernel=$(ls "$GUEST"/linux/boot/vmlinuz-*)
	busybox=$GUEST/busybox/bin/busybox
	[ -f "$kernel" ] || { log "no vmlinuz in $kdeb"; exit 1; }
	[ -x "$busybox" ] || { log "no bin/busybox in $bdeb"; exit 1; }
	if [ "$(dd if="$kernel" bs=1 skip=514 count=4 2>/dev/null)" != HdrS ]; then
		log "$kernel is not a bzImage (no HdrS at 0x202)"; exit 1
	fi
	ln -sf "${kernel#"$GUEST"/}" "$GUEST/vmlinuz"
	{
		echo "kernel_package=$(dpkg-deb -f "$kdeb" Package) $(dpkg-deb -f "$kdeb" Version)"
		echo "busybox_package=$(dpkg-deb -f "$bdeb" Package) $(dpkg-deb -f "$bdeb" Version)"
		echo "kernel=$kernel"
		echo "kernel_deb=$kdeb"
		echo "busybox=$busybox"
	} > "$STAMP.new"
	mv "$STAMP.new" "$STAMP"
	say "fetched in $(( $(date +%s) - t0 )) s"
fi

# --- the initramfs images (rebuilt only when an input changed) -------------
inputs=$( { sha256sum "$busybox" "$here/make-initramfs.sh"
	    sha256sum "$here"/../guest/* ; } | sed 's/ .*//' | sha256sum | sed 's/ .*//')
if [ "$refresh" = 1 ] || [ "$(cat "$GUEST/initramfs.stamp" 2>/dev/null)" != "$inputs" ] ||
   [ ! -f "$GUEST/initramfs-interactive.cpio.gz" ] ||
   [ ! -f "$GUEST/initramfs-test.cpio.gz" ]; then
	say "building the initramfs images"
	"$here/make-initramfs.sh" "$busybox" "$GUEST" >&2
	echo "$inputs" > "$GUEST/initramfs.stamp"
fi

# --- the kernel's modules (--modules) ----------------------------------------
# All of them (about 190 MB, a few seconds to unpack), once: which ones an
# image needs is make-images.sh's business. Unpacked beside /boot, so
# --refresh, which unpacks a new kernel, drops them too.
kver=$(basename "$kernel" | sed 's/^vmlinuz-//')
modules=$GUEST/linux/lib/modules/$kver
if [ "$want_modules" = 1 ] && [ ! -f "$modules/.unpacked" ]; then
	kdeb=$(stamp_get kernel_deb)
	if [ -z "$kdeb" ]; then # a cache from before kernel_deb was recorded
		kdeb=$(ls "$DEBS"/"$(stamp_get kernel_package | cut -d' ' -f1)"_*_i386.deb 2>/dev/null | head -n 1)
	fi
	[ -n "$kdeb" ] && [ -f "$kdeb" ] ||
		{ log "the kernel package is gone from $DEBS: run with --refresh"; exit 1; }
	say "unpacking the kernel's modules from $(basename "$kdeb")"
	rm -rf "$GUEST/linux/lib"
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$GUEST/linux" ./lib/modules
	[ -d "$modules/kernel" ] || { log "no lib/modules/$kver in $kdeb"; exit 1; }
	: > "$modules/.unpacked"
fi

# --- the boot images (--images; rebuilt only when an input changed) ----------
# The inputs: the scripts and guest files make-images.sh reads, the guest
# material, and the versions of the Debian tools whose output lands in
# the images. Always with make-images.sh's own SOURCE_DATE_EPOCH, so the
# cache holds the images the tests expect; one build at a time (tests
# running side by side may all ask).
if [ "$want_images" = 1 ]; then
	mkdir -p "$IMAGES"
	exec 9>"$IMAGES/.lock"
	flock 9
	tools=$(dpkg-query -W -f='${Package} ${Version}\n' syslinux syslinux-common \
		isolinux mtools dosfstools xorriso grub-pc-bin grub-common e2fsprogs \
		fdisk qemu-utils nasm gcc-multilib libc6-dev-i386 2>/dev/null || :)
	tools="$tools
$(gcc --version 2>/dev/null | head -n 1)"
	inputs=$( { sha256sum "$here/make-images.sh" "$here/make-initramfs.sh" \
		    "$here"/../guest/* "$here/../tests/vmm/mb.inc" "$kernel" "$busybox" \
		    "$GUEST/initramfs-interactive.cpio.gz" "$GUEST/initramfs-test.cpio.gz" |
		    sed 's/ .*//'
		  stamp_get kernel_package; echo "$tools"; } | sha256sum | sed 's/ .*//')
	if [ "$refresh" = 1 ] || [ "$(cat "$IMAGES/inputs.stamp" 2>/dev/null)" != "$inputs" ] ||
	   ! (cd "$IMAGES" 2>/dev/null && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1); then
		say "building the boot images into $IMAGES"
		rm -f "$IMAGES/inputs.stamp"
		V2E_KERNEL=$kernel V2E_BUSYBOX=$busybox V2E_MODULES=$modules \
		V2E_INITRD=$GUEST/initramfs-interactive.cpio.gz \
		V2E_INITRD_TEST=$GUEST/initramfs-test.cpio.gz \
			env -u SOURCE_DATE_EPOCH "$here/make-images.sh" "$IMAGES" >&2
		echo "$inputs" > "$IMAGES/inputs.stamp"
	fi
	exec 9>&-
fi

if [ "$paths_only" = 1 ]; then
	echo "V2E_KERNEL=$kernel"
	echo "V2E_INITRD=$GUEST/initramfs-interactive.cpio.gz"
	echo "V2E_INITRD_TEST=$GUEST/initramfs-test.cpio.gz"
	echo "V2E_BUSYBOX=$busybox"
	[ "$want_modules" = 0 ] || echo "V2E_MODULES=$modules"
	[ "$want_images" = 0 ] || echo "V2E_IMAGES=$IMAGES"
else
	echo "kernel:    $(stamp_get kernel_package)"
	echo "busybox:   $(stamp_get busybox_package)"
	echo "vmlinuz:   $kernel"
	echo "initramfs: $GUEST/initramfs-interactive.cpio.gz (interactive shell)"
	echo "initramfs: $GUEST/initramfs-test.cpio.gz (guest test)"
	[ "$want_modules" = 0 ] || echo "modules:   $modules"
	[ "$want_images" = 0 ] || echo "images:    $IMAGES (SHA256SUMS lists them)"
fi
