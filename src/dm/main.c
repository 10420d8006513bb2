/* v2e-dm: one device-model process. The vmm starts it (sandbox_spawn)
 * with the control socket as its only way out, sends guest RAM, the ioreq
 * channel and the devices with their host descriptors, and from then on
 * this process serves ioreqs inside its sandbox.
 *
 *   v2e-dm --ctl-fd N [--hostile N]
 *
 * --hostile (test builds only) misbehaves after N requests (dm.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm/dm.h"
#include "dm/sandbox/sandbox.h"
#include "lib/log.h"

static int usage(void)
{
	fprintf(stderr, "usage: v2e-dm --ctl-fd N (started by v2e, not by hand)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct dm dm;
	struct sandbox_lockdown_args lock = {
		.fd_margin = 4,
		.mem_headroom = 256ull << 20,
		.fsize_max = 0,
		.max_threads = 0,
		.extra_syscalls = NULL,
	};
	struct ctl_hdr ready = {CTL_READY, sizeof(ready), 0, 0};
	uint64_t hostile = 0;
	int ctl = -1, r;

	log_set_prog("v2e-dm");
	/* A peer that is gone (the block backend, a console's reader) is an
	 * error on the write that finds it, which the device handles, not
	 * the end of this process and of the guest's other devices. */
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ctl-fd") && i + 1 < argc)
			ctl = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--hostile") && i + 1 < argc)
			hostile = strtoull(argv[++i], NULL, 0);
		else
			return usage();
	}
	if (ctl < 0)
		return usage();
#ifndef V2E_TEST_DEVICES
	if (hostile) {
		log_error("--hostile exists only in test builds");
		return 2;
	}
#endif
	r = dm_setup(&dm, ctl);
	if (r < 0)
		return 1;
	dm.hostile_after = hostile;
	dm.rng = 0x9e3779b97f4a7c15ull ^ hostile;
	/* A device model writing a file (-serial file:) may not be held to
	 * RLIMIT_FSIZE 0. */
	if (sandbox_holds_writable_file() != 0)
		lock.fsize_max = SANDBOX_UNLIMITED;
	r = sandbox_lockdown(&lock);
	if (r < 0) {
		dm_fatal(&dm, "cannot enter the sandbox: %s", strerror(-r));
		_exit(1);
	}
	if (ctl_send(ctl, &ready, NULL, 0) < 0)
		_exit(1);
	r = dm_serve(&dm);
	dm_destroy(&dm);
	/* No exit handlers inside the sandbox: LeakSanitizer's check at exit
	 * (test builds) needs ptrace and /proc, which the filter forbids. */
	fflush(stderr);
	_exit(r);
}
