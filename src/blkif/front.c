/* The real block front: a device model's end of a ring to v2e-blk
 * (front.h for the contract, ring.h for the ABI). Runs in the device
 * model's thread only; the backend is treated as untrusted: a response
 * it could not have sent, or its hang-up, fails everything in flight with
 * -EIO, and no wait outlasts BLKF_WAIT_TIMEOUT_MS. */
#include "blkif/front.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blkif/ring.h"
#include "lib/compiler.h"
#include "lib/log.h"

/* A request's handle (and its id on the wire): the tag (its slot in
 * `tag[]`) in the low bits, a sequence number above, so a handle whose
 * request has completed never names a later one. */
#define TAG_BITS 8
#define TAG_MASK ((1u << TAG_BITS) - 1)
_Static_assert(BLKIF_RING_SLOTS <= (1u << TAG_BITS), "tags fit the handle");

enum tag_state {
	TAG_FREE = 0,
	TAG_IN_FLIGHT,   /* on the ring, no response yet */
	TAG_DONE,        /* status known (-EIO from a dead backend), callback due */
	TAG_ABANDONED,   /* callback ran at a wait's timeout; response still due */
};

struct front_tag {
	int state;
	int handle;
	int status;
	blkf_done_fn *done;
	void *opaque;
};

struct ring_front {
	struct blk_front pub;
	struct blkif_shared *sh;
	uint8_t *bounce;
	int req_fd;            /* kick: front -> back, a pipe's write end */
	int rsp_fd;            /* kick: back -> front, a pipe's read end */
	unsigned n_disks;
	struct blkf_disk disk[BLKF_MAX_DISKS];
	uint32_t req_prod;     /* private copies of the indices we own */
	uint32_t rsp_cons;
	uint32_t seq;
	bool dead;             /* the backend hung up or misbehaved */
	bool in_poll;          /* callbacks are never re-entered */
	bool warned;
	struct front_tag tag[BLKIF_RING_SLOTS];
};

static struct ring_front *to_rf(struct blk_front *f)
{
	return (struct ring_front *)f;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void front_dies(struct ring_front *rf, const char *why)
{
	if (!rf->dead && !rf->warned) {
		log_error("block front: %s: its disks now fail with I/O errors",
			  why);
		rf->warned = true;
	}
	rf->dead = true;
}

/* Only statuses front.h promises reach a device; anything else a backend
 * says is an I/O error. */
static int sane_status(int32_t s)
{
	switch (s) {
	case 0:
	case -EIO:
	case -ENOSPC:
	case -EROFS:
	case -EINVAL:
	case -EFAULT:
	case -EPERM:
		return s;
	}
	return -EIO;
}

static bool segs_ok(const struct blkf_seg *seg, unsigned nseg,
		    uint32_t nr_sectors)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < nseg; i++) {
		if (seg[i].len == 0 || (seg[i].flags & ~BLKF_SEG_BOUNCE))
			return false;
		if ((seg[i].flags & BLKF_SEG_BOUNCE) &&
		    (seg[i].addr > BLKF_BOUNCE_BYTES ||
		     seg[i].len > BLKF_BOUNCE_BYTES - seg[i].addr))
			return false;
		total += seg[i].len;
	}
	return total == (uint64_t)nr_sectors * BLKF_SECTOR;
}

static int front_submit(struct blk_front *f, unsigned disk, enum blkf_op op,
			uint64_t sector, uint32_t nr_sectors,
			const struct blkf_seg *seg, unsigned nseg,
			blkf_done_fn *done, void *opaque)
{
	struct ring_front *rf = to_rf(f);
	struct front_tag *t = NULL;
	unsigned i;

	if (disk >= rf->n_disks || !done)
		return -EINVAL;
	switch (op) {
	case BLKF_READ:
	case BLKF_WRITE:
		if (nseg == 0 || nseg > BLKF_MAX_SEGS || !seg ||
		    nr_sectors == 0 || nr_sectors > BLKF_MAX_SECTORS ||
		    !segs_ok(seg, nseg, nr_sectors))
			return -EINVAL;
		break;
	case BLKF_FLUSH:
		if (nseg || nr_sectors)
			return -EINVAL;
		break;
	case BLKF_DISCARD:
		if (nseg || nr_sectors == 0)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (rf->req_prod - rf->rsp_cons >= BLKIF_RING_SLOTS && !rf->dead)
		return -EAGAIN;
	for (i = 0; i < BLKIF_RING_SLOTS; i++) {
		if (rf->tag[i].state == TAG_FREE) {
			t = &rf->tag[i];
			break;
		}
	}
	if (!t)
		return -EAGAIN;
	t->handle = (int)(((rf->seq++ & 0x7fffffu) << TAG_BITS) | i);
	t->done = done;
	t->opaque = opaque;
	if (rf->dead) {
		/* Completed at the next poll, never inside submit. */
		t->state = TAG_DONE;
		t->status = -EIO;
		return t->handle;
	}
	{
		struct blkif_req *r = &rf->sh->req[rf->req_prod % BLKIF_RING_SLOTS];
		char kick = 0;
		r->id = (uint64_t)t->handle;
		r->sector = sector;
		r->nr_sectors = nr_sectors;
		r->nseg = (uint16_t)nseg;
		r->op = (uint8_t)op;
		r->disk = (uint8_t)disk;
		memset(r->pad, 0, sizeof(r->pad));
		if (nseg)
			memcpy(r->seg, seg, nseg * sizeof(*seg));
		rf->req_prod++;
		__atomic_store_n(&rf->sh->req_prod, rf->req_prod,
				 __ATOMIC_RELEASE);
		/* EAGAIN: the pipe is full, so the backend has a wake-up
		 * coming. A pipe, not an eventfd: the kernel wakes a pipe's
		 * reader as a hand-over from the writer (a synchronous
		 * wake-up), so the backend tends to run on this CPU while the
		 * device model waits, not to preempt the vCPU on its own. */
		if (write(rf->req_fd, &kick, 1) < 0 && errno != EAGAIN)
			front_dies(rf, "cannot signal the block backend");
	}
	t->state = TAG_IN_FLIGHT;
	return t->handle;
}

/* Empties the response pipe; true when the backend's end is closed. */
static bool drain_kicks(struct ring_front *rf)
{
	char buf[64];
	for (;;) {
		ssize_t n = read(rf->rsp_fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n == 0)
			return true;
		if (errno == EINTR)
			continue;
		return errno != EAGAIN;
	}
}

/* Takes the responses on the ring; with run, runs their callbacks. */
static unsigned take_responses(struct ring_front *rf, bool run)
{
	uint32_t prod = __atomic_load_n(&rf->sh->rsp_prod, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	if (prod - rf->rsp_cons > rf->req_prod - rf->rsp_cons) {
		front_dies(rf, "the block backend's response index is impossible");
		return 0;
	}
	while (rf->rsp_cons != prod) {
		struct blkif_rsp rsp;
		struct front_tag *t;
		memcpy(&rsp, &rf->sh->rsp[rf->rsp_cons % BLKIF_RING_SLOTS],
		       sizeof(rsp));
		t = &rf->tag[rsp.id & TAG_MASK];
		if (rsp.id > 0x7fffffffu || (rsp.id & TAG_MASK) >= BLKIF_RING_SLOTS ||
		    t->handle != (int)rsp.id ||
		    (t->state != TAG_IN_FLIGHT && t->state != TAG_ABANDONED)) {
			front_dies(rf, "the block backend answered a request it was not sent");
			return n;
		}
		rf->rsp_cons++;
		__atomic_store_n(&rf->sh->rsp_cons, rf->rsp_cons,
				 __ATOMIC_RELEASE);
		if (t->state == TAG_ABANDONED || !run) {
			t->state = TAG_FREE;
			continue;
		}
		t->state = TAG_FREE;
		n++;
		t->done(t->opaque, sane_status(rsp.status));
	}
	return n;
}

/* A dead backend: every request in flight becomes -EIO, due at once. */
static void fail_in_flight(struct ring_front *rf)
{
	for (unsigned i = 0; i < BLKIF_RING_SLOTS; i++) {
		if (rf->tag[i].state == TAG_IN_FLIGHT) {
			rf->tag[i].state = TAG_DONE;
			rf->tag[i].status = -EIO;
		} else if (rf->tag[i].state == TAG_ABANDONED) {
			rf->tag[i].state = TAG_FREE;
		}
	}
}

static unsigned front_poll(struct blk_front *f)
{
	struct ring_front *rf = to_rf(f);
	unsigned n = 0;
	bool hung_up;

	if (rf->in_poll)
		return 0;
	rf->in_poll = true;
	hung_up = drain_kicks(rf);
	/* Responses posted before a hang-up are real: take them first. */
	if (!rf->dead)
		n += take_responses(rf, true);
	if (hung_up)
		front_dies(rf, "the block backend hung up");
	if (rf->dead)
		fail_in_flight(rf);
	for (unsigned i = 0; i < BLKIF_RING_SLOTS; i++) {
		struct front_tag *t = &rf->tag[i];
		if (t->state != TAG_DONE)
			continue;
		t->state = TAG_FREE;
		n++;
		t->done(t->opaque, t->status);
	}
	rf->in_poll = false;
	return n;
}

static struct front_tag *pending(struct ring_front *rf, int handle)
{
	unsigned tag;
	if (handle < 0)
		return NULL;
	tag = (unsigned)handle & TAG_MASK;
	if (tag >= BLKIF_RING_SLOTS || rf->tag[tag].handle != handle ||
	    (rf->tag[tag].state != TAG_IN_FLIGHT &&
	     rf->tag[tag].state != TAG_DONE))
		return NULL;
	return &rf->tag[tag];
}

static void front_wait(struct blk_front *f, int handle)
{
	struct ring_front *rf = to_rf(f);
	uint64_t deadline = mono_ms() + BLKF_WAIT_TIMEOUT_MS;
	struct front_tag *t;

	for (;;) {
		struct pollfd p = {rf->rsp_fd, POLLIN, 0};
		uint64_t now;
		front_poll(f);
		t = pending(rf, handle);
		if (!t)
			return;
		now = mono_ms();
		if (now >= deadline)
			break;
		if (t->state == TAG_DONE)
			continue;
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
	}
	/* The backend is slow beyond reason: the device gets its answer now;
	 * the tag stays taken until the late response, which is dropped. */
	log_error("block front: no answer from the block backend in %u ms: "
		  "the request fails with an I/O error", BLKF_WAIT_TIMEOUT_MS);
	t->state = t->state == TAG_DONE ? TAG_FREE : TAG_ABANDONED;
	t->done(t->opaque, -EIO);
}

static int front_fd(struct blk_front *f)
{
	return to_rf(f)->rsp_fd;
}

static int front_info(struct blk_front *f, unsigned disk,
		      struct blkf_disk *out)
{
	struct ring_front *rf = to_rf(f);
	if (disk >= rf->n_disks)
		return -ENOENT;
	*out = rf->disk[disk];
	return 0;
}

static uint8_t *front_bounce(struct blk_front *f)
{
	return to_rf(f)->bounce;
}

static bool any_in_flight(const struct ring_front *rf)
{
	for (unsigned i = 0; i < BLKIF_RING_SLOTS; i++)
		if (rf->tag[i].state == TAG_IN_FLIGHT ||
		    rf->tag[i].state == TAG_ABANDONED)
			return true;
	return false;
}

static void front_close(struct blk_front *f)
{
	struct ring_front *rf = to_rf(f);
	uint64_t deadline = mono_ms() + BLKF_WAIT_TIMEOUT_MS;

	/* The backend may still be moving data into guest RAM or the bounce
	 * area for these: wait, bounded, before the area goes away. */
	while (!rf->dead && any_in_flight(rf)) {
		struct pollfd p = {rf->rsp_fd, POLLIN, 0};
		uint64_t now = mono_ms();
		if (drain_kicks(rf))
			rf->dead = true;
		take_responses(rf, false);
		if (now >= deadline || rf->dead || !any_in_flight(rf))
			break;
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
	}
	munmap(rf->sh, BLKIF_SHARED_SIZE);
	close(rf->req_fd);
	close(rf->rsp_fd);
	free(rf);
}

static bool front_ready(struct blk_front *f)
{
	struct ring_front *rf = to_rf(f);
	return !rf->dead && !rf->in_poll &&
	       __atomic_load_n(&rf->sh->rsp_prod, __ATOMIC_ACQUIRE) != rf->rsp_cons;
}

static bool front_waiting(struct blk_front *f)
{
	struct ring_front *rf = to_rf(f);
	return !rf->dead && rf->rsp_cons != rf->req_prod;
}

static const struct blk_front_ops ring_front_ops = {
	.submit = front_submit,
	.poll = front_poll,
	.wait = front_wait,
	.fd = front_fd,
	.info = front_info,
	.bounce = front_bounce,
	.close = front_close,
	.ready = front_ready,
	.waiting = front_waiting,
};

int blkf_attach(const int *fds, unsigned n_fds, struct blk_front **out,
		char *err, size_t errlen)
{
	struct ring_front *rf = NULL;
	struct blkif_shared *sh;
	int r;

	if (n_fds != 3) {
		r = err_say(err, errlen, -EINVAL,
			    "a block front takes 3 descriptors, not %u", n_fds);
		goto fail;
	}
	rf = calloc(1, sizeof(*rf));
	if (!rf) {
		r = err_say(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	r = blkif_map(fds[0], &sh, err, errlen);
	if (r < 0)
		goto fail;
	rf->sh = sh;
	if (sh->magic != BLKIF_MAGIC || sh->abi_version != BLKIF_ABI_VERSION ||
	    sh->ring_slots != BLKIF_RING_SLOTS || sh->n_disks == 0 ||
	    sh->n_disks > BLKF_MAX_DISKS || sh->req_prod != 0 ||
	    sh->rsp_cons != 0) {
		r = err_say(err, errlen, -EPROTO,
			    "the block ring's header is not ABI %u or is in use",
			    BLKIF_ABI_VERSION);
		goto fail_map;
	}
	rf->n_disks = sh->n_disks;
	for (unsigned i = 0; i < rf->n_disks; i++) {
		struct blkf_disk *d = &rf->disk[i];
		d->sectors = sh->disk[i].sectors;
		d->read_only = sh->disk[i].read_only != 0;
		memcpy(d->serial, sh->disk[i].serial, sizeof(d->serial) - 1);
		d->serial[sizeof(d->serial) - 1] = 0;
	}
	rf->pub.ops = &ring_front_ops;
	rf->bounce = (uint8_t *)sh + BLKIF_BOUNCE_OFFSET;
	close(fds[0]);
	rf->req_fd = fds[1];
	rf->rsp_fd = fds[2];
	*out = &rf->pub;
	return 0;

fail_map:
	munmap(rf->sh, BLKIF_SHARED_SIZE);
fail:
	free(rf);
	for (unsigned i = 0; i < n_fds; i++)
		close(fds[i]);
	return r;
}
