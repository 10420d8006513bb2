#!/usr/bin/env python3
"""Side by side with QEMU: the default guest (Debian's i686 kernel, the
interactive busybox initramfs, console=ttyS0) under v2e and under
qemu-system-i386 (TCG), in turns, several runs each, real-time clock.
Prints the median host time of each step and the v2e/QEMU ratio:

  boot     start of the process to the shell prompt
  loop     a 100,000-iteration shell loop
  sha256   sha256sum of 16 MiB
  gzip     gzip -9 of the same 16 MiB
  fork     1,000 fork+exec of /bin/true
  serial   200 KB written to the serial console

usage: bench/boot/run.py [--runs N] [--v2e PATH] [--qemu PATH] [--v2e-arg ARG]...
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Each step: the command, and the number its output must show when done.
# The marker is computed by the shell ($((N+1))), so the terminal's echo
# of the command line never matches it.
STEPS = [
    ("loop", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo done-$((100+1))", "done-101"),
    ("sha256", "sha256sum /tmp/data >/dev/null; echo done-$((200+1))", "done-201"),
    ("gzip", "gzip -9 -c /tmp/data >/dev/null; echo done-$((300+1))", "done-301"),
    ("fork", "i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done; echo done-$((400+1))", "done-401"),
    ("serial", "yes 0123456789012345678901234567890123456789012345678 | head -c 204800; echo done-$((500+1))", "done-501"),
]
PREPARE = ("head -c 16777216 /dev/urandom >/tmp/data; echo done-$((600+1))", "done-601")
PROMPT = b"/root # "


class Guest:
    def __init__(self, argv):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.buf = bytearray()
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            with self.cv:
                if not chunk:
                    self.buf += b"\0EOF"
                    self.cv.notify_all()
                    return
                self.buf += chunk
                self.cv.notify_all()

    def wait_for(self, needle, start, timeout=900):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                i = self.buf.find(needle, start)
                if i >= 0:
                    return time.monotonic(), i + len(needle)
                if self.buf.endswith(b"\0EOF") or time.monotonic() > end:
                    raise RuntimeError("no %r in the guest's output" % needle)
                self.cv.wait(1)

    def send(self, line):
        with self.cv:
            pos = len(self.buf)
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        return time.monotonic(), pos

    def close(self):
        try:
            self.p.stdin.write(b"poweroff -f\n")
            self.p.stdin.flush()
            self.p.wait(60)
        except Exception:
            self.p.kill()
            self.p.wait()


def one_run(argv):
    g = Guest(argv)
    try:
        t, pos = g.wait_for(PROMPT, 0)
        times = {"boot": t - g.t0}
        _, pos = g.send(PREPARE[0])
        _, pos = g.wait_for(PREPARE[1].encode(), pos)
        for name, cmd, marker in STEPS:
            t0, pos = g.send(cmd)
            t1, pos = g.wait_for(marker.encode(), pos)
            times[name] = t1 - t0
        return times
    finally:
        g.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--v2e", default=os.path.join(ROOT, "build/release/v2e"))
    ap.add_argument("--qemu", default="qemu-system-i386")
    ap.add_argument("--v2e-arg", action="append", default=[])
    a = ap.parse_args()
    paths = subprocess.run([os.path.join(ROOT, "scripts/fetch-guest.sh"), "--paths"],
                           check=True, capture_output=True, text=True).stdout
    env = dict(l.split("=", 1) for l in paths.split() if "=" in l)
    kernel, initrd = env["V2E_KERNEL"].strip("'\""), env["V2E_INITRD"].strip("'\"")
    common = ["-m", "256", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0"]
    systems = {
        "v2e": [a.v2e] + common + ["-serial", "stdio", "-display", "none"] + a.v2e_arg,
        "qemu": [a.qemu] + common + ["-serial", "stdio", "-display", "none",
                                     "-monitor", "none", "-no-reboot"],
    }
    results = {s: [] for s in systems}
    for r in range(a.runs):
        for s, argv in systems.items():
            t = one_run(argv)
            results[s].append(t)
            print("run %d %-4s %s" % (r + 1, s, " ".join("%s=%.2f" % kv for kv in t.items())),
                  file=sys.stderr, flush=True)
    print("%-8s %10s %10s %8s" % ("step", "v2e (s)", "QEMU (s)", "v2e/QEMU"))
    for step in ["boot"] + [s[0] for s in STEPS]:
        v = statistics.median(t[step] for t in results["v2e"])
        q = statistics.median(t[step] for t in results["qemu"])
        print("%-8s %10.2f %10.2f %8.2f" % (step, v, q, v / q))


if __name__ == "__main__":
    main()
