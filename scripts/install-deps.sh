#!/bin/sh
# Installs the Debian packages that building and testing v2e need, once.
set -e
# From syslinux on: what scripts/make-images.sh builds the boot images with
# (the guest's kernel and busybox are i386 packages fetch-guest.sh fetches).
PKGS="build-essential nasm gcc-multilib qemu-user qemu-utils liburing-dev \
libzstd-dev zlib1g-dev libseccomp-dev libcapstone-dev perl gdb seabios \
syslinux syslinux-common isolinux mtools dosfstools xorriso grub-pc-bin \
grub-common e2fsprogs fdisk libvncserver-dev novnc libpng-dev \
chromium python3-websocket python3-pil"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
