/* v2e-blk: the block backend (Xen's blkback in a stub domain of its own).
 * The vmm starts it with sandbox_spawn(), hands it guest RAM and the
 * image descriptors over the control socket (blkif/ctl.h); it opens and
 * parses the images (asking the vmm for backing files), locks itself
 * down and then serves the rings device models are connected to
 * (blkif/ring.h) on a pool of worker threads. It holds the images and
 * nothing else: a device model can reach them only through requests a
 * guest could make anyway.
 *
 *   v2e-blk --ctl-fd N      (started by v2e, not by hand) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <fcntl.h>

#include "blkback/blkback.h"
#include "dm/sandbox/sandbox.h"
#include "lib/event_loop.h"
#include "lib/log.h"

#define BB_THREADS 4

union bb_msg {
	struct ctl_hdr h;
	struct blkctl_setup setup;
	struct blkctl_drive drive;
	struct blkctl_connect connect;
	struct ctl_text text;
};

static int send_text(int ctl, uint32_t type, int result, const char *text)
{
	struct ctl_text t = {{type, sizeof(t), result, 0}, ""};
	snprintf(t.text, sizeof(t.text), "%s", text);
	return ctl_send(ctl, &t, NULL, 0);
}

/* Setup: SETUP, the DRIVEs, then START. 0 at START, -errno otherwise
 * (the vmm has been told why). */
static int bb_configure(struct blkback *bb)
{
	for (;;) {
		union bb_msg m;
		int fds[2];
		unsigned n_fds;
		ssize_t n = ctl_recv(bb->ctl, &m, sizeof(m), fds, 2, &n_fds);
		int r = 0;

		if (n <= 0) {
			for (unsigned i = 0; i < (n < 0 ? 0 : n_fds); i++)
				close(fds[i]);
			return n < 0 ? (int)n : -EPIPE;
		}
		switch (m.h.type) {
		case BLKCTL_SETUP:
			r = bb_setup(bb, &m.setup, fds, n_fds);
			break;
		case BLKCTL_DRIVE:
			/* A drive that fails is the vmm's to report; the
			 * backend waits for the next message (SHUTDOWN). */
			(void)!bb_drive(bb, &m.drive, fds, n_fds);
			break;
		case BLKCTL_START:
			for (unsigned i = 0; i < n_fds; i++)
				close(fds[i]);
			return 0;
		case BLKCTL_SHUTDOWN:
			for (unsigned i = 0; i < n_fds; i++)
				close(fds[i]);
			bb_drives_close(bb);
			(void)!send_text(bb->ctl, BLKCTL_SHUTDOWN, 0, "");
			return -ECANCELED;
		default:
			for (unsigned i = 0; i < n_fds; i++)
				close(fds[i]);
			return -EPROTO;
		}
		if (r < 0 && m.h.type == BLKCTL_SETUP)
			return r;
	}
}

#ifdef V2E_TEST_DEVICES
/* Test builds: proves the sandbox holds by trying to open a path. The
 * filter kills the process; were it to survive, the vmm hears the
 * result. */
static void test_open(struct blkback *bb, struct ctl_text *t)
{
	int fd = open(ctl_text_str(t), O_RDONLY | O_CLOEXEC);
	(void)!send_text(bb->ctl, BLKCTL_TEST_OPEN, fd < 0 ? -errno : 0, "");
	if (fd >= 0)
		close(fd);
}
#endif

static void ctl_ready(void *opaque, uint32_t events)
{
	struct blkback *bb = opaque;
	union bb_msg m;
	int fds[3];
	unsigned n_fds;
	char err[200] = "";
	ssize_t n = ctl_recv(bb->ctl, &m, sizeof(m), fds, 3, &n_fds);
	int r;

	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n <= 0) {
		/* The vmm is gone: finish what runs, flush, leave. */
		event_loop_del_fd(bb->loop, bb->ctl);
		bb_fronts_stop(bb);
		return;
	}
	switch (m.h.type) {
	case BLKCTL_CONNECT:
		r = bb_connect(bb, &m.connect, fds, n_fds, err, sizeof(err));
		(void)!send_text(bb->ctl, BLKCTL_CONNECT_RESULT, r, err);
		return;
	case BLKCTL_SHUTDOWN:
		bb->shutdown_asked = true;
		bb_fronts_stop(bb);
		break;
#ifdef V2E_TEST_DEVICES
	case BLKCTL_TEST_OPEN:
		if (n == (ssize_t)sizeof(m.text))
			test_open(bb, &m.text);
		else
			(void)!send_text(bb->ctl, m.h.type, -EPROTO, "malformed");
		break;
#endif
	default:
		(void)!send_text(bb->ctl, m.h.type, -EPROTO, "unknown message");
		break;
	}
	for (unsigned i = 0; i < n_fds; i++)
		close(fds[i]);
}

static int any_block_device(const struct blkback *bb)
{
	for (unsigned i = 0; i < bb->n_drives; i++)
		if (bb->drive[i].is_bdev)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct blkback bb;
	/* eventfd2: the worker pool's completion eventfd, made after
	 * lockdown since its threads must start after it; fcntl: the seal
	 * check on each ring that arrives. */
	static const char *const extra[] = {"eventfd2", "fcntl", NULL};
	static const char *const extra_bdev[] = {"eventfd2", "fcntl", "ioctl", NULL};
	struct sandbox_lockdown_args lock = {
		.fd_margin = BLKCTL_MAX_FRONTS * 3 + 8,
		.mem_headroom = 1ull << 30,
		.fsize_max = SANDBOX_UNLIMITED,	/* it writes images */
		.max_threads = BB_THREADS,
		.extra_syscalls = extra,
	};
	int r;

	log_set_prog("v2e-blk");
	bb.ctl = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ctl-fd") && i + 1 < argc)
			bb.ctl = atoi(argv[++i]);
		else
			bb.ctl = -1, i = argc;
	}
	if (bb.ctl < 0) {
		fprintf(stderr, "usage: v2e-blk --ctl-fd N (started by v2e, not by hand)\n");
		return 2;
	}
	/* A front that went away must be an EPIPE, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (event_loop_new(&bb.loop) < 0) {
		log_error("cannot create the event loop");
		return 1;
	}
	r = bb_configure(&bb);
	if (r < 0)
		_exit(r == -ECANCELED ? 0 : 1);
	/* Raw images on block devices discard with ioctl(BLKDISCARD). */
	if (any_block_device(&bb))
		lock.extra_syscalls = extra_bdev;
	bb.locked = true;
	r = sandbox_lockdown(&lock);
	if (r < 0) {
		(void)!send_text(bb.ctl, BLKCTL_READY, r,
				 "v2e-blk cannot enter its sandbox");
		_exit(1);
	}
	r = blk_aio_new(bb.loop, BB_THREADS, &bb.aio);
	if (r == 0)
		r = event_loop_add_poller(bb.loop, bb_fronts_more, &bb);
	if (r == 0)
		r = event_loop_add_fd(bb.loop, bb.ctl, EPOLLIN, ctl_ready, &bb);
	if (send_text(bb.ctl, BLKCTL_READY, r,
		      r < 0 ? "v2e-blk cannot start its worker threads" : "") < 0 ||
	    r < 0)
		_exit(1);

	while (!bb.stopping || blk_aio_in_flight(bb.aio)) {
		r = event_loop_run_once(bb.loop, -1);
		if (r < 0) {
			log_error("event loop: %s", strerror(-r));
			break;
		}
	}
	blk_aio_free(bb.aio);
	bb_fronts_free(&bb);
	bb_drives_close(&bb);
	if (bb.shutdown_asked)
		(void)!send_text(bb.ctl, BLKCTL_SHUTDOWN, 0, "");
	/* No exit handlers inside the sandbox: LeakSanitizer's check at exit
	 * (test builds) needs ptrace and /proc, which the filter forbids. */
	fflush(stderr);
	_exit(0);
}
