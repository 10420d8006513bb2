/* A device model's view of the block backend (the "front end" in Xen's
 * words). The disk image files live in a separate sandboxed process,
 * v2e-blk; a device that emulates a disk controller (IDE, floppy, later
 * virtio-blk) never sees a file: it sends requests for guest-visible
 * sectors of the disks it was connected to, and the backend moves the
 * data straight between the image and guest RAM (or the front's shared
 * bounce area, for PIO). A device taken over by the guest can ask only
 * for what the guest could ask for anyway.
 *
 * The front is a small table of operations so a device's unit tests can
 * run on an in-memory fake; the real one (front.c) is a shared ring with
 * an event channel each way (blkif/ring.h), attached from the
 * descriptors the vmm handed the device (dev_ctx.fds).
 *
 * A dead or misbehaving backend. The real front completes everything in
 * flight with -EIO when the backend hangs up or answers nonsense, and
 * every later request too; blkf_wait() gives up after BLKF_WAIT_TIMEOUT_MS
 * and completes the request with -EIO (a late answer is then dropped).
 *
 * Completions. Callbacks run only inside blkf_poll() and blkf_wait(),
 * in the caller's thread, never re-entered. A device calls blkf_poll()
 * when blkf_fd() is readable (its kind's input/input_fd) and may call
 * blkf_wait() where it must have the result now.
 *
 * Determinism (-icount). With a deterministic clock a completion must
 * reach the guest at a virtual time that does not depend on the host: a
 * device then arms a virtual timer when it submits (the latency it
 * models) and, when the timer fires, calls blkf_wait() for the request
 * before it raises its interrupt. With the real-time clock it raises the
 * interrupt from the callback, as soon as the data is there.
 *
 * Errors are 0 or -errno. */
#ifndef V2E_BLKIF_FRONT_H
#define V2E_BLKIF_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLKF_SECTOR 512u
#define BLKF_MAX_SEGS 128u     /* segments in one request: a PIIX PRD table's
                                * most as Linux fills it (LIBATA_MAX_PRD) */
#define BLKF_MAX_DISKS 8u      /* disks one front serves */
#define BLKF_BOUNCE_BYTES (256u << 10)
#define BLKF_MAX_SECTORS 65536u /* in one read or write: an ATA LBA48 command's most */
#define BLKF_WAIT_TIMEOUT_MS 30000u

enum blkf_op {
	BLKF_READ = 0,    /* image -> segments */
	BLKF_WRITE = 1,   /* segments -> image */
	BLKF_FLUSH = 2,   /* no sectors, no segments: earlier writes are stable */
	BLKF_DISCARD = 3, /* sectors, no segments: the guest no longer needs them */
};

/* One piece of a transfer, in order; the lengths add up to
 * nr_sectors * BLKF_SECTOR. BLKF_SEG_BOUNCE: `addr` is an offset into the
 * front's bounce area (blkf_bounce()), else a guest-physical address that
 * must lie in guest RAM (the backend checks; a bad one fails the request
 * with -EFAULT and moves nothing). */
#define BLKF_SEG_BOUNCE 0x1u
struct blkf_seg {
	uint64_t addr;
	uint32_t len;     /* > 0 */
	uint32_t flags;
};

struct blkf_disk {
	uint64_t sectors;  /* guest-visible size in 512-byte sectors */
	bool read_only;
	char serial[21];   /* a stable id for IDENTIFY, NUL-terminated */
};

/* Status: 0, -EIO (the image failed, or the backend is gone), -ENOSPC,
 * -EROFS (a write to a read-only disk), -EINVAL (out of range,
 * malformed), -EFAULT (a segment outside guest RAM or the bounce area),
 * -EPERM (a write that would make an image whose format was probed as
 * raw look like another format: QEMU's restriction on block 0). */
typedef void blkf_done_fn(void *opaque, int status);

struct blk_front;

struct blk_front_ops {
	/* Queues one request on disk `disk`; returns a handle >= 0 for
	 * blkf_wait(), -EAGAIN when the ring is full (retry after a
	 * completion), or -EINVAL for a request malformed on its face
	 * (nothing queued, no callback). The sector range and the segment
	 * addresses are the backend's to check: their errors come as the
	 * callback's status. */
	int (*submit)(struct blk_front *f, unsigned disk, enum blkf_op op,
		      uint64_t sector, uint32_t nr_sectors,
		      const struct blkf_seg *seg, unsigned nseg,
		      blkf_done_fn *done, void *opaque);
	/* Runs the callbacks of completed requests; how many it ran. */
	unsigned (*poll)(struct blk_front *f);
	/* Blocks until request `handle` has completed, running its callback
	 * (and any other completed ones); at most BLKF_WAIT_TIMEOUT_MS. Not
	 * from inside a callback. */
	void (*wait)(struct blk_front *f, int handle);
	/* Readable when completions are waiting; -1 for a front that
	 * completes only in poll/wait. */
	int (*fd)(struct blk_front *f);
	/* 0 and *out, or -ENOENT for a disk index this front does not have. */
	int (*info)(struct blk_front *f, unsigned disk, struct blkf_disk *out);
	/* The shared bounce area, BLKF_BOUNCE_BYTES long. */
	uint8_t *(*bounce)(struct blk_front *f);
	/* Waits for requests in flight (running no callbacks), frees f. */
	void (*close)(struct blk_front *f);
	/* Optional: whether completions wait, from a look at shared memory
	 * (no system call), for a caller that spins instead of sleeping on
	 * fd(). */
	bool (*ready)(struct blk_front *f);
	/* Optional: whether requests are in flight whose completions have
	 * not run yet, from the front's own memory: the caller will hear of
	 * them on fd(), so it may sleep there rather than spin. */
	bool (*waiting)(struct blk_front *f);
};

struct blk_front {
	const struct blk_front_ops *ops;
};

static inline int blkf_submit(struct blk_front *f, unsigned disk,
			      enum blkf_op op, uint64_t sector,
			      uint32_t nr_sectors, const struct blkf_seg *seg,
			      unsigned nseg, blkf_done_fn *done, void *opaque)
{
	return f->ops->submit(f, disk, op, sector, nr_sectors, seg, nseg, done,
			      opaque);
}

static inline unsigned blkf_poll(struct blk_front *f)
{
	return f->ops->poll(f);
}

static inline void blkf_wait(struct blk_front *f, int handle)
{
	f->ops->wait(f, handle);
}

static inline int blkf_fd(struct blk_front *f)
{
	return f->ops->fd(f);
}

static inline int blkf_info(struct blk_front *f, unsigned disk,
			    struct blkf_disk *out)
{
	return f->ops->info(f, disk, out);
}

static inline bool blkf_ready(struct blk_front *f)
{
	return f->ops->ready && f->ops->ready(f);
}

static inline bool blkf_waiting(struct blk_front *f)
{
	return f->ops->waiting && f->ops->waiting(f);
}

static inline uint8_t *blkf_bounce(struct blk_front *f)
{
	return f->ops->bounce(f);
}

static inline void blkf_close(struct blk_front *f)
{
	f->ops->close(f);
}

/* The real front: attaches to the ring whose descriptors the vmm handed
 * a device (blk_host_connect(): the ring's memfd, the request pipe's
 * write end, the response pipe's read end, in that order). Takes the
 * descriptors, also on failure. Call it before sandbox_lockdown() (it
 * maps the ring and checks its seals). The process must ignore SIGPIPE:
 * a kick to a backend that died is then an error the front turns into
 * -EIO. */
int blkf_attach(const int *fds, unsigned n_fds, struct blk_front **out,
		char *err, size_t errlen);

#endif
