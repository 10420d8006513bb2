/* Shared by the block-ring tests: a real v2e-blk (the one beside
 * tests/), guest RAM, synchronous requests through a front, and the
 * temporary folder and shell helpers of the block tests. */
#ifndef V2E_TESTS_BLKIF_HELPERS_H
#define V2E_TESTS_BLKIF_HELPERS_H

#include <signal.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>

#include "../block/helpers.h"
#include "blkif/front.h"
#include "blkif/ring.h"
#include "mem/guest_mem.h"
#include "vmm/blk_host.h"

#define TBI_RAM (8u << 20)

/* build/MODE/tests/X.t -> build/MODE/v2e-blk */
static inline const char *tbi_program(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	char *slash;
	if (n <= 0)
		return "v2e-blk";
	path[n] = 0;
	slash = strrchr(path, '/');
	if (slash) {
		*slash = 0;
		slash = strrchr(path, '/');
	}
	if (!slash)
		return "v2e-blk";
	strcpy(slash + 1, "v2e-blk");
	return path;
}

struct tbi_done {
	int status;
	int fired;
};

static inline void tbi_on_done(void *opaque, int status)
{
	struct tbi_done *d = opaque;
	d->status = status;
	d->fired++;
}

/* One request, waited for: its status, or submit's refusal; -999 when the
 * callback ran other than once. */
static inline int tbi_io(struct blk_front *f, unsigned disk, enum blkf_op op,
			 uint64_t sector, uint32_t n, const struct blkf_seg *seg,
			 unsigned nseg)
{
	struct tbi_done d = {0, 0};
	int h = blkf_submit(f, disk, op, sector, n, seg, nseg, tbi_on_done, &d);
	if (h < 0)
		return h;
	blkf_wait(f, h);
	return d.fired == 1 ? d.status : -999;
}

/* A front on drives[0..n). NULL on failure (with a diagnostic). */
static inline struct blk_front *tbi_front(struct blk_host *h,
					  const unsigned *drives, unsigned n)
{
	int fds[3];
	unsigned n_fds = 3;
	char err[512];
	struct blk_front *f;
	if (blk_host_connect(h, drives, n, fds, &n_fds, err, sizeof(err)) < 0) {
		tap_diag("connect: %s", err);
		return NULL;
	}
	if (blkf_attach(fds, n_fds, &f, err, sizeof(err)) < 0) {
		tap_diag("attach: %s", err);
		return NULL;
	}
	return f;
}

static inline struct blk_host *tbi_start(const struct blk_drive_spec *d,
					 unsigned n, const struct guest_mem *gm)
{
	struct blk_host *h;
	char err[512];
	/* This process plays a device model: a kick to a backend that has
	 * died must be EPIPE, as in v2e-dm, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (blk_host_start(&h, tbi_program(), d, n, gm, err, sizeof(err)) < 0) {
		tap_diag("start: %s", err);
		return NULL;
	}
	return h;
}

/* 1 if all of buf[0..len) is byte b. */
static inline int tbi_all(const uint8_t *buf, size_t len, uint8_t b)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != b)
			return 0;
	return 1;
}

#endif
