/* v2e-blk serving the fronts' rings (blkif/ring.h). Everything a front
 * writes is hostile input: a request is copied out of the ring and only
 * the copy is checked and used; a malformed one is answered with an
 * error and never reaches an image; indices that cannot be right cut the
 * front off. Data moves straight between the image and guest RAM (or
 * the front's bounce area): each segment is checked to lie in one piece
 * of either before anything moves. */
#include "blkback/blkback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/event_loop.h"
#include "lib/log.h"

static void front_free(struct bb_front *f)
{
	struct blkback *bb = f->bb;
	for (unsigned i = 0; i < BLKCTL_MAX_FRONTS; i++)
		if (bb->front[i] == f)
			bb->front[i] = NULL;
	if (f->req_fd >= 0) {
		event_loop_del_fd(bb->loop, f->req_fd);
		close(f->req_fd);
	}
	/* The front sees its response pipe hang up: its requests fail. */
	close(f->rsp_wfd);
	munmap(f->sh, BLKIF_SHARED_SIZE);
	free(f);
}

static unsigned front_number(const struct bb_front *f)
{
	for (unsigned i = 0; i < BLKCTL_MAX_FRONTS; i++)
		if (f->bb->front[i] == f)
			return i;
	return BLKCTL_MAX_FRONTS;
}

/* Cuts a front off: nothing more is taken from its ring, nothing more
 * is answered; requests already running finish (they may be moving data
 * into guest RAM), then its descriptors go. */
static void front_disconnect(struct bb_front *f, const char *why)
{
	if (f->broken)
		return;
	/* A front that closed its request pipe has ended (its device
	 * model exited or died, which the vmm reports): no warning. */
	if (why)
		log_warn("front %u: %s: disconnected", front_number(f), why);
	f->broken = true;
	f->more = false;
	event_loop_del_fd(f->bb->loop, f->req_fd);
	close(f->req_fd);
	f->req_fd = -1;
	if (!f->in_flight && !f->taking)
		front_free(f);
}

/* Only the statuses front.h promises go on the ring. */
static int ring_status(int r)
{
	switch (r) {
	case 0:
	case -EIO:
	case -ENOSPC:
	case -EROFS:
	case -EINVAL:
	case -EFAULT:
	case -EPERM:
		return r;
	case -EDQUOT:
	case -EFBIG:
		return -ENOSPC;
	}
	return -EIO;
}

static void request_done(struct bb_req *r, int status)
{
	struct bb_front *f = r->f;

	r->busy = false;
	f->in_flight--;
	if (f->broken) {
		if (!f->in_flight && !f->taking)
			front_free(f);
		return;
	}
	{
		struct blkif_rsp *rsp = &f->sh->rsp[f->rsp_prod % BLKIF_RING_SLOTS];
		char kick = 0;
		rsp->id = r->rq.id;
		rsp->status = ring_status(status);
		rsp->pad = 0;
		f->rsp_prod++;
		__atomic_store_n(&f->sh->rsp_prod, f->rsp_prod, __ATOMIC_RELEASE);
		/* EAGAIN: the pipe is full, so the front has a wake-up coming. */
		if (write(f->rsp_wfd, &kick, 1) < 0 && errno != EAGAIN)
			front_disconnect(f, "its response pipe is closed");
	}
}

static void part_done(struct blk_req *p, int ret)
{
	struct bb_req *r = p->opaque;

	if (ret < 0 && !r->status)
		r->status = ret;
	r->parts_left--;
	if (r->next_part < r->n_parts) {
		/* One at a time: the next, or none after an error. */
		if (!r->status) {
			blk_aio_submit(r->f->bb->aio, &r->part[r->next_part++]);
			return;
		}
		r->parts_left -= r->n_parts - r->next_part;
		r->next_part = r->n_parts;
	}
	if (r->parts_left)
		return;
	if (r->rq.op == BLKF_WRITE && !r->flushing && !r->status &&
	    r->d->cache == BLKCTL_CACHE_WRITETHROUGH && !r->d->snapshot) {
		struct blk_req *fl = &r->part[0];
		r->flushing = true;
		r->parts_left = 1;
		r->n_parts = r->next_part = 1;
		memset(fl, 0, sizeof(*fl));
		fl->blk = r->d->blk;
		fl->op = BLK_OP_FLUSH;
		fl->done = part_done;
		fl->opaque = r;
		blk_aio_submit(r->f->bb->aio, fl);
		return;
	}
	request_done(r, r->status);
}

/* Where a segment's bytes are in this process, or NULL. */
static uint8_t *seg_ptr(const struct bb_front *f, const struct blkf_seg *s)
{
	if (s->flags & BLKF_SEG_BOUNCE) {
		if (s->addr > BLKF_BOUNCE_BYTES || s->len > BLKF_BOUNCE_BYTES - s->addr)
			return NULL;
		return f->bounce + s->addr;
	}
	return guest_mem_ptr(&f->bb->gm, s->addr, s->len);
}

struct piece {
	uint8_t *p;
	uint64_t len;
};

/* QEMU's rule for an image whose format was probed as raw: the guest may
 * not write a first sector that would probe as another format, or the
 * next start would read the guest's data as the image's metadata. The
 * first sector is copied out of guest memory first, so what is checked
 * is what gets written. */
static int probed_raw_sector0(struct bb_req *r, struct piece *pc, unsigned *n)
{
	size_t got = 0;
	unsigned i = 0;

	while (got < BLKF_SECTOR && i < *n) {
		size_t take = BLKF_SECTOR - got;
		if (take > pc[i].len)
			take = (size_t)pc[i].len;
		memcpy(r->sector0 + got, pc[i].p, take);
		got += take;
		pc[i].p += take;
		pc[i].len -= take;
		if (!pc[i].len)
			i++;
	}
	if (r->sector0[0] == 'Q' && r->sector0[1] == 'F' &&
	    r->sector0[2] == 'I' && r->sector0[3] == 0xfb)
		return -EPERM;
	/* Drop the emptied pieces, put the private copy in front. */
	memmove(pc + 1, pc + i, (*n - i) * sizeof(*pc));
	*n = *n - i + 1;
	pc[0] = (struct piece){r->sector0, BLKF_SECTOR};
	return 0;
}

/* With O_DIRECT the raw format widens an unaligned piece to whole
 * blocks (read, modify, write): two pieces of one request sharing a
 * block must not run at once, so such a request runs piece by piece. */
static bool direct_aligned(uint64_t off, const struct piece *pc, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if ((off | pc[i].len | (uintptr_t)pc[i].p) & (BB_DIRECT_ALIGN - 1))
			return false;
		off += pc[i].len;
	}
	return true;
}

static void submit_parts(struct bb_req *r, enum blk_op op, uint64_t off,
			 const struct piece *pc, unsigned n)
{
	bool one_by_one = r->d->direct && !direct_aligned(off, pc, n);

	/* Scattered guest pages of one read or write: one vectored request,
	 * one system call (a 1 MiB write of 4 KiB pages was 256 pwrites
	 * queueing on the file), unless O_DIRECT needs them one by one. */
	if ((op == BLK_OP_READ || op == BLK_OP_WRITE) && n > 1 && !one_by_one &&
	    n <= BLK_MAX_IOV) {
		struct blk_req *p = &r->part[0];
		uint64_t len = 0;
		for (unsigned i = 0; i < n; i++) {
			r->iov[i] = (struct iovec){pc[i].p, pc[i].len};
			len += pc[i].len;
		}
		memset(p, 0, sizeof(*p));
		p->blk = r->d->blk;
		p->op = op;
		p->offset = off;
		p->len = len;
		p->iov = r->iov;
		p->iovcnt = (int)n;
		p->done = part_done;
		p->opaque = r;
		r->parts_left = r->n_parts = r->next_part = 1;
		r->status = 0;
		blk_aio_submit(r->f->bb->aio, p);
		return;
	}

	r->parts_left = n;
	r->n_parts = n;
	r->next_part = one_by_one ? 1 : n;
	r->status = 0;
	for (unsigned i = 0; i < n; i++) {
		struct blk_req *p = &r->part[i];
		memset(p, 0, sizeof(*p));
		p->blk = r->d->blk;
		p->op = op;
		p->offset = off;
		p->len = pc[i].len;
		p->buf = pc[i].p;
		p->done = part_done;
		p->opaque = r;
		off += pc[i].len;
	}
	/* Completions run from the loop, never inside submit, so parts_left
	 * cannot reach zero early. */
	for (unsigned i = 0; i < r->next_part; i++)
		blk_aio_submit(r->f->bb->aio, &r->part[i]);
}

/* Returns 1 when the request is running, else its status at once. */
static int request_rw(struct bb_req *r)
{
	const struct blkif_req *q = &r->rq;
	struct bb_drive *d = r->d;
	struct piece pc[BLKF_MAX_SEGS + 1];
	bool wr = q->op == BLKF_WRITE;
	uint64_t total = 0;
	unsigned n = 0;

	if (q->nseg == 0 || q->nseg > BLKF_MAX_SEGS || q->nr_sectors == 0 ||
	    q->nr_sectors > BLKF_MAX_SECTORS || q->sector > d->sectors ||
	    q->nr_sectors > d->sectors - q->sector)
		return -EINVAL;
	for (unsigned i = 0; i < q->nseg; i++) {
		if (q->seg[i].len == 0 || (q->seg[i].flags & ~BLKF_SEG_BOUNCE))
			return -EINVAL;
		total += q->seg[i].len;
	}
	if (total != (uint64_t)q->nr_sectors * BLKF_SECTOR)
		return -EINVAL;
	if (wr && d->read_only)
		return -EROFS;
	for (unsigned i = 0; i < q->nseg; i++) {
		uint8_t *p = seg_ptr(r->f, &q->seg[i]);
		if (!p)
			return -EFAULT;
		/* Guest pages next to each other in RAM are one transfer. */
		if (n && pc[n - 1].p + pc[n - 1].len == p)
			pc[n - 1].len += q->seg[i].len;
		else
			pc[n++] = (struct piece){p, q->seg[i].len};
	}
	if (wr && d->probed_raw && q->sector == 0) {
		int e = probed_raw_sector0(r, pc, &n);
		if (e < 0)
			return e;
	}
	submit_parts(r, wr ? BLK_OP_WRITE : BLK_OP_READ,
		     q->sector * BLKF_SECTOR, pc, n);
	return 1;
}

static int request_start(struct bb_req *r)
{
	const struct blkif_req *q = &r->rq;
	struct bb_drive *d;
	struct piece none = {NULL, 0};

	if (q->disk >= r->f->n_disks)
		return -EINVAL;
	d = r->d = r->f->disk[q->disk];
	switch (q->op) {
	case BLKF_READ:
	case BLKF_WRITE:
		return request_rw(r);
	case BLKF_FLUSH:
		if (q->nseg || q->nr_sectors)
			return -EINVAL;
		/* Nothing to make stable: read-only, or cache=unsafe, or a
		 * -snapshot overlay that is gone at exit anyway. */
		if (d->read_only || d->cache == BLKCTL_CACHE_UNSAFE || d->snapshot)
			return 0;
		submit_parts(r, BLK_OP_FLUSH, 0, &none, 1);
		return 1;
	case BLKF_DISCARD:
		if (q->nseg || q->nr_sectors == 0 || q->sector > d->sectors ||
		    q->nr_sectors > d->sectors - q->sector)
			return -EINVAL;
		if (d->read_only)
			return -EROFS;
		none.len = (uint64_t)q->nr_sectors * BLKF_SECTOR;
		submit_parts(r, BLK_OP_DISCARD, q->sector * BLKF_SECTOR, &none, 1);
		return 1;
	}
	return -EINVAL;
}

/* Takes what the front has queued, at most a ring's worth per call. */
static void front_take_some(struct bb_front *f)
{
	struct blkif_shared *sh = f->sh;

	for (unsigned budget = BLKIF_RING_SLOTS; !f->broken && !f->bb->stopping;) {
		uint32_t prod = __atomic_load_n(&sh->req_prod, __ATOMIC_ACQUIRE);
		uint32_t rsp_cons = __atomic_load_n(&sh->rsp_cons, __ATOMIC_ACQUIRE);
		struct bb_req *r = NULL;
		int st;

		if (prod - f->req_cons > BLKIF_RING_SLOTS) {
			front_disconnect(f, "its request index runs past the ring");
			return;
		}
		if (f->rsp_prod - rsp_cons > BLKIF_RING_SLOTS) {
			front_disconnect(f, "its response index is impossible");
			return;
		}
		if (prod == f->req_cons)
			return;
		/* Room for the response: the front must consume ours first. */
		if (f->req_cons - rsp_cons >= BLKIF_RING_SLOTS)
			return;
		if (!budget--) {
			/* More later, after the other fronts had their turn
			 * (bb_fronts_more()). */
			f->more = true;
			return;
		}
		for (unsigned i = 0; i < BLKIF_RING_SLOTS; i++) {
			if (!f->req[i].busy) {
				r = &f->req[i];
				break;
			}
		}
		if (!r) /* cannot happen with the index checks above */
			return;
		memcpy(&r->rq, &sh->req[f->req_cons % BLKIF_RING_SLOTS],
		       sizeof(r->rq));
		f->req_cons++;
		__atomic_store_n(&sh->req_cons, f->req_cons, __ATOMIC_RELEASE);
		r->busy = true;
		r->flushing = false;
		r->d = NULL;
		f->in_flight++;
		st = request_start(r);
		if (st <= 0)
			request_done(r, st);
	}
}

/* The front stays allocated while it is being read, even if a response
 * in between finds it gone and cuts it off. */
static void front_take(struct bb_front *f)
{
	f->taking = true;
	front_take_some(f);
	f->taking = false;
	if (f->broken && !f->in_flight)
		front_free(f);
}

static void front_kicked(void *opaque, uint32_t events)
{
	struct bb_front *f = opaque;
	bool ended = (events & (EPOLLHUP | EPOLLERR)) != 0;
	char buf[512];
	ssize_t n;

	/* Every kick is one byte; those already written are one wake-up.
	 * One read a turn: a front that keeps its pipe full (hostile) gets
	 * its turn again from the loop, after the others, rather than
	 * holding the backend in this loop. */
	do
		n = read(f->req_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		ended = true;
	if (ended) {
		front_disconnect(f, NULL); /* frees f unless requests run */
		return;
	}
	front_take(f);
}

int bb_fronts_more(void *opaque)
{
	struct blkback *bb = opaque;
	int took = 0;

	for (unsigned i = 0; i < BLKCTL_MAX_FRONTS; i++) {
		struct bb_front *f = bb->front[i];
		if (f && f->more) {
			f->more = false;
			front_take(f);
			took++;
		}
	}
	return took;
}

int bb_connect(struct blkback *bb, const struct blkctl_connect *m,
	       const int *fds, unsigned n_fds, char *err, size_t errlen)
{
	struct bb_front *f = NULL;
	unsigned slot = BLKCTL_MAX_FRONTS;
	struct blkif_shared *sh;
	int r;

	if (m->h.len != sizeof(*m) || n_fds != 3 || m->n_disks == 0 ||
	    m->n_disks > BLKF_MAX_DISKS) {
		r = err_say(err, errlen, -EPROTO, "a malformed CONNECT");
		goto fail;
	}
	for (unsigned i = 0; i < m->n_disks; i++) {
		if (m->drive[i] >= bb->n_drives) {
			r = err_say(err, errlen, -EINVAL,
				    "CONNECT names drive %u of %u", m->drive[i],
				    bb->n_drives);
			goto fail;
		}
	}
	for (unsigned i = 0; i < BLKCTL_MAX_FRONTS; i++) {
		if (!bb->front[i]) {
			slot = i;
			break;
		}
	}
	if (slot == BLKCTL_MAX_FRONTS) {
		r = err_say(err, errlen, -ENOSPC, "already %u fronts",
			    BLKCTL_MAX_FRONTS);
		goto fail;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		r = err_say(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	r = blkif_map(fds[0], &sh, err, errlen);
	if (r < 0)
		goto fail;
	f->bb = bb;
	f->sh = sh;
	f->bounce = (uint8_t *)sh + BLKIF_BOUNCE_OFFSET;
	f->req_fd = fds[1];
	f->rsp_wfd = fds[2];
	f->n_disks = m->n_disks;
	for (unsigned i = 0; i < m->n_disks; i++)
		f->disk[i] = &bb->drive[m->drive[i]];
	for (unsigned i = 0; i < BLKIF_RING_SLOTS; i++)
		f->req[i].f = f;
	r = event_loop_add_fd(bb->loop, f->req_fd, EPOLLIN, front_kicked, f);
	if (r < 0) {
		munmap(sh, BLKIF_SHARED_SIZE);
		r = err_say(err, errlen, r, "cannot watch the ring's request pipe");
		goto fail;
	}
	close(fds[0]);
	bb->front[slot] = f;
	/* Requests queued before we looked are taken now. */
	front_take(f);
	return 0;

fail:
	free(f);
	for (unsigned i = 0; i < n_fds; i++)
		close(fds[i]);
	return r;
}

void bb_fronts_stop(struct blkback *bb)
{
	bb->stopping = true;
}

void bb_fronts_free(struct blkback *bb)
{
	for (unsigned i = 0; i < BLKCTL_MAX_FRONTS; i++) {
		struct bb_front *f = bb->front[i];
		if (f)
			front_free(f);
	}
}
