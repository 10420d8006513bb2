/* v2e-blk, the block backend: its state, shared by setup.c (the drives,
 * opened while the vmm still answers for backing files), serve.c (the
 * rings of the fronts) and main.c (the conversation and the loop). One
 * process serves every drive of a VM and every front connected to it. */
#ifndef V2E_BLKBACK_BLKBACK_H
#define V2E_BLKBACK_BLKBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkif/ctl.h"
#include "blkif/ring.h"
#include "block/block.h"
#include "lib/compiler.h"
#include "mem/guest_mem.h"

struct event_loop;

struct bb_drive {
	struct blk *blk;
	char id[CTL_NAME_LEN];
	char file[BLKCTL_PATH_LEN];
	uint64_t sectors;
	enum blkctl_cache cache;
	bool read_only;
	bool snapshot;
	bool probed_raw;	/* QEMU's restriction on block 0 applies */
	bool is_bdev;		/* discard needs ioctl(BLKDISCARD) */
	bool direct;		/* O_DIRECT (cache=none on raw) */
};

/* What O_DIRECT wants aligned (the raw format's RAW_ALIGN). */
#define BB_DIRECT_ALIGN 4096u

struct bb_front;

/* One request of a front, from its copy out of the ring to its response.
 * A read or write becomes up to BLKF_MAX_SEGS + 1 blk requests (one per
 * piece of memory, plus a private copy of sector 0 where the probed-raw
 * rule needs one), run concurrently on the pool. */
struct bb_req {
	struct bb_front *f;
	struct bb_drive *d;
	struct blkif_req rq;	/* the copy; the ring's slot is never reread */
	unsigned n_parts;
	unsigned next_part;	/* < n_parts: the parts run one at a time */
	unsigned parts_left;
	int status;
	bool flushing;		/* writethrough: the flush after the write */
	bool busy;
	uint8_t sector0[BLKF_SECTOR];
	struct blk_req part[BLKF_MAX_SEGS + 1];
	struct iovec iov[BLKF_MAX_SEGS + 1]; /* one vectored part's buffers */
};

struct bb_front {
	struct blkback *bb;
	struct blkif_shared *sh;
	uint8_t *bounce;
	int req_fd;		/* the request pipe's read end */
	int rsp_wfd;
	unsigned n_disks;
	struct bb_drive *disk[BLKF_MAX_DISKS];
	uint32_t req_cons;	/* private: the shared copies are only shown */
	uint32_t rsp_prod;
	unsigned in_flight;
	bool broken;		/* cut off: no more requests, no responses */
	bool taking;		/* inside front_take(): not freed under it */
	bool more;		/* requests left for bb_fronts_more() */
	struct bb_req req[BLKIF_RING_SLOTS];
};

struct blkback {
	int ctl;
	struct guest_mem gm;
	struct event_loop *loop;
	struct blk_aio *aio;
	unsigned n_drives;
	struct bb_drive drive[BLKCTL_MAX_DRIVES];
	struct bb_front *front[BLKCTL_MAX_FRONTS];
	bool locked;		/* after lockdown: no more backing files */
	bool stopping;		/* no more requests; exit once idle */
	bool shutdown_asked;	/* the vmm waits for SHUTDOWN's answer */
};

/* setup.c: the SETUP message, then one DRIVE; each answered. */
must_check int bb_setup(struct blkback *bb, struct blkctl_setup *m,
			const int *fds, unsigned n_fds);
must_check int bb_drive(struct blkback *bb, struct blkctl_drive *m,
			const int *fds, unsigned n_fds);
void bb_drives_close(struct blkback *bb);

/* serve.c */
/* A CONNECT: checks the ring and starts serving it; 0 or -errno with a
 * message in err. Takes the descriptors. */
must_check int bb_connect(struct blkback *bb, const struct blkctl_connect *m,
			  const int *fds, unsigned n_fds, char *err,
			  size_t errlen);
/* The event loop's poller: takes more from fronts that had a ring's
 * worth in one turn; how many fronts it served. */
int bb_fronts_more(void *opaque);
/* Stops taking requests from every front (shutdown). */
void bb_fronts_stop(struct blkback *bb);
void bb_fronts_free(struct blkback *bb);

#endif
