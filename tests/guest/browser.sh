#!/bin/sh
# The browser console (issue 15), as a user meets it: v2e serves VNC with
# a websocket port, headless Chromium (Debian's chromium) opens noVNC from
# that one URL, and browser.py (beside this test) drives the page over
# Chromium's DevTools protocol: it screenshots the page, reads the guest's
# text off the canvas in the screenshot with screen-text, types a command
# as key events and reads the answer.
#
# The guest: Debian's kernel with initramfs-display (bochs-drm's console
# at 1024x768, a shell on it), real time (a browser cannot run under the
# deterministic clock's pace any better), Linux's own font.
#
#   browser.t [path/to/v2e]
set -u
. "$(dirname "$0")/guest.inc"

command -v chromium >/dev/null || skip_all "no chromium (Debian's chromium package)"
# Debian's python, with Debian's packages (not a python of the user's own).
py=/usr/bin/python3
[ -x $py ] || py=python3
$py -c 'import websocket, PIL' 2>/dev/null ||
	skip_all "no python3-websocket or python3-pil"
[ -d /usr/share/novnc ] || skip_all "no noVNC (Debian's novnc package)"
[ -x "$here/screen-text" ] || skip_all "no screen-text beside this test"
paths=$("$root/scripts/fetch-guest.sh" --paths --images 2>/dev/null) || {
	skip_all "guest images could not be built from Debian's packages"
}
eval "$paths"
out=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$out"' EXIT

# Linux's 8x16 font (guest.inc).
font=$out/vmlinux
linux_font "$V2E_KERNEL" "$font" || skip_all "no XZ-compressed kernel in $V2E_KERNEL"

# A websocket port that is free now: v2e says if it was taken since.
port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$v2e" -kernel "$V2E_KERNEL" -initrd "$V2E_IMAGES/initramfs-display.cpio.gz" \
	-append "console=ttyS0 console=tty0" -serial file:"$out/serial" \
	-vnc "127.0.0.1:0,to=99,websocket=127.0.0.1:$port" </dev/null 2>"$out/v2e.err" &
pid=$!
n=0
until grep -q "v2e-display: ready" "$out/serial" 2>/dev/null; do
	n=$((n + 1))
	[ $n -le 600 ] && kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
check 'grep -q "v2e-display: ready" "$out/serial"' \
	"the guest's console is up ($(tail -c 200 "$out/v2e.err" | tr '\n' '|'))"
check 'grep -q "browsers at http://127.0.0.1:$port/vnc.html" "$out/v2e.err"' \
	"v2e says where browsers go ($(head -c 200 "$out/v2e.err" | tr '\n' '|'))"

timeout -k 5 180 $py "$here/browser.py" \
	"http://127.0.0.1:$port/vnc.html?autoconnect=true" "$font" "$here/screen-text" "$out" \
	>"$out/page.txt" 2>"$out/browser.err"
st=$?
check '[ $st = 0 ]' "Chromium loaded noVNC and it connected ($st: $(tail -c 300 "$out/browser.err" | tr '\n' '|'))"
sed -n '/^=== screen/,/^=== after/p' "$out/page.txt" >"$out/first.txt"
sed -n '/^=== after/,$p' "$out/page.txt" >"$out/second.txt"
check 'grep -q "v2e-display: ready" "$out/first.txt"' \
	"the guest's text is on the page's screenshot ($(grep -v '^ *$' "$out/first.txt" | tail -n 3 | tr '\n' '|' | cut -c1-300))"
check 'grep -q "uname -m" "$out/second.txt" && grep -qx "i686" "$out/second.txt"' \
	"typing into the page reaches the guest's shell, and its answer is on the page ($(grep -v '^ *$' "$out/second.txt" | tail -n 3 | tr '\n' '|' | cut -c1-300))"
kill $pid 2>/dev/null
wait $pid 2>/dev/null
pid=
tap_done
