#!/usr/bin/env python3
"""Host CPU that a guest costs when it does nothing, side by side with QEMU.

The default guest (Debian's i686 kernel, the interactive busybox
initramfs, console=ttyS0) boots under v2e and under qemu-system-i386 in
turns, each on a terminal of its own (a pty, as a user runs it with
-nographic); v2e twice, as it starts (its idle guest's tick may come up
to -tick-slack late) and with every tick on time (`v2e-exact`,
-tick-slack 0). For each run it reports the CPU time (user + system, from
/proc) of every process of the VM:

  boot   from the start to the shell prompt: the vmm, its device models,
         and the device models' share of the vmm's time (goal: < 10%)
  idle   over IDLE seconds at the prompt, after one typed command: the
         share of one core that the VM's processes used (goal: < 1%)
  floor  over the same time, in each round: what a thread that only
         sleeps and wakes at the guest's timer rate (--hz, the default
         guest's 250) costs this host (bench/idle/wake.c). No VMM that
         wakes at that rate can idle below it; under a hypervisor it
         moves with the host.

CPU time is the scheduler's own count of every thread of the VM
(/proc/PID/task/TID/schedstat, nanoseconds), not /proc's 10 ms ticks.

usage: bench/idle/run.py [--runs N] [--idle SECONDS] [--hz HZ] [--v2e PATH] [--qemu PATH]
"""
import argparse
import glob
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROMPT = b"/root # "


def cpu_seconds(pid):
    """CPU time of every thread of one process so far, in seconds (0 if
    it is gone): the scheduler's nanoseconds, fine enough for 1% of a
    core over a few seconds."""
    total = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def tree(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


class Guest:
    def __init__(self, argv):
        self.t0 = time.monotonic()
        self.master, slave = pty.openpty()
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        os.close(slave)
        self.buf = bytearray()

    def read_until(self, needle, timeout):
        end = time.monotonic() + timeout
        start = len(self.buf)
        while needle not in self.buf[start:] and needle not in self.buf[-len(needle) - 4096:]:
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("no %r in the guest's output" % needle)
            import select
            r, _, _ = select.select([self.master], [], [], min(left, 1))
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    raise RuntimeError("the VM ended")
                self.buf += chunk

    def drain(self, seconds):
        """Keeps reading (so the VM never blocks on its terminal)."""
        import select
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], end - time.monotonic())
            if r:
                try:
                    self.buf += os.read(self.master, 65536)
                except OSError:
                    return

    def send(self, line):
        os.write(self.master, line.encode() + b"\r")

    def close(self):
        try:
            self.send("poweroff -f")
            self.p.wait(30)
        except Exception:
            self.p.kill()
            self.p.wait()
        os.close(self.master)


def one_run(argv, idle):
    g = Guest(argv)
    try:
        g.read_until(PROMPT, 900)
        procs = tree(g.p.pid)
        main = max(procs, key=cpu_seconds)  # the vmm (QEMU: its only process)
        boot_main = cpu_seconds(main)
        boot_rest = sum(cpu_seconds(p) for p in procs if p != main)
        g.send("echo ready-$((1+1))")
        g.read_until(b"ready-2", 60)
        g.drain(2)
        procs = tree(g.p.pid)
        before = sum(cpu_seconds(p) for p in procs)
        t0 = time.monotonic()
        g.drain(idle)
        spent = sum(cpu_seconds(p) for p in procs) - before
        return {"boot_vmm": boot_main, "boot_dm": boot_rest,
                "idle_pct": 100.0 * spent / (time.monotonic() - t0)}
    finally:
        g.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--hz", type=float, default=250)
    ap.add_argument("--v2e", default=os.path.join(ROOT, "build/release/v2e"))
    ap.add_argument("--qemu", default="qemu-system-i386")
    a = ap.parse_args()
    paths = subprocess.run([os.path.join(ROOT, "scripts/fetch-guest.sh"), "--paths"],
                           check=True, capture_output=True, text=True).stdout
    env = dict(l.split("=", 1) for l in paths.split() if "=" in l)
    kernel, initrd = env["V2E_KERNEL"].strip("'\""), env["V2E_INITRD"].strip("'\"")
    common = ["-m", "128", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
              "-nographic"]
    # v2e as it starts by default (an idle guest's tick may come up to
    # -tick-slack late), with every tick on time, and QEMU.
    systems = {"v2e": [a.v2e] + common, "v2e-exact": [a.v2e, "-tick-slack", "0"] + common,
               "qemu": [a.qemu] + common}
    results = {s: [] for s in systems}
    floors = []
    with tempfile.TemporaryDirectory() as tmp:
        wake = os.path.join(tmp, "wake")
        subprocess.run(["cc", "-O2", "-I", os.path.join(ROOT, "src"), "-o", wake,
                        os.path.join(HERE, "wake.c")], check=True)
        for r in range(a.runs):
            for s, argv in systems.items():
                t = one_run(argv, a.idle)
                results[s].append(t)
                print("run %d %-9s boot: vmm %.2f s, device models %.2f s; idle %.2f%% of a core"
                      % (r + 1, s, t["boot_vmm"], t["boot_dm"], t["idle_pct"]),
                      file=sys.stderr, flush=True)
            floor = float(subprocess.run([wake, str(a.hz), str(a.idle)], check=True,
                                         capture_output=True, text=True).stdout)
            floors.append(floor)
            print("run %d floor: %.2f%% of a core (%g wake-ups a second)" % (r + 1, floor, a.hz),
                  file=sys.stderr, flush=True)
    print("%-9s %12s %12s %10s %10s" % ("", "boot vmm (s)", "boot dm (s)", "dm/vmm", "idle %"))
    for s in systems:
        vmm = statistics.median(t["boot_vmm"] for t in results[s])
        dm = statistics.median(t["boot_dm"] for t in results[s])
        idle = statistics.median(t["idle_pct"] for t in results[s])
        print("%-9s %12.2f %12.2f %9.1f%% %10.2f" % (s, vmm, dm, 100 * dm / vmm, idle))
    print("%-9s %12s %12s %10s %10.2f" % ("floor", "", "", "", statistics.median(floors)))


if __name__ == "__main__":
    main()
