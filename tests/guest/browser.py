#!/usr/bin/env python3
"""The browser console, end to end: headless Chromium opens noVNC from
v2e's websocket port, as a user would, and the test checks what the page
shows and that typing reaches the guest.

usage: browser.py URL FONT SCREEN_TEXT OUTDIR

Chromium is driven over its DevTools protocol (a websocket, with Debian's
python3-websocket). Steps, each with a timeout:
  1. load URL (noVNC's vnc.html?autoconnect=true) and wait until noVNC
     says it is connected and its canvas has the guest's size;
  2. take a screenshot of the page, cut the canvas out of it, and read its
     text with screen-text (8x16 cells: Linux's framebuffer console);
     print it (the shell test greps it);
  3. type COMMAND + Enter as key events into the page, wait, screenshot
     again and print the text once more.
Exit 0 when every step ran; the calling test decides what the text must
say. Prints "browser: ..." lines on stderr about what it is doing.
"""
import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import websocket
from PIL import Image

COMMAND = "uname -m"


def log(msg):
    print("browser: " + msg, file=sys.stderr, flush=True)


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")


def start_chromium(profile):
    argv = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--no-default-browser-check", "--window-size=1280,1000",
            "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        line = p.stderr.readline()
        if not line:
            break
        m = re.search(r"DevTools listening on (ws://\S+)", line)
        if m:
            return p, m.group(1)
    p.kill()
    raise RuntimeError("chromium did not start its DevTools endpoint")


def page_target(browser_ws):
    port = re.search(r":(\d+)/", browser_ws).group(1)
    import urllib.request
    for _ in range(50):
        with urllib.request.urlopen("http://127.0.0.1:%s/json" % port) as r:
            for t in json.load(r):
                if t.get("type") == "page":
                    return t["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise RuntimeError("no page target")


def wait_for(page, expr, what, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = page.eval(expr)
        if v:
            return v
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def canvas_text(page, font, screen_text, out_png, out_ppm):
    """Screenshot of the page, the canvas cut out, its text."""
    rect = page.eval("(() => { const c = document.querySelector('canvas');"
                     " const r = c.getBoundingClientRect();"
                     " return [r.left, r.top, c.width, c.height, window.devicePixelRatio]; })()")
    shot = page.call("Page.captureScreenshot", format="png")
    img = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    img.save(out_png)
    x, y, w, h, ratio = rect
    if ratio != 1 or x != int(x) or y != int(y):
        raise RuntimeError("the canvas is not on whole pixels: %s" % rect)
    crop = img.crop((int(round(x)), int(round(y)), int(round(x)) + w, int(round(y)) + h))
    crop.save(out_ppm)
    return subprocess.run([screen_text, "--font", font, "--cell", "8x16", out_ppm],
                          check=True, capture_output=True, text=True).stdout


def type_text(page, text):
    """Key events as a keyboard makes them: noVNC turns them into keysyms."""
    for ch in text:
        if ch == "\n":
            ev = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}
        elif ch == " ":
            ev = {"key": " ", "code": "Space", "windowsVirtualKeyCode": 32, "text": " "}
        elif ch == "-":
            ev = {"key": "-", "code": "Minus", "windowsVirtualKeyCode": 189, "text": "-"}
        elif ch.isalpha() and ch.islower():
            ev = {"key": ch, "code": "Key" + ch.upper(), "windowsVirtualKeyCode": ord(ch.upper()),
                  "text": ch}
        elif ch.isdigit():
            ev = {"key": ch, "code": "Digit" + ch, "windowsVirtualKeyCode": ord(ch), "text": ch}
        else:
            raise ValueError("no key for %r" % ch)
        page.call("Input.dispatchKeyEvent", type="keyDown", **ev)
        up = dict(ev)
        up.pop("text", None)
        page.call("Input.dispatchKeyEvent", type="keyUp", **up)
        time.sleep(0.05)


def main():
    url, font, screen_text, outdir = sys.argv[1:5]
    profile = tempfile.mkdtemp(prefix="v2e-chromium-")
    chrome, browser_ws = start_chromium(profile)
    try:
        page = Page(page_target(browser_ws))
        page.call("Page.enable")
        # A viewport of known, even size: noVNC centres the canvas, and a
        # centre on a half pixel would shift the picture by one.
        page.call("Emulation.setDeviceMetricsOverride", width=1280, height=1024,
                  deviceScaleFactor=1, mobile=False)
        log("loading " + url)
        page.call("Page.navigate", url=url)
        wait_for(page, "document.documentElement.classList.contains('noVNC_connected')",
                 "noVNC to connect", 60)
        size = wait_for(page, "(() => { const c = document.querySelector('canvas');"
                        " return c && c.width >= 640 ? [c.width, c.height] : null; })()",
                        "the guest's screen in the canvas", 60)
        log("connected, the canvas is %dx%d" % tuple(size))
        time.sleep(2)
        print("=== screen")
        print(canvas_text(page, font, screen_text, os.path.join(outdir, "page1.png"),
                          os.path.join(outdir, "canvas1.ppm")), flush=True)
        page.eval("document.querySelector('canvas').focus()")
        log("typing %r" % COMMAND)
        type_text(page, COMMAND + "\n")
        time.sleep(3)
        print("=== after typing")
        print(canvas_text(page, font, screen_text, os.path.join(outdir, "page2.png"),
                          os.path.join(outdir, "canvas2.ppm")), flush=True)
    finally:
        chrome.kill()
        chrome.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the TAP message
        log("failed: %s" % e)
        sys.exit(1)
