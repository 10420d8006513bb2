#!/bin/sh
# Whole-guest test of the screen and the input devices (issue 15), seen
# from a VNC client as a user would: v2e runs with -vnc unix:SOCKET and
# VNC client v2e-screendump (beside v2e) grabs the framebuffer as a PPM,
# types and moves the pointer; screen-text reads the text off the
# picture; the guest's serial log says what it got.
#
#   1. SeaBIOS and SYSLINUX on the VGA text screen (720x400): the disk
#      image's SYSLINUX made to wait at its prompt.
#   2. Debian's kernel with initramfs-display (guest/init-display):
#      bochs-drm's console at 1024x768x32 shows the guest's marker.
#   3. Keys typed over VNC reach the shell on that console, through the
#      i8042 (PS/2 keyboard), and the answer is on the screen.
#   4. The PS/2 mouse: pointer moves arrive in Linux as relative motion
#      that sums to the pointer's movement, in the right direction.
#   5. With -usb -device usb-tablet -device usb-kbd: absolute positions
#      scaled as the tablet does (the last pixel is 7FFFh), and typing
#      through the USB keyboard.
#
# The guest's text is read with the font it is drawn in: the VGA BIOS's
# for the text mode, Linux's own (found in the kernel image, whose XZ
# payload is unpacked) for its framebuffer console; the two differ in a
# few glyphs. Deterministic clock (-icount) throughout; input arrives
# when the client sends it. The release build's v2e when there is one.
#
#   display.t [path/to/v2e]
set -u
. "$(dirname "$0")/guest.inc"

screen_text=$here/screen-text
dump=$(dirname "$v2e")/v2e-screendump
vga_font=
for f in /usr/share/seabios/vgabios-stdvga.bin /usr/share/qemu/vgabios-stdvga.bin; do
	[ -f "$f" ] && { vga_font=$f; break; }
done
[ -n "$vga_font" ] || skip_all "no vgabios-stdvga.bin (Debian's seabios package)"
[ -x "$dump" ] || skip_all "no v2e-screendump beside $v2e"
[ -x "$screen_text" ] || skip_all "no screen-text beside this test"
paths=$("$root/scripts/fetch-guest.sh" --paths --images 2>/dev/null) || {
	skip_all "guest images could not be built from Debian's packages"
}
eval "$paths"
I=$V2E_IMAGES
out=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$out"' EXIT

# --- the VNC client: v2e-screendump -----------------------------------------
# grab FILE [WxH]: the framebuffer, once settled (and of that size), as
# a PPM.
vnc_grab() {
	timeout -k 2 40 "$dump" ${2:+--wait-size "$2"} --timeout 30 "unix:$out/vnc" "$1" \
		2>>"$out/vnc.err"
}
# type TEXT: each character's key pressed and released (with Shift where
# a US keyboard needs it), then Return.
vnc_type() {
	timeout -k 2 40 "$dump" --type "$1" --key Return --timeout 30 "unix:$out/vnc" \
		"$out/scratch.ppm" 2>>"$out/vnc.err"
}
# pointer X Y: the pointer to X, Y with no button down.
vnc_pointer() {
	timeout -k 2 40 "$dump" --pointer "$1,$2" --timeout 30 "unix:$out/vnc" \
		"$out/scratch.ppm" 2>>"$out/vnc.err"
}

# --- the guest ----------------------------------------------------------------
# start NAME ARGS...: v2e in the background with its VNC server on
# $out/vnc and COM1 in $out/NAME.serial.
start() {
	name=$1
	shift
	rm -f "$out/vnc"
	: >"$out/$name.serial"
	timeout -k 5 300 "$v2e" -icount -no-reboot -vnc "unix:$out/vnc" \
		-serial "file:$out/$name.serial" "$@" </dev/null >"$out/$name.log" 2>&1 &
	pid=$!
}
stop() {
	[ -n "$pid" ] || return 0
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	pid=
}
serial() { tr -d '\r' <"$out/$name.serial"; }
# wait_for PATTERN [SECONDS]: until the serial log has a line matching
# PATTERN (grep -E), default 60 s; fails at once if v2e has ended.
wait_for() {
	i=0
	while ! serial | grep -Eq -- "$1"; do
		kill -0 $pid 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -gt $((${2:-60} * 10)) ] && return 1
		sleep 0.1
	done
}
# What the serial log ends with, for a failure's message.
last() { serial | grep -v '^evread: event[0-9]* key' | tail -n 3 | tr '\n' '|' | cut -c1-300; }
# size FILE.ppm: "WIDTHxHEIGHT" from a PPM's header.
size() { head -c 20 "$1" 2>/dev/null | tr '\n' ' ' | awk '$1 == "P6" { print $2 "x" $3 }'; }
# screen FILE.ppm FONT CELL: the text on a picture.
screen() { "$screen_text" --font "$2" --cell "$3" "$1" 2>&1; }
t0=$(date +%s)
took() { echo "$(( $(date +%s) - t0 )) s"; }

# Linux's 8x16 font, for its framebuffer console (guest.inc).
linux_font=$out/vmlinux
linux_font "$V2E_KERNEL" "$linux_font" ||
	skip_all "no XZ-compressed kernel in $V2E_KERNEL to find Linux's font in"

# --- 1. SeaBIOS and SYSLINUX on the text screen ------------------------------
# The image's SYSLINUX waits 1 s at its prompt; this copy waits for good
# (TIMEOUT 0), so the prompt stays on the screen for the picture.
export MTOOLS_SKIP_CHECK=1
cp "$I/hd-syslinux.img" "$out/hd.img"
mtype -i "$out/hd.img@@1048576" ::syslinux.cfg | sed 's/^TIMEOUT .*/TIMEOUT 0/' >"$out/syslinux.cfg" &&
	mcopy -o -i "$out/hd.img@@1048576" "$out/syslinux.cfg" ::syslinux.cfg
t0=$(date +%s)
start hd -drive file="$out/hd.img",format=raw
wait_for "^boot:" 60 && vnc_grab "$out/hd.ppm" 720x400
screen "$out/hd.ppm" "$vga_font" 9x16 >"$out/hd.txt"
stop
check '[ "$(size "$out/hd.ppm")" = 720x400 ] && grep -q "^SeaBIOS (version " "$out/hd.txt" &&
	grep -q "^SYSLINUX 6\.[0-9]* .*Peter Anvin" "$out/hd.txt" && grep -q "^boot:" "$out/hd.txt"' \
	"SeaBIOS's banner and SYSLINUX's prompt in the VNC framebuffer, 720x400 text ($(took): $(size "$out/hd.ppm"), $(head -n 5 "$out/hd.txt" | tr '\n' '|'))"

# The same screen behind VNC's password (QEMU's password-secret= and
# -object secret): the right password gets the picture, a wrong one
# nothing.
t0=$(date +%s)
printf 'hunter2\n' >"$out/pw"
printf 'hunter3\n' >"$out/pw.wrong"
start pw -drive file="$out/hd.img",format=raw,snapshot=on \
	-vnc "unix:$out/vnc,password-secret=vncpw" -object secret,id=vncpw,file="$out/pw"
wait_for "^boot:" 60
timeout -k 2 40 "$dump" --password-file "$out/pw.wrong" --timeout 10 "unix:$out/vnc" \
	"$out/pw-wrong.ppm" 2>>"$out/vnc.err"
wrong=$?
timeout -k 2 40 "$dump" --password-file "$out/pw" --wait-size 720x400 --timeout 30 \
	"unix:$out/vnc" "$out/pw.ppm" 2>>"$out/vnc.err"
right=$?
stop
check '[ $wrong != 0 ] && [ ! -s "$out/pw-wrong.ppm" ] && [ $right = 0 ] &&
	"$screen_text" --font "$vga_font" "$out/pw.ppm" | grep -q "^boot:"' \
	"-vnc password-secret=: a wrong password is refused, the right one sees the screen ($(took): $wrong, $right)"

# The display process dies (a crash a client caused, say): v2e starts
# another on the same socket and a client sees the screen again; the
# guest, at SYSLINUX's prompt, runs on.
t0=$(date +%s)
start crash -drive file="$out/hd.img",format=raw,snapshot=on
wait_for "^boot:" 60
vmm=$(pgrep -P "$pid" -x v2e)
display_pid() { pgrep -P "$vmm" -x v2e-display; }
old=$(display_pid)
[ -n "$old" ] && kill -KILL "$old"
sleep 1
new=$(display_pid)
vnc_grab "$out/again.ppm" 720x400
again=$?
stop
check '[ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ] && [ $again = 0 ] &&
	"$screen_text" --font "$vga_font" "$out/again.ppm" | grep -q "^boot:" &&
	grep -q "v2e-display killed by SIGKILL; started again" "$out/crash.log"' \
	"a display that dies is started again and a client sees the screen ($(took): ${old:-none} -> ${new:-none}, $(tail -n 1 "$out/crash.log"))"

# --- 2-4. Linux on bochs-drm, the PS/2 keyboard and mouse ---------------------
linux() {
	start "$@" -kernel "$V2E_KERNEL" -initrd "$I/initramfs-display.cpio.gz" \
		-append "console=ttyS0 console=tty0"
}
t0=$(date +%s)
linux ps2
wait_for "^v2e-display: (ready|FAIL)" 120 && vnc_grab "$out/ps2.ppm" 1024x768
screen "$out/ps2.ppm" "$linux_font" 8x16 >"$out/ps2.txt"
check 'serial | grep -q "^v2e-display: ready" && serial | grep -q "^v2e-display: fb0 1024,768 32 bpp" &&
	[ "$(size "$out/ps2.ppm")" = 1024x768 ] && grep -q "^v2e-display: ready" "$out/ps2.txt"' \
	"Linux's console on bochs-drm: 1024x768x32 over VNC, the guest's marker on it ($(took): $(size "$out/ps2.ppm"), $(last))"

# A command that answers on the screen and, through tee, on the serial
# log; the answer (typed-42) is not in what was typed.
t0=$(date +%s)
vnc_type 'echo typed-$((6*7)) | tee /dev/ttyS0'
wait_for "^typed-42$" 30 && vnc_grab "$out/typed.ppm"
screen "$out/typed.ppm" "$linux_font" 8x16 >"$out/typed.txt"
check 'grep -q "# echo typed-\$((6\*7)) | tee /dev/ttyS0$" "$out/typed.txt" && grep -q "^typed-42$" "$out/typed.txt"' \
	"keys typed over VNC reach the shell through the PS/2 keyboard; its answer is on the screen ($(took): $(grep typed "$out/typed.txt" | tr '\n' '|'))"

# The mouse's device, as evread names it: the PS/2 mouse is the only
# relative one.
mouse=$(serial | sed -n 's/^evread: \(event[0-9]*\) open: .*PS\/2.*Mouse.*/\1/p' | head -n 1)
# moved X Y DX DY: the pointer to X, Y; then the relative motion the
# guest reports after that, summed, must come to DX, DY (within 10 s).
moved() {
	from=$(serial | wc -l)
	vnc_pointer "$1" "$2"
	i=0
	while :; do
		sum=$(serial | tail -n +$((from + 1)) | awk -v d="$mouse" '
			$2 == d && $3 == "rel" { split($4, x, "="); split($5, y, "="); sx += x[2]; sy += y[2] }
			END { print sx + 0, sy + 0 }')
		[ "$sum" = "$3 $4" ] && return 0
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}
t0=$(date +%s)
# The first position only sets where the pointer is: the PS/2 mouse
# moves from there.
vnc_pointer 100 100
sleep 0.5
moves=
for m in "612 484 512 384" "400 100 -212 -384" "1023 767 623 667" "0 0 -1023 -767"; do
	set -- $m
	if moved "$@"; then moves="$moves ok"; else moves="$moves (to $1,$2: $sum)"; fi
done
check '[ -n "$mouse" ] && [ "$moves" = " ok ok ok ok" ]' \
	"the PS/2 mouse: pointer moves arrive as relative motion summing to the pointer's ($(took): ${mouse:-no mouse}:$moves)"
stop

# --- 5. The USB tablet and keyboard -------------------------------------------
t0=$(date +%s)
linux usb -usb -device usb-tablet -device usb-kbd
wait_for "^v2e-display: (ready|FAIL)" 120
wait_for "^evread: event[0-9]* open: .*USB Tablet" 10
tablet=$(serial | sed -n 's/^evread: \(event[0-9]*\) open: .*USB Tablet.*/\1/p' | head -n 1)
# The tablet starts at 0, 0, which evdev does not report again: the
# corner comes last. usb_tablet_scale: pos * 7FFFh / (size - 1).
abs=
for m in "512 384 16399 16404" "1023 767 32767 32767" "0 0 0 0"; do
	set -- $m
	vnc_pointer "$1" "$2"
	if wait_for "^evread: $tablet abs x=$3 y=$4$" 10; then
		abs="$abs ok"
	else
		abs="$abs (to $1,$2: $(serial | grep "^evread: $tablet abs" | tail -n 1 | cut -d' ' -f4-))"
	fi
done
check '[ -n "$tablet" ] && [ "$abs" = " ok ok ok" ]' \
	"the USB tablet: absolute positions scaled to 0..7FFFh, the last pixel 7FFFh ($(took): ${tablet:-no tablet}:$abs)"

t0=$(date +%s)
kbd=$(serial | sed -n 's/^evread: \(event[0-9]*\) open: .*USB Keyboard.*/\1/p' | head -n 1)
vnc_type 'echo usb-$((6*7)) | tee /dev/ttyS0'
wait_for "^usb-42$" 30
check '[ -n "$kbd" ] && serial | grep -q "^usb-42$" && serial | grep -q "^evread: $kbd key 28 down"' \
	"keys typed over VNC reach the shell through the USB keyboard ($(took): ${kbd:-no keyboard}, $(last))"
stop
# --- 6. A direct kernel boot's text screen -------------------------------------
# No VGA BIOS runs before -kernel: the VGA starts in the text mode the
# BIOS would have left and Linux is told so, so its VGA console shows
# the boot as under QEMU (whose -kernel goes through SeaBIOS).
t0=$(date +%s)
start text -kernel "$V2E_KERNEL" -initrd "$V2E_INITRD" -append "console=tty0 console=ttyS0"
wait_for "^v2e default guest" 120 && vnc_grab "$out/text.ppm" 720x400
screen "$out/text.ppm" "$vga_font" 9x16 >"$out/text.txt"
stop
check '[ "$(size "$out/text.ppm")" = 720x400 ] && grep -q "Run /init as init process" "$out/text.txt"' \
	"-kernel: Linux's VGA text console on the screen, 720x400 ($(took): $(size "$out/text.ppm"), $(grep -v "^ *$" "$out/text.txt" | tail -n 2 | tr '\n' '|'))"

tap_done
