/* The vmm's side of a device model (see dm_link.h). */
#include "vmm/dm_link.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

/* How long the vmm spins for an answer before it sleeps. */
#define DM_LINK_SPIN_NS 20000u
/* Setup messages: a dm that says nothing for this long is dead. */
#define DM_LINK_SETUP_MS 10000

/* ---- failure ---- */

/* The FATAL text a dm may have left on its control socket. */
static void fatal_text(struct dm_link *l, char *buf, size_t n)
{
	struct ctl_text m;
	int fds[CTL_MAX_FDS];
	unsigned nfd;
	struct pollfd p = {l->ctl, POLLIN, 0};

	buf[0] = 0;
	while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		ssize_t r = ctl_recv(l->ctl, &m, sizeof(m), fds, CTL_MAX_FDS, &nfd);
		for (unsigned i = 0; i < nfd; i++)
			close(fds[i]);
		if (r <= 0)
			break;
		if (m.h.type == CTL_FATAL && r == sizeof(m))
			snprintf(buf, n, "; it said: %s", ctl_text_str(&m));
	}
}

/* Cuts the dm off for good and tells the host once. */
static void link_fail(struct dm_link *l, const char *what)
{
	char said[300], died[128] = "", why[768];
	int status;

	if (l->failed)
		return;
	l->failed = true;
	said[0] = 0;
	if (!l->inprocess) {
		fatal_text(l, said, sizeof(said));
		if (l->child.pid > 0) {
			/* Give a dying dm a moment to finish dying, so its
			 * cause of death can be reported; then make sure. */
			int r = 0;
			for (int i = 0; i < 50 && (r = sandbox_reap(&l->child, &status, false)) == 0; i++)
				nanosleep(&(struct timespec){0, 2000000}, NULL);
			if (r == 0) {
				sandbox_kill(&l->child);
				r = sandbox_reap(&l->child, &status, true);
				if (r == 1)
					snprintf(died, sizeof(died), "; stopped by v2e");
			} else if (r == 1) {
				char how[96];
				sandbox_describe_status(status, how, sizeof(how));
				snprintf(died, sizeof(died), "; its process: %s", how);
			}
		}
		vtimer_cancel(l->host->clock, &l->deadline);
		/* Nothing drains the ring from now on. */
		if (l->chan.sh)
			ioreq_vmm_doorbell_ack(&l->chan);
	}
	snprintf(why, sizeof(why), "device model %s failed: %s%s%s", l->name, what,
		 died, said);
	l->host->failed(l->host->opaque, why);
}

/* ---- events ---- */

static void window_event(struct dm_link *l, const struct ioreq_event *e);

static void apply_event(struct dm_link *l, const struct ioreq_event *e)
{
	const struct dm_link_host *h = l->host;
	char why[96];

	switch (e->type) {
	case IOREQ_EV_LINE:
		if (e->a >= IOREQ_LINE_COUNT || e->b > 1) {
			link_fail(l, "an event for an impossible line");
			return;
		}
		h->set_line(h->opaque, (unsigned)e->a, e->b);
		return;
	case IOREQ_EV_DIRTY:
		if (!guest_mem_ptr(h->gm, e->a, e->b)) {
			link_fail(l, "it claims to have written memory outside guest RAM");
			return;
		}
		h->dirty(h->opaque, e->a, e->b);
		return;
	case IOREQ_EV_EXIT:
		if (e->a > 0xff || (e->b != 1 && e->b != 2)) {
			link_fail(l, "an impossible exit request");
			return;
		}
		if (e->b == 1)
			snprintf(why, sizeof(why), "isa-debug-exit: guest wrote %#llx",
				 (unsigned long long)(e->a >> 1));
		else
			snprintf(why, sizeof(why), "QEMU: Terminated (Ctrl-A X)");
		h->exit(h->opaque, (int)e->a, why);
		return;
	case IOREQ_EV_RESET:
		h->reset(h->opaque);
		return;
	case IOREQ_EV_MSI:
		/* The message is a write to the local APICs' window. */
		if (!h->msi || (e->a >> 20) != 0xfee || e->b > 0xffffffffull) {
			link_fail(l, "an impossible MSI message");
			return;
		}
		h->msi(h->opaque, e->a, (uint32_t)e->b);
		return;
	case IOREQ_EV_WINDOW:
		window_event(l, e);
		return;
	default:
		link_fail(l, "an event of an unknown type");
	}
}

static void drain(void *opaque)
{
	struct dm_link *l = opaque;
	struct ioreq_event e;
	int r;

	ioreq_vmm_doorbell_ack(&l->chan);
	while (!l->failed && (r = ioreq_vmm_next_event(&l->chan, &e)) != 0) {
		if (r < 0) {
			link_fail(l, "its event ring index is impossible");
			return;
		}
		apply_event(l, &e);
	}
}

/* The dm's next timer becomes a TIMER request on the vmm's clock. */
static void update_deadline(struct dm_link *l)
{
	uint64_t d = __atomic_load_n(&l->chan.sh->dm_deadline_ns, __ATOMIC_ACQUIRE);
	uint64_t now = vclock_now(l->host->clock);

	if (l->failed || d == l->deadline_at)
		return;
	l->deadline_at = d;
	if (d == IOREQ_NEVER) {
		vtimer_cancel(l->host->clock, &l->deadline);
		return;
	}
	/* A deadline in the past (or a dm that keeps asking for "now") is
	 * served a microsecond on: it cannot hold the clock still. */
	if (d < now + 1000)
		d = now + 1000;
	vtimer_arm(l->host->clock, &l->deadline, d);
}

static bool call(struct dm_link *l, struct ioreq *q)
{
	char err[256];
	struct ioreq_wait w = {l->timeout_ns, DM_LINK_SPIN_NS, l->ctl, drain, l,
			       err, sizeof(err)};
	int r;

	if (l->failed)
		return false;
	q->now_ns = vclock_now(l->host->clock);
	r = ioreq_vmm_call(&l->chan, 0, q, &w);
	l->requests++;
	if (r < 0) {
		link_fail(l, err);
		return false;
	}
	drain(l);
	update_deadline(l);
	return !l->failed;
}

static void deadline_fire(void *opaque)
{
	struct dm_link *l = opaque;
	struct ioreq q = {.type = IOREQ_TYPE_TIMER, .size = 1, .count = 1,
			  .dir = IOREQ_DIR_WRITE};
	l->deadline_at = IOREQ_NEVER;
	call(l, &q);
}

/* ---- forwarded windows ---- */

/* The most queued writes published() looks through before it asks. */
#define DM_LINK_QUIET_SCAN 16

/* A byte the dm published, read while buffered writes are still on their
 * way: only if each is quiet by the rules of the same publication (a
 * sequence lock against the dm rewriting them) and none is to this port. */
static bool published_past_writes(struct dm_link *l, unsigned id, unsigned off, uint64_t *v)
{
	const struct ioreq_shared *sh = l->chan.sh;
	uint32_t seq = __atomic_load_n(&sh->pub_seq, __ATOMIC_ACQUIRE);
	uint32_t rd = __atomic_load_n(&sh->buf.read_idx, __ATOMIC_ACQUIRE), e;

	if ((seq & 1) || l->chan.buf_write - rd > DM_LINK_QUIET_SCAN)
		return false;
	for (uint32_t i = rd; i != l->chan.buf_write; i++) {
		const struct dm_queued *q = &l->queued[i % IOREQ_BUF_SLOTS];
		if (q->id >= IOREQ_PUB_WINDOWS)
			return false;
		for (unsigned k = 0; k < q->size; k++) {
			unsigned o = q->off + k;
			uint8_t b = (uint8_t)(q->value >> (8 * k));
			if (o >= IOREQ_PUB_PORTS || (q->id == id && o == off))
				return false;
			e = __atomic_load_n(&sh->pub[q->id][o], __ATOMIC_RELAXED);
			if (!(e & IOREQ_PUB_QUIET) || (b & IOREQ_PUB_QMASK(e)) != IOREQ_PUB_QVALUE(e))
				return false;
		}
	}
	e = __atomic_load_n(&sh->pub[id][off], __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&sh->pub_seq, __ATOMIC_RELAXED) != seq || !(e & IOREQ_PUB_VALID))
		return false;
	*v = e & 0xff;
	return true;
}

/* A byte read the dm has published (ioreq.h, "Published reads"): while
 * none of its timers is due, and the buffered writes it has not served
 * yet are quiet for this port, so that the byte is what a request would
 * find. */
static bool published(struct dm_claim *c, uint64_t off, uint64_t *v)
{
	struct dm_link *l = c->link;
	unsigned id = (unsigned)(c - l->claim);
	const struct ioreq_shared *sh = l->chan.sh;
	uint32_t e;

	if (c->type != IOREQ_TYPE_PIO || id >= IOREQ_PUB_WINDOWS || off >= IOREQ_PUB_PORTS ||
	    l->failed ||
	    vclock_now(l->host->clock) >= __atomic_load_n(&sh->dm_deadline_ns, __ATOMIC_ACQUIRE))
		return false;
	if (ioreq_vmm_buffered_pending(&l->chan))
		return published_past_writes(l, id, (unsigned)off, v);
	e = __atomic_load_n(&sh->pub[id][off], __ATOMIC_ACQUIRE);
	if (!(e & IOREQ_PUB_VALID))
		return false;
	*v = e & 0xff;
	return true;
}

static uint64_t fwd_read(void *opaque, uint64_t off, unsigned size)
{
	struct dm_claim *c = opaque;
	struct ioreq q = {.addr = c->reg->d.base + off, .size = (uint8_t)size, .count = 1,
			  .dir = IOREQ_DIR_READ, .type = c->type};
	uint64_t v;

	if (size == 1 && published(c, off, &v))
		return v;
	if (!call(c->link, &q))
		return ~0ull;
	return q.data;
}

static void fwd_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct dm_claim *c = opaque;
	struct dm_link *l = c->link;
	struct ioreq q = {.addr = c->reg->d.base + off, .data = v, .size = (uint8_t)size,
			  .count = 1, .dir = IOREQ_DIR_WRITE, .type = c->type};

	if (l->failed)
		return;
	if (c->buffered) {
		char err[256];
		struct ioreq_wait w = {l->timeout_ns, DM_LINK_SPIN_NS, l->ctl, drain, l,
				       err, sizeof(err)};
		struct ioreq_buffered b = {c->reg->d.base + off, v, vclock_now(l->host->clock),
					   (uint8_t)size, c->type, {0}};
		unsigned id = (unsigned)(c - l->claim);
		bool pub = c->type == IOREQ_TYPE_PIO && id < IOREQ_PUB_WINDOWS &&
			   off < IOREQ_PUB_PORTS && size <= 4;
		l->queued[l->chan.buf_write % IOREQ_BUF_SLOTS] = (struct dm_queued){
			pub ? (uint8_t)id : IOREQ_PUB_WINDOWS, (uint8_t)off, (uint8_t)size,
			(uint32_t)v};
		if (ioreq_vmm_buffered(&l->chan, &b, &w) < 0)
			link_fail(l, err);
		return;
	}
	call(l, &q);
}

/* The vmm does not split what it forwards: the dm's own port space
 * applies each device's access sizes. */
static uint32_t fwd_string(void *opaque, uint64_t off, unsigned size, bool in,
			   uint64_t gpa, uint32_t count, bool down)
{
	struct dm_claim *c = opaque;
	return dm_link_pio_string(c->link, (uint16_t)(c->reg->d.base + off), size, in, gpa,
				  count, down);
}

static const struct io_ops fwd_pio_ops = {
	.read = fwd_read,
	.write = fwd_write,
	.valid_sizes = IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	.impl_sizes = IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	.string = fwd_string,
};
static const struct io_ops fwd_mmio_ops = {
	fwd_read, fwd_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4 | IO_SIZE_8,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4 | IO_SIZE_8,
};

/* A config cycle to one of the dm's slots: off = function << 8 |
 * register, as pci_bus calls it. */
static uint64_t fwd_pci_read(void *opaque, uint64_t off, unsigned size)
{
	struct dm_pci_claim *p = opaque;
	struct ioreq q = {.addr = IOREQ_PCI_ADDR(0, p->slot, off >> 8, off & 0xff),
			  .size = (uint8_t)size, .count = 1, .dir = IOREQ_DIR_READ,
			  .type = IOREQ_TYPE_PCI_CONFIG};
	if (!call(p->link, &q))
		return ~0ull;
	return q.data;
}

static void fwd_pci_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct dm_pci_claim *p = opaque;
	struct ioreq q = {.addr = IOREQ_PCI_ADDR(0, p->slot, off >> 8, off & 0xff),
			  .data = v, .size = (uint8_t)size, .count = 1,
			  .dir = IOREQ_DIR_WRITE, .type = IOREQ_TYPE_PCI_CONFIG};
	call(p->link, &q);
}

static const struct io_ops fwd_pci_ops = {
	fwd_pci_read, fwd_pci_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* A dm's claim of PCI functions devfn .. devfn + len - 1 on bus 0: free
 * (not the chipset's, not another dm's). Their config cycles go to `ops`
 * in process, else are forwarded. 0 or -errno with err saying why. */
static int pci_claim(struct dm_link *l, uint64_t devfn, uint64_t len,
		     const struct io_ops *ops, void *dev, const char *name, char *err,
		     size_t n)
{
	struct pci_bus *bus = l->host->pci;
	struct dm_pci_claim *p;
	const char *owner;

	if (!bus)
		return err_say(err, n, -ENOTSUP, "claim %s: this board has no PCI bus", name);
	if (devfn >= PCI_SLOTS * PCI_FNS || len < 1 || (devfn & 7) + len > PCI_FNS)
		return err_say(err, n, -EINVAL, "claim %s: PCI %02llx.%llu+%llu is impossible",
			    name, (unsigned long long)(devfn >> 3),
			    (unsigned long long)(devfn & 7), (unsigned long long)len);
	if ((owner = pci_bus_owner(bus, (unsigned)devfn, (unsigned)len)))
		return err_say(err, n, -EBUSY, "%s of %s claims PCI %02llx.%llu, which is %s's",
			    name, l->name, (unsigned long long)(devfn >> 3),
			    (unsigned long long)(devfn & 7), owner);
	p = &l->pci[devfn];
	*p = (struct dm_pci_claim){l, (uint8_t)(devfn >> 3), (uint8_t)len, {0}};
	ctl_set_name(p->name, name);
	return pci_bus_claim(bus, (unsigned)devfn, (unsigned)len,
			     ops ? ops : &fwd_pci_ops, ops ? dev : p, p->name);
}

static struct region_map *space_map(struct dm_link *l, unsigned space)
{
	return space == CTL_SPACE_PIO ? l->host->ports : l->host->mem;
}

/* Whether [base, base + len) can be a window of `space` at all. */
static bool window_range_ok(unsigned space, uint64_t base, uint64_t len)
{
	return len != 0 && base + len > base &&
	       (space != CTL_SPACE_PIO || base + len <= 0x10000);
}

/* Window number `id` of the dm enters the vmm's space: forwarded to the
 * dm, or in process the device's own ops. */
static int add_window(struct dm_link *l, unsigned id, unsigned space, uint64_t base,
		      uint64_t len, unsigned flags, const struct io_ops *ops, void *dev)
{
	const struct dm_link_host *h = l->host;
	struct dm_claim *c = &l->claim[id];
	struct region_desc d = {.name = c->name, .kind = REGION_IO, .base = base,
				.size = len, .enabled = true, .owner = l};
	bool vram = flags & CTL_CLAIM_VRAM;
	int r;

	/* VRAM is the board's memory, never the dm's to forward: the guest's
	 * framebuffer stores go straight to it, logged for the display. */
	if (vram && (space != CTL_SPACE_MMIO || !h->vram || len != h->vram_size ||
		     *h->vram_region))
		return -EINVAL;
	c->link = l;
	c->space = (uint8_t)space;
	c->type = space == CTL_SPACE_PIO ? IOREQ_TYPE_PIO : IOREQ_TYPE_MMIO;
	c->buffered = flags & CTL_CLAIM_BUFFERED;
	if (vram) {
		d.kind = REGION_RAM;
		d.host = h->vram;
		d.priority = 0;
	} else {
		d.ops = ops ? ops : space == CTL_SPACE_PIO ? &fwd_pio_ops : &fwd_mmio_ops;
		d.opaque = ops ? dev : c;
	}
	r = region_add(space_map(l, space), &d, &c->reg);
	if (r == 0 && vram && (r = region_log_start(c->reg)) < 0 &&
	    region_remove(space_map(l, space), c->reg) == 0)
		c->reg = NULL;
	if (r < 0) {
		c->reg = NULL;
		return r;
	}
	if (vram)
		*h->vram_region = c->reg;
	if (id >= l->n_claims)
		l->n_claims = id + 1;
	return 0;
}

/* A change to window `id` (ioreq.h, IOREQ_EV_WINDOW), from the dm's event
 * or in process from the board. Returns 0, -EBUSY when it would overlap
 * another window (the window stays as it was), or -EINVAL when the dm has
 * no such window or the range is impossible: a dm that sends that is
 * broken or hostile. */
static int window_change(struct dm_link *l, unsigned id, unsigned op, unsigned space,
			 unsigned flags, uint64_t base, uint64_t len)
{
	struct dm_claim *c = id < DM_LINK_MAX_CLAIMS ? &l->claim[id] : NULL;
	struct region_map *sp;
	int r;

	if (!c || (space != CTL_SPACE_PIO && space != CTL_SPACE_MMIO))
		return -EINVAL;
	sp = space_map(l, space);
	if (op == IOREQ_WIN_ADD) {
		if (c->reg || (flags & ~(CTL_CLAIM_BUFFERED | CTL_CLAIM_VRAM)) ||
		    !window_range_ok(space, base, len))
			return -EINVAL;
		snprintf(c->name, sizeof(c->name), "%.24s.w%u", l->name, id);
		return add_window(l, id, space, base, len, flags, NULL, NULL);
	}
	if (!c->reg || c->space != space)
		return -EINVAL;
	switch (op) {
	case IOREQ_WIN_MOVE:
		if (!window_range_ok(space, base, c->reg->d.size))
			return -EINVAL;
		return region_move(sp, c->reg, base);
	case IOREQ_WIN_ENABLE:
	case IOREQ_WIN_DISABLE:
		return region_set_enabled(sp, c->reg, op == IOREQ_WIN_ENABLE);
	case IOREQ_WIN_REMOVE:
		r = region_remove(sp, c->reg);
		if (r == 0) {
			if (l->host->vram_region && *l->host->vram_region == c->reg)
				*l->host->vram_region = NULL;
			c->reg = NULL;
		}
		return r;
	default:
		return -EINVAL;
	}
}

static void window_event(struct dm_link *l, const struct ioreq_event *e)
{
	unsigned op = IOREQ_WIN_OP(e->arg), id = IOREQ_WIN_NUMBER(e->arg);
	int r = window_change(l, id, op, IOREQ_WIN_SPACE(e->arg), IOREQ_WIN_FLAGS(e->arg),
			      e->a, e->b);

	if (r == -EBUSY)
		log_warn("%s: window %u: %s to %#llx refused, it would overlap another; "
			 "left as it was", l->name, id, op == IOREQ_WIN_ADD ? "adding" :
			 op == IOREQ_WIN_MOVE ? "moving" : "enabling",
			 (unsigned long long)e->a);
	else if (r < 0)
		link_fail(l, r == -ENOMEM ? "out of memory for its window" :
			  "a change to a window it does not have, or to an impossible range");
}

/* A dm's claim, checked and entered into the vmm's space. */
static int take_claim(struct dm_link *l, struct ctl_claim *m, char *err, size_t n)
{
	struct dm_claim *c;
	struct region_map *sp;
	const struct region *o;
	const struct region_flat *f;
	int r;

	if (l->n_claims >= DM_LINK_MAX_CLAIMS)
		return err_say(err, n, -ENOSPC, "too many claims");
	if (!window_range_ok(m->space, m->base, m->len))
		return err_say(err, n, -EINVAL, "claim %s: range %#llx+%#llx is impossible",
			    ctl_name(m->name), (unsigned long long)m->base,
			    (unsigned long long)m->len);
	if (m->space == CTL_SPACE_PCI)
		return pci_claim(l, m->base, m->len, NULL, NULL, ctl_name(m->name), err, n);
	if (m->space != CTL_SPACE_PIO && m->space != CTL_SPACE_MMIO)
		return err_say(err, n, -EINVAL, "claim %s: unknown space %u",
			    ctl_name(m->name), m->space);
	sp = space_map(l, m->space);
	f = region_find(sp, m->base);
	if (m->space == CTL_SPACE_MMIO && f && f->r->d.kind == REGION_RAM)
		return err_say(err, n, -EINVAL, "claim %s: MMIO at %#llx is guest RAM",
			    ctl_name(m->name), (unsigned long long)m->base);
	c = &l->claim[l->n_claims];
	ctl_set_name(c->name, ctl_name(m->name));
	if (m->flags & ~(CTL_CLAIM_BUFFERED | CTL_CLAIM_VRAM))
		return err_say(err, n, -EINVAL, "claim %s: unknown flags %#x",
			    ctl_name(m->name), m->flags);
	r = add_window(l, l->n_claims, m->space, m->base, m->len, m->flags, NULL, NULL);
	if (r < 0) {
		o = region_overlap(sp, m->base, m->len, 0, NULL);
		return err_say(err, n, r, "%s of %s claims %s %#llx-%#llx, which overlaps %s",
			    c->name, l->name, sp->name, (unsigned long long)m->base,
			    (unsigned long long)(m->base + m->len - 1),
			    o ? o->d.name : "another claim");
	}
	return 0;
}

/* ---- in-process transport ---- */

static int inproc_claim(void *opaque, unsigned space, uint64_t base, uint64_t len,
			unsigned flags, const struct io_ops *ops, void *dev,
			const char *name)
{
	struct dm_link *l = opaque;
	const struct region *o;
	unsigned id;
	int r;

	if (space == CTL_SPACE_PCI) {
		char err[200];
		r = pci_claim(l, base, len, ops, dev, name, err, sizeof(err));
		if (r < 0)
			log_error("%s", err);
		return r;
	}
	if (space != CTL_SPACE_PIO && space != CTL_SPACE_MMIO)
		return -EINVAL;
	for (id = 0; id < DM_LINK_MAX_CLAIMS && l->claim[id].reg; id++)
		;
	if (id == DM_LINK_MAX_CLAIMS)
		return -ENOSPC;
	ctl_set_name(l->claim[id].name, name);
	r = add_window(l, id, space, base, len, flags & CTL_CLAIM_VRAM, ops, dev);
	if (r == -EBUSY && (o = region_overlap(space_map(l, space), base, len, 0, NULL)))
		log_error("%s %#llx-%#llx for %s overlaps %#llx-%#llx of %s",
			  space_map(l, space)->name, (unsigned long long)base,
			  (unsigned long long)(base + len - 1), name,
			  (unsigned long long)o->d.base,
			  (unsigned long long)(o->d.base + o->d.size - 1), o->d.name);
	return r;
}

/* In process, a window is found by its space and base among the board's
 * own (an enabled one first). */
static int inproc_window(void *opaque, unsigned space, uint64_t base, unsigned op,
			 uint64_t new_base)
{
	struct dm_link *l = opaque;
	int found = -1;

	for (unsigned id = 0; id < l->n_claims; id++) {
		const struct region *r = l->claim[id].reg;
		if (r && l->claim[id].space == space && r->d.base == base &&
		    (found < 0 || r->d.enabled))
			found = (int)id;
	}
	if (found < 0 || op == IOREQ_WIN_ADD)
		return -ENOENT;
	return window_change(l, (unsigned)found, op, space, 0, new_base, 0);
}

static void inproc_set_line(void *opaque, unsigned line, bool level)
{
	struct dm_link *l = opaque;
	l->host->set_line(l->host->opaque, line, level);
}

static void inproc_exit(void *opaque, int status, const char *why)
{
	struct dm_link *l = opaque;
	l->host->exit(l->host->opaque, status, why);
}

static void inproc_reset(void *opaque)
{
	struct dm_link *l = opaque;
	l->host->reset(l->host->opaque);
}

static const struct dm_host_ops inproc_ops = {
	inproc_claim, inproc_set_line, inproc_exit, inproc_reset, inproc_window,
};

static int start_inprocess(struct dm_link *l, struct dm_device_spec *specs,
			   unsigned n_specs, char *err, size_t errlen)
{
	dm_board_init(&l->board, &inproc_ops, l, l->host->clock, &l->host->dma);
	l->board.icount = l->host->icount;
	for (unsigned i = 0; i < n_specs; i++) {
		int r = dm_board_add(&l->board, &specs[i], err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- out of process ---- */

static void close_spec_fds(struct dm_device_spec *specs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned f = 0; f < specs[i].n_fds; f++)
			if (specs[i].fds[f] >= 0)
				close(specs[i].fds[f]);
}

/* Waits for one control message from the dm during setup. */
static ssize_t setup_recv(struct dm_link *l, void *buf, size_t cap)
{
	struct pollfd p = {l->ctl, POLLIN, 0};
	int fds[CTL_MAX_FDS];
	unsigned nfd;
	ssize_t r;

	if (poll(&p, 1, DM_LINK_SETUP_MS) != 1)
		return -ETIMEDOUT;
	r = ctl_recv(l->ctl, buf, cap, fds, CTL_MAX_FDS, &nfd);
	for (unsigned i = 0; i < nfd; i++)
		close(fds[i]); /* a dm has no business sending descriptors */
	return r;
}

static int start_process(struct dm_link *l, const struct dm_link_options *o,
			 struct dm_device_spec *specs, unsigned n_specs, char *err,
			 size_t errlen)
{
	char hostile[24];
	char *argv[] = {"v2e-dm", "--ctl-fd", "3", NULL, NULL, NULL};
	int sv[2], fds[CTL_MAX_FDS];
	struct sandbox_fd keep[2];
	struct sandbox_spawn_args sa;
	struct ctl_setup su = {{CTL_SETUP, sizeof(su), 0, 0}, IOREQ_ABI_VERSION, 1,
			       l->host->gm->size, l->host->gm->low_end,
			       l->host->start_host_ns,
			       l->host->icount ? CTL_SETUP_ICOUNT : 0, 0, {0}};
	struct ctl_hdr start = {CTL_START, sizeof(start), 0, 0};
	unsigned nfd;
	int r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		close_spec_fds(specs, n_specs);
		return err_say(err, errlen, r, "control socket: %s", strerror(-r));
	}
	l->ctl = sv[0];
	if (o->hostile_after) {
		snprintf(hostile, sizeof(hostile), "%llu", (unsigned long long)o->hostile_after);
		argv[3] = "--hostile";
		argv[4] = hostile;
	}
	keep[0] = (struct sandbox_fd){sv[1], 3};
	keep[1] = (struct sandbox_fd){STDERR_FILENO, STDERR_FILENO};
	sa = (struct sandbox_spawn_args){o->dm_path, argv, NULL, keep, 2, SANDBOX_NS_ALL};
	r = sandbox_spawn(&sa, &l->child);
	close(sv[1]);
	if (r < 0) {
		close_spec_fds(specs, n_specs);
		return err_say(err, errlen, r, "cannot start %s: %s", o->dm_path, strerror(-r));
	}
	r = ioreq_chan_create(&l->chan, 1);
	if (r < 0) {
		close_spec_fds(specs, n_specs);
		return err_say(err, errlen, r, "ioreq channel: %s", strerror(-r));
	}
	ctl_set_name(su.name, l->name);
	fds[0] = l->host->gm->fd;
	nfd = 1 + ioreq_chan_fds(&l->chan, fds + 1);
	r = ctl_send(l->ctl, &su, fds, nfd);
	for (unsigned i = 0; !r && i < n_specs; i++) {
		struct ctl_device d;
		dm_spec_to_msg(&specs[i], &d);
		r = ctl_send(l->ctl, &d, specs[i].fds, specs[i].n_fds);
	}
	close_spec_fds(specs, n_specs); /* the dm has its own copies now */
	if (!r)
		r = ctl_send(l->ctl, &start, NULL, 0);
	if (r < 0) {
		char said[300];
		fatal_text(l, said, sizeof(said));
		return err_say(err, errlen, r, "setup of %s: %s%s", l->name, strerror(-r), said);
	}
	for (;;) {
		union {
			struct ctl_hdr h;
			struct ctl_claim c;
			struct ctl_text t;
		} m;
		struct ctl_text res = {{CTL_CLAIM_RESULT, sizeof(res), 0, 0}, {0}};
		ssize_t n = setup_recv(l, &m, sizeof(m));
		if (n < (ssize_t)sizeof(m.h)) {
			int status;
			char how[96] = "went away";
			if (sandbox_reap(&l->child, &status, true) == 1)
				sandbox_describe_status(status, how, sizeof(how));
			return err_say(err, errlen, -EPIPE, "%s %s during setup", l->name, how);
		}
		if (m.h.type == CTL_READY)
			break;
		if (m.h.type == CTL_FATAL && n == sizeof(m.t))
			return err_say(err, errlen, -EIO, "%s", ctl_text_str(&m.t));
		if (m.h.type != CTL_CLAIM || n != sizeof(m.c))
			return err_say(err, errlen, -EPROTO, "%s sent message %u during setup",
				    l->name, m.h.type);
		r = take_claim(l, &m.c, res.text, sizeof(res.text));
		res.h.result = r;
		if (ctl_send(l->ctl, &res, NULL, 0) < 0 || r < 0)
			return err_say(err, errlen, r < 0 ? r : -EPIPE, "%s", res.text);
	}
	vtimer_init(&l->deadline, deadline_fire, l);
	l->deadline_at = IOREQ_NEVER;
	return 0;
}

int dm_link_start(struct dm_link *l, const struct dm_link_options *o,
		  const struct dm_link_host *host, struct dm_device_spec *specs,
		  unsigned n_specs, char *err, size_t errlen)
{
	int r;

	memset(l, 0, sizeof(*l));
	l->host = host;
	l->ctl = -1;
	l->child.pid = -1;
	l->child.pidfd = -1;
	l->inprocess = o->inprocess;
	l->timeout_ns = o->timeout_ns;
	ctl_set_name(l->name, o->name);
	for (unsigned i = 0; i < IOREQ_MAX_VCPUS; i++)
		l->chan.req_fd[i] = l->chan.resp_fd[i] = -1;
	l->chan.shm_fd = l->chan.ev_fd = l->chan.buf_fd = -1;
	err[0] = 0;
	if (l->inprocess)
		r = start_inprocess(l, specs, n_specs, err, errlen);
	else
		r = start_process(l, o, specs, n_specs, err, errlen);
	if (r < 0)
		dm_link_stop(l);
	return r;
}

void dm_link_stop(struct dm_link *l)
{
	/* Its slots read all-ones from now on. */
	for (unsigned s = 0; s < PCI_SLOTS * PCI_FNS && l->host && l->host->pci; s++)
		if (l->pci[s].link == l)
			pci_bus_release(l->host->pci, s, l->pci[s].nfns);
	if (l->inprocess) {
		dm_board_destroy(&l->board);
		return;
	}
	if (l->chan.sh)
		vtimer_cancel(l->host->clock, &l->deadline);
	if (l->child.pid > 0) {
		struct ctl_hdr bye = {CTL_SHUTDOWN, sizeof(bye), 0, 0};
		int status, r = 0;
		if (!l->failed && ctl_send(l->ctl, &bye, NULL, 0) == 0) {
			for (int i = 0; i < 100 && (r = sandbox_reap(&l->child, &status, false)) == 0; i++)
				nanosleep(&(struct timespec){0, 1000000}, NULL);
		}
		if (r == 0) {
			sandbox_kill(&l->child);
			if (sandbox_reap(&l->child, &status, true) < 0)
				log_warn("%s: could not collect the device model", l->name);
		}
	}
	if (l->ctl >= 0)
		close(l->ctl);
	l->ctl = -1;
	ioreq_chan_close(&l->chan);
}

/* In process, the board's host input (the terminal) is the vmm's to
 * watch: a look without waiting, and bytes held for a full FIFO. */
static void inprocess_input(struct dm_link *l)
{
	struct pollfd p[8];
	unsigned n = dm_board_poll_fds(&l->board, p, 8);
	if (n && poll(p, n, 0) < 0)
		return;
	dm_board_input(&l->board, p, n);
}

void dm_link_poll(struct dm_link *l)
{
	if (l->failed)
		return;
	if (l->inprocess) {
		inprocess_input(l);
		return;
	}
	drain(l);
	update_deadline(l);
}

void dm_link_sync(struct dm_link *l)
{
	char err[256];
	struct ioreq_wait w = {l->timeout_ns, DM_LINK_SPIN_NS, l->ctl, drain, l, err,
			       sizeof(err)};

	if (l->inprocess) {
		/* The board's held-back output, at each burst's end. */
		dm_board_flush(&l->board);
		return;
	}
	if (l->failed)
		return;
	__atomic_store_n(&l->chan.sh->vmm_now_ns, vclock_now(l->host->clock),
			 __ATOMIC_RELEASE);
	if (ioreq_vmm_buffered_pending(&l->chan) &&
	    ioreq_vmm_buffered_flush(&l->chan, &w) < 0) {
		link_fail(l, err);
		return;
	}
	drain(l);
	update_deadline(l);
}

void dm_link_reset(struct dm_link *l)
{
	struct ctl_hdr m = {CTL_RESET, sizeof(m), 0, 0};
	union {
		struct ctl_hdr h;
		struct ctl_text t;
	} reply;

	if (l->inprocess) {
		dm_board_reset(&l->board);
		return;
	}
	dm_link_sync(l);
	if (l->failed)
		return;
	if (ctl_send(l->ctl, &m, NULL, 0) < 0 ||
	    setup_recv(l, &reply, sizeof(reply)) != sizeof(reply.h) ||
	    reply.h.type != CTL_RESET)
		link_fail(l, "no answer to a system reset");
}

int dm_link_save(struct dm_link *l, dm_state_fn *fn, void *opaque)
{
	struct ctl_hdr save = {CTL_SAVE, sizeof(save), 0, 0};
	union {
		struct ctl_hdr h;
		struct ctl_state s;
		uint8_t raw[CTL_MAX_MSG];
	} *m;
	int r = 0;

	if (l->failed)
		return -EIO;
	if (l->inprocess) {
		const char *id;
		for (unsigned i = 0; r == 0; i++) {
			struct vs_buf b = {0};
			r = dm_board_save(&l->board, i, &id, &b);
			if (r == 0 && b.len)
				r = fn(opaque, id, b.data, b.len);
			vs_buf_free(&b);
		}
		return r == -ENOENT ? 0 : r;
	}
	dm_link_sync(l);
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (l->failed || ctl_send(l->ctl, &save, NULL, 0) < 0)
		r = -EIO;
	while (r == 0) {
		ssize_t n = setup_recv(l, m, sizeof(*m));
		/* A dm's record: its own type, a length that is the packet's,
		 * an id that ends inside its field. */
		if (n < (ssize_t)sizeof(m->s) || m->h.type != CTL_STATE ||
		    m->h.len != (size_t)n || !memchr(m->s.id, 0, sizeof(m->s.id))) {
			link_fail(l, "a malformed device state");
			r = -EIO;
			break;
		}
		if (!m->s.id[0])
			break;
		r = fn(opaque, m->s.id, m->s.data, (size_t)n - sizeof(m->s));
	}
	free(m);
	return r;
}

int dm_link_load(struct dm_link *l, const struct dm_state_rec *recs, unsigned n)
{
	struct ctl_hdr load = {CTL_LOAD, sizeof(load), 0, 0};
	union {
		struct ctl_hdr h;
		struct ctl_text t;
	} reply;
	char err[256];
	int r = 0;

	if (l->failed)
		return -EIO;
	if (l->inprocess) {
		/* All checked, then all applied: a bad one changes nothing. */
		for (unsigned pass = 0; pass < 2 && r == 0; pass++)
			for (unsigned i = 0; i < n && r == 0; i++)
				r = dm_board_load(&l->board, recs[i].id, recs[i].data,
						  recs[i].len, pass == 1, err, sizeof(err));
		if (r < 0)
			log_error("%s: state not loaded: %s", l->name, err);
		return r;
	}
	dm_link_sync(l);
	for (unsigned i = 0; i < n && r == 0; i++) {
		size_t len = sizeof(struct ctl_state) + recs[i].len;
		struct ctl_state *m = len <= CTL_MAX_MSG ? calloc(1, len) : NULL;
		if (!m)
			return -E2BIG;
		*m = (struct ctl_state){{CTL_STATE, (uint32_t)len, 0, 0}, {0}, 0, 0};
		ctl_set_name(m->id, recs[i].id);
		memcpy(m->data, recs[i].data, recs[i].len);
		if (ctl_send(l->ctl, m, NULL, 0) < 0)
			r = -EIO;
		free(m);
	}
	if (r == 0 && (ctl_send(l->ctl, &load, NULL, 0) < 0 ||
		       setup_recv(l, &reply, sizeof(reply)) != sizeof(reply.h) ||
		       reply.h.type != CTL_LOAD_RESULT || reply.h.result > 0)) {
		link_fail(l, "no answer to a device-state load");
		r = -EIO;
	}
	return r ? r : reply.h.result;
}

unsigned dm_link_wake_fds(struct dm_link *l, int *fds)
{
	if (l->failed)
		return 0;
	if (l->inprocess) {
		struct pollfd p[2];
		unsigned n = dm_board_poll_fds(&l->board, p, 2);
		for (unsigned i = 0; i < n; i++)
			fds[i] = p[i].fd;
		return n;
	}
	fds[0] = l->chan.ev_fd;
	fds[1] = l->ctl;
	return 2;
}

const volatile uint32_t *dm_link_doorbell(const struct dm_link *l)
{
	return l->failed || l->inprocess ? NULL : ioreq_vmm_doorbell(&l->chan);
}

bool dm_link_wait_begin(struct dm_link *l)
{
	if (l->failed || l->inprocess)
		return true;
	if (!ioreq_vmm_wait_begin(&l->chan))
		return false;
	/* A deadline the dm moved after the vmm last looked (host input)
	 * came without an event: look again rather than sleep past it. */
	if (__atomic_load_n(&l->chan.sh->dm_deadline_ns, __ATOMIC_SEQ_CST) != l->deadline_at) {
		ioreq_vmm_wait_end(&l->chan);
		return false;
	}
	return true;
}

void dm_link_wait_end(struct dm_link *l)
{
	if (!l->failed && !l->inprocess)
		ioreq_vmm_wait_end(&l->chan);
}

void dm_link_woken(struct dm_link *l)
{
	if (l->failed)
		return;
	if (!l->inprocess)
		ioreq_vmm_events_ack(&l->chan);
	dm_link_poll(l);
}

uint64_t dm_link_pio_read(struct dm_link *l, uint16_t port, unsigned size)
{
	struct ioreq q = {.addr = port, .size = (uint8_t)size, .count = 1,
			  .dir = IOREQ_DIR_READ, .type = IOREQ_TYPE_PIO};
	if (l->inprocess)
		return region_read(l->host->ports, port, size);
	return call(l, &q) ? q.data : ~0ull;
}

uint32_t dm_link_pio_string(struct dm_link *l, uint16_t port, unsigned size,
			    bool in, uint64_t gpa, uint32_t count, bool df)
{
	uint64_t span = (uint64_t)count * size;
	uint64_t lo = df ? gpa - span + size : gpa;
	struct ioreq q = {.addr = port, .data = gpa, .size = (uint8_t)size,
			  .count = count, .df = df, .data_is_ptr = 1,
			  .dir = in ? IOREQ_DIR_READ : IOREQ_DIR_WRITE,
			  .type = IOREQ_TYPE_PIO};

	if (l->inprocess || count == 0 || count > 4096 || (lo >> 12) != ((lo + span - 1) >> 12) ||
	    !guest_mem_ptr(l->host->gm, lo, span))
		return 0;
	if (!call(l, &q))
		return 0;
	if (in)
		l->host->dirty(l->host->opaque, lo, span);
	return count;
}
