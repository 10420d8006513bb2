/* An in-memory block front (blkif/front.h) for device tests: disks are
 * byte arrays, guest RAM is a buffer the test owns, requests complete in
 * poll() (unless held) or wait(). Every segment is checked as the real
 * backend does: guest addresses inside the RAM buffer, bounce offsets
 * inside the bounce area, or the request fails with -EFAULT having moved
 * nothing; counts of each kind of segment tell the test which path a
 * device took. */
#ifndef V2E_TESTS_DEV_FAKEFRONT_H
#define V2E_TESTS_DEV_FAKEFRONT_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blkif/front.h"

#define FAKE_DISKS 4
#define FAKE_QUEUE 8

struct fake_req {
	bool used;
	unsigned disk;
	enum blkf_op op;
	uint64_t sector;
	uint32_t nsec;
	struct blkf_seg seg[BLKF_MAX_SEGS];
	unsigned nseg;
	blkf_done_fn *done;
	void *opaque;
};

struct fake_front {
	struct blk_front f; /* first: the ops find the fake */
	uint8_t *ram;
	uint64_t ram_size;
	uint8_t bounce[BLKF_BOUNCE_BYTES];
	struct {
		uint8_t *data;
		uint64_t sectors;
		bool read_only;
	} disk[FAKE_DISKS];
	struct fake_req q[FAKE_QUEUE];
	bool hold;          /* poll() completes nothing */
	unsigned submitted, guest_segs, bounce_segs, faults, waits;
};

static inline int fake_run(struct fake_front *ff, struct fake_req *rq)
{
	uint8_t *disk;
	uint64_t off, len = (uint64_t)rq->nsec * BLKF_SECTOR, done = 0;

	if (rq->disk >= FAKE_DISKS || !ff->disk[rq->disk].data ||
	    rq->sector > ff->disk[rq->disk].sectors ||
	    rq->nsec > ff->disk[rq->disk].sectors - rq->sector)
		return -EINVAL;
	if (rq->op == BLKF_WRITE && ff->disk[rq->disk].read_only)
		return -EROFS;
	for (unsigned i = 0; i < rq->nseg; i++) {
		const struct blkf_seg *s = &rq->seg[i];
		uint64_t limit = (s->flags & BLKF_SEG_BOUNCE) ? BLKF_BOUNCE_BYTES : ff->ram_size;
		if (!s->len || s->addr > limit || s->len > limit - s->addr) {
			ff->faults++;
			return -EFAULT;
		}
		done += s->len;
	}
	if (done != len)
		return -EINVAL;
	disk = ff->disk[rq->disk].data;
	off = rq->sector * BLKF_SECTOR;
	for (unsigned i = 0; i < rq->nseg; i++) {
		const struct blkf_seg *s = &rq->seg[i];
		uint8_t *mem = (s->flags & BLKF_SEG_BOUNCE) ? ff->bounce + s->addr : ff->ram + s->addr;
		if (rq->op == BLKF_READ)
			memcpy(mem, disk + off, s->len);
		else if (rq->op == BLKF_WRITE)
			memcpy(disk + off, mem, s->len);
		off += s->len;
	}
	return 0;
}

static inline void fake_complete(struct fake_front *ff, unsigned i)
{
	struct fake_req *rq = &ff->q[i];
	int status = fake_run(ff, rq);
	rq->used = false;
	rq->done(rq->opaque, status);
}

static inline int fake_submit(struct blk_front *f, unsigned disk, enum blkf_op op,
			      uint64_t sector, uint32_t nsec, const struct blkf_seg *seg,
			      unsigned nseg, blkf_done_fn *done, void *opaque)
{
	struct fake_front *ff = (struct fake_front *)f;
	if (nseg > BLKF_MAX_SEGS || !done)
		return -EINVAL;
	for (unsigned i = 0; i < FAKE_QUEUE; i++) {
		struct fake_req *rq = &ff->q[i];
		if (rq->used)
			continue;
		*rq = (struct fake_req){true, disk, op, sector, nsec, {{0}}, nseg, done, opaque};
		memcpy(rq->seg, seg, nseg * sizeof(*seg));
		for (unsigned k = 0; k < nseg; k++) {
			if (seg[k].flags & BLKF_SEG_BOUNCE)
				ff->bounce_segs++;
			else
				ff->guest_segs++;
		}
		ff->submitted++;
		return (int)i;
	}
	return -EAGAIN;
}

static inline unsigned fake_poll(struct blk_front *f)
{
	struct fake_front *ff = (struct fake_front *)f;
	unsigned n = 0;
	if (ff->hold)
		return 0;
	for (unsigned i = 0; i < FAKE_QUEUE; i++)
		if (ff->q[i].used) {
			fake_complete(ff, i);
			n++;
		}
	return n;
}

static inline void fake_wait(struct blk_front *f, int handle)
{
	struct fake_front *ff = (struct fake_front *)f;
	ff->waits++;
	if (handle >= 0 && handle < FAKE_QUEUE && ff->q[handle].used)
		fake_complete(ff, (unsigned)handle);
}

static inline int fake_fd(struct blk_front *f)
{
	return -1;
}

static inline int fake_info(struct blk_front *f, unsigned disk, struct blkf_disk *out)
{
	struct fake_front *ff = (struct fake_front *)f;
	if (disk >= FAKE_DISKS || !ff->disk[disk].data)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->sectors = ff->disk[disk].sectors;
	out->read_only = ff->disk[disk].read_only;
	return 0;
}

static inline uint8_t *fake_bounce(struct blk_front *f)
{
	return ((struct fake_front *)f)->bounce;
}

static inline void fake_close(struct blk_front *f)
{
}

static const struct blk_front_ops fake_front_ops = {
	fake_submit, fake_poll, fake_wait, fake_fd, fake_info, fake_bounce, fake_close,
};

/* A front over `ram`; add disks with fake_disk(). */
static inline void fake_front_init(struct fake_front *ff, uint8_t *ram, uint64_t ram_size)
{
	memset(ff, 0, sizeof(*ff));
	ff->f.ops = &fake_front_ops;
	ff->ram = ram;
	ff->ram_size = ram_size;
}

/* Disk i of `sectors`, each byte a function of its sector and offset. */
static inline uint8_t fake_pattern(uint64_t sector, unsigned i)
{
	return (uint8_t)(sector * 31 + i * 7 + (sector >> 8));
}

static inline void fake_disk(struct fake_front *ff, unsigned i, uint64_t sectors, bool ro)
{
	ff->disk[i].data = malloc(sectors * BLKF_SECTOR);
	if (!ff->disk[i].data)
		abort();
	for (uint64_t s = 0; s < sectors; s++)
		for (unsigned b = 0; b < BLKF_SECTOR; b++)
			ff->disk[i].data[s * BLKF_SECTOR + b] = fake_pattern(s, b);
	ff->disk[i].sectors = sectors;
	ff->disk[i].read_only = ro;
}

static inline void fake_front_free(struct fake_front *ff)
{
	for (unsigned i = 0; i < FAKE_DISKS; i++)
		free(ff->disk[i].data);
}

#endif
