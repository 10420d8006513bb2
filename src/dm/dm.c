/* The device-model server (see dm.h): setup over the control socket, then
 * the serving loop over the ioreq channel. */
#include "dm/dm.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/clock.h"

/* The longest the loop spins for the next request before it sleeps: a
 * guest's I/O comes in bursts, and a wake-up costs more than this. The
 * window itself follows the gaps between requests (spin_adapt()). It
 * spans a whole disk request as the emulator runs one (150-250 us from
 * one command to the next, the completion in between): a shorter one
 * slept twice a request, and each wake-up cost the vmm a signal and a
 * wait on the way. */
#define DM_SPIN_MAX_NS 200000u
/* The least spin after a wake-up: a guest that programs a device writes
 * several registers in a row (a disk command is ten), microseconds
 * apart, and each one that finds this dm asleep costs the vmm a signal
 * and this dm a wake-up. */
#define DM_WAKE_SPIN_NS 20000u
/* How long the dm waits for the vmm to drain a full event ring. */
#define DM_EVENT_TIMEOUT_NS 10000000000ull


void dm_fatal(struct dm *dm, const char *fmt, ...)
{
	struct ctl_text m = {{CTL_FATAL, sizeof(m), -EIO, 0}, {0}};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	/* The vmm reports it; only a dm that cannot tell it says it here. */
	if (ctl_send(dm->ctl, &m, NULL, 0) < 0)
		log_error("%s: %s", dm->name, m.text);
}

/* ---- what the board asks of its host ---- */

static void post_event_raw(struct dm *dm, struct ioreq_event *e);

/* One entry of `pub` rewritten inside the sequence lock (ioreq.h): the
 * first change of a publication makes pub_seq odd, pub_done() even. */
static void pub_set(struct dm *dm, unsigned id, unsigned off, uint32_t e, bool *open)
{
	if (!*open) {
		uint32_t seq = __atomic_load_n(&dm->chan.sh->pub_seq, __ATOMIC_RELAXED);
		__atomic_store_n(&dm->chan.sh->pub_seq, seq + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		*open = true;
	}
	dm->pub[id][off] = e;
	__atomic_store_n(&dm->chan.sh->pub[id][off], e, __ATOMIC_RELAXED);
}

static void pub_done(struct dm *dm, bool open)
{
	if (open)
		__atomic_store_n(&dm->chan.sh->pub_seq,
				 __atomic_load_n(&dm->chan.sh->pub_seq, __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELEASE);
}

/* Published reads (ioreq.h) withdrawn: an event the vmm may act on
 * before this dm publishes again (an interrupt whose handler reads a
 * status) must not meet the bytes from before what caused it. */
static void unpublish(struct dm *dm)
{
	bool open = false;

	for (unsigned id = 0; id < IOREQ_PUB_WINDOWS; id++) {
		if (!dm->pub_any[id])
			continue;
		for (unsigned off = 0; off < IOREQ_PUB_PORTS; off++)
			if (dm->pub[id][off])
				pub_set(dm, id, off, 0, &open);
		dm->pub_any[id] = false;
	}
	pub_done(dm, open);
}

static void post_event(struct dm *dm, uint32_t type, uint64_t a, uint64_t b)
{
	struct ioreq_event e = {type, 0, a, b};
	post_event_raw(dm, &e);
}

static void post_event_raw(struct dm *dm, struct ioreq_event *e)
{
	unpublish(dm);
	if (ioreq_dm_event(&dm->chan, e, !dm->kick_later, DM_EVENT_TIMEOUT_NS) < 0) {
		dm_fatal(dm, "the vmm stopped taking events");
		_exit(1); /* no exit handlers in the sandbox */
	}
}

static int host_claim(void *opaque, unsigned space, uint64_t base, uint64_t len,
		      unsigned flags, const struct io_ops *ops, void *dev,
		      const char *name)
{
	struct dm *dm = opaque;
	struct ctl_claim m = {{CTL_CLAIM, sizeof(m), 0, 0}, space, flags, base, len, {0}};
	union {
		struct ctl_hdr h;
		struct ctl_text t;
	} reply;
	struct region_desc d = {.name = name, .kind = REGION_IO, .base = base, .size = len,
				.enabled = true, .ops = ops, .opaque = dev};
	unsigned nfd, id = 0;
	ssize_t n;
	int r;

	switch (space) {
	case CTL_SPACE_PIO:
	case CTL_SPACE_MMIO:
		for (id = 0; id < DM_MAX_WINDOWS && dm->win[id].reg; id++)
			;
		if (id == DM_MAX_WINDOWS)
			return -ENOSPC;
		r = region_add(space == CTL_SPACE_PIO ? &dm->ports : &dm->mmio, &d,
			       &dm->win[id].reg);
		if (r < 0)
			return r;
		dm->win[id].space = space;
		if (id >= dm->n_win)
			dm->n_win = id + 1;
		break;
	case CTL_SPACE_PCI:
		if (dm->serving)
			return -ENOTSUP;
		if (base >= PCI_SLOTS * PCI_FNS || len < 1 || (base & 7) + len > PCI_FNS)
			return -EINVAL;
		for (uint64_t f = base; f < base + len; f++)
			if (dm->pci[f].ops)
				return -EBUSY;
		for (uint64_t f = base; f < base + len; f++)
			dm->pci[f] = (struct dm_pci_fn){ops, dev, name};
		r = 0;
		break;
	default:
		return -EINVAL;
	}
	if (dm->serving) {
		/* The guest runs: the vmm learns of the window in order with
		 * everything else this access causes. */
		struct ioreq_event e = {IOREQ_EV_WINDOW,
					IOREQ_WIN_ARG(IOREQ_WIN_ADD, space, flags, id), base, len};
		post_event_raw(dm, &e);
		return 0;
	}
	ctl_set_name(m.name, name);
	r = ctl_send(dm->ctl, &m, NULL, 0);
	if (r < 0)
		return r;
	n = ctl_recv(dm->ctl, &reply, sizeof(reply), NULL, 0, &nfd);
	if (n < (ssize_t)sizeof(reply.h) || reply.h.type != CTL_CLAIM_RESULT)
		return -EPROTO;
	/* A refusal's text is the vmm's to print: it has the whole story. */
	return reply.h.result;
}

/* A device changes one of its windows: here first, then in the vmm, by
 * an event in order with the others. */
static int host_window(void *opaque, unsigned space, uint64_t base, unsigned op,
		       uint64_t new_base)
{
	struct dm *dm = opaque;
	struct region_map *sp = space == CTL_SPACE_PIO ? &dm->ports : &dm->mmio;
	struct ioreq_event e = {IOREQ_EV_WINDOW, 0, new_base, 0};
	int found = -1, r;

	for (unsigned id = 0; id < dm->n_win; id++) {
		const struct region *w = dm->win[id].reg;
		if (w && dm->win[id].space == space && w->d.base == base &&
		    (found < 0 || w->d.enabled))
			found = (int)id;
	}
	if (found < 0)
		return -ENOENT;
	switch (op) {
	case IOREQ_WIN_MOVE:
		r = region_move(sp, dm->win[found].reg, new_base);
		break;
	case IOREQ_WIN_ENABLE:
	case IOREQ_WIN_DISABLE:
		r = region_set_enabled(sp, dm->win[found].reg, op == IOREQ_WIN_ENABLE);
		break;
	case IOREQ_WIN_REMOVE:
		r = region_remove(sp, dm->win[found].reg);
		if (r == 0)
			dm->win[found].reg = NULL;
		break;
	default:
		return -EINVAL;
	}
	if (r < 0)
		return r;
	e.arg = IOREQ_WIN_ARG(op, space, 0, found);
	post_event_raw(dm, &e);
	return 0;
}

static void host_set_line(void *opaque, unsigned line, bool level)
{
	post_event(opaque, IOREQ_EV_LINE, line, level);
}

static void host_exit(void *opaque, int status, const char *why)
{
	/* b: 1 = isa-debug-exit, 2 = the quit key; the vmm words it. */
	post_event(opaque, IOREQ_EV_EXIT, (uint64_t)status,
		   strncmp(why, "isa-debug-exit", 14) ? 2 : 1);
}

static void host_reset(void *opaque)
{
	post_event(opaque, IOREQ_EV_RESET, 0, 0);
}

static const struct dm_host_ops dm_host = {
	host_claim, host_set_line, host_exit, host_reset, host_window,
};

static int dma_rd(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct dm *dm = opaque;
	return guest_mem_read(&dm->gm, gpa, buf, n);
}

static int dma_wr(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct dm *dm = opaque;
	int r = guest_mem_write(&dm->gm, gpa, buf, n);
	if (r == 0)
		post_event(dm, IOREQ_EV_DIRTY, gpa, n);
	return r;
}

static void dma_wrote_cb(void *opaque, uint64_t gpa, uint64_t n)
{
	post_event(opaque, IOREQ_EV_DIRTY, gpa, n);
}

/* ---- setup ---- */

int dm_setup(struct dm *dm, int ctl)
{
	union {
		struct ctl_hdr h;
		struct ctl_setup s;
		struct ctl_device d;
	} m;
	int fds[CTL_MAX_FDS];
	unsigned nfd;
	struct dma_space dma;
	struct dm_device_spec specs[DM_MAX_DEVICES];
	unsigned n_specs = 0;
	char err[256];
	ssize_t n;
	int r;

	memset(dm, 0, sizeof(*dm));
	dm->ctl = ctl;
	dm->gm.fd = -1;
	ctl_set_name(dm->name, "v2e-dm");
	n = ctl_recv(ctl, &m, sizeof(m), fds, CTL_MAX_FDS, &nfd);
	if (n != sizeof(m.s) || m.h.type != CTL_SETUP || nfd < 1) {
		for (unsigned i = 0; i < nfd; i++)
			close(fds[i]);
		dm_fatal(dm, "expected SETUP from the vmm");
		return -EPROTO;
	}
	ctl_set_name(dm->name, ctl_name(m.s.name));
	dm->icount = m.s.flags & CTL_SETUP_ICOUNT;
	dm->start_host_ns = m.s.start_host_ns;
	r = guest_mem_attach(&dm->gm, fds[0], m.s.ram_size);
	if (r < 0) {
		for (unsigned i = 0; i < nfd; i++)
			close(fds[i]);
		dm_fatal(dm, "guest RAM: %s", strerror(-r));
		return r;
	}
	r = ioreq_chan_attach(&dm->chan, fds + 1, nfd - 1);
	if (r < 0) {
		dm_fatal(dm, "ioreq channel: %s", strerror(-r));
		return r;
	}
	vclock_init(&dm->clock, 0);
	r = region_map_init(&dm->ports, "port", 0x10000);
	if (r == 0)
		r = region_map_init(&dm->mmio, "mmio", 0);
	if (r < 0) {
		dm_fatal(dm, "out of memory");
		return r;
	}
	dma = (struct dma_space){dma_rd, dma_wr, dm, dma_wrote_cb};
	dm_board_init(&dm->board, &dm_host, dm, &dm->clock, &dma);
	dm->board.icount = dm->icount;

	/* All devices arrive before START; only then are they created, so
	 * their claims (which wait for answers) do not cross the vmm's
	 * remaining setup messages. */
	for (;;) {
		struct dm_device_spec *s;
		n = ctl_recv(ctl, &m, sizeof(m), fds, CTL_MAX_FDS, &nfd);
		if (n >= (ssize_t)sizeof(m.h) && m.h.type == CTL_START && nfd == 0)
			break;
		if (n != sizeof(m.d) || m.h.type != CTL_DEVICE || nfd != m.d.n_fds ||
		    nfd > DM_MAX_DEV_FDS || n_specs >= DM_MAX_DEVICES) {
			for (unsigned i = 0; i < nfd; i++)
				close(fds[i]);
			dm_fatal(dm, "expected DEVICE or START from the vmm");
			return -EPROTO;
		}
		s = &specs[n_specs];
		r = dm_spec_from_msg(s, &m.d, err, sizeof(err));
		if (r < 0) {
			for (unsigned i = 0; i < nfd; i++)
				close(fds[i]);
			for (unsigned j = 0; j < n_specs; j++)
				for (unsigned f = 0; f < specs[j].n_fds; f++)
					close(specs[j].fds[f]);
			dm_fatal(dm, "DEVICE: %s", err);
			return r;
		}
		s->n_fds = nfd;
		memcpy(s->fds, fds, sizeof(int) * nfd);
		n_specs++;
	}
	for (unsigned i = 0; i < n_specs; i++) {
		err[0] = 0;
		r = dm_board_add(&dm->board, &specs[i], err, sizeof(err));
		if (r < 0) {
			for (unsigned j = i + 1; j < n_specs; j++)
				for (unsigned f = 0; f < specs[j].n_fds; f++)
					close(specs[j].fds[f]);
			dm_fatal(dm, "%s", err);
			return r;
		}
	}
	dm->serving = true;
	return 0;
}

void dm_destroy(struct dm *dm)
{
	for (unsigned i = 0; i < dm->n_staged; i++)
		free(dm->staged[i].data);
	dm->n_staged = 0;
	dm_board_destroy(&dm->board);
	region_map_destroy(&dm->mmio);
	region_map_destroy(&dm->ports);
	ioreq_chan_close(&dm->chan);
	guest_mem_destroy(&dm->gm);
}

/* ---- serving ---- */

static void clock_to(struct dm *dm, uint64_t now)
{
	vclock_advance_to(&dm->clock, now);
}

/* A REP string access straight to or from guest RAM. */
static void serve_string(struct dm *dm, struct region_map *sp, const struct ioreq *q)
{
	uint64_t span = (uint64_t)q->count * q->size;
	uint64_t lo = q->df ? q->data - span + q->size : q->data;
	uint8_t *ram = guest_mem_ptr(&dm->gm, lo, span);

	/* The vmm only sends ranges inside RAM; a request that is not is
	 * dropped rather than trusted. */
	if (!ram || q->count > 4096)
		return;
	for (uint32_t i = 0; i < q->count; i++) {
		uint64_t off = q->df ? span - (uint64_t)(i + 1) * q->size
				     : (uint64_t)i * q->size;
		uint64_t v = 0;
		if (q->dir == IOREQ_DIR_READ) {
			v = region_read(sp, q->addr, q->size);
			memcpy(ram + off, &v, q->size);
		} else {
			memcpy(&v, ram + off, q->size);
			region_write(sp, q->addr, q->size, v);
		}
	}
	if (q->dir == IOREQ_DIR_READ)
		post_event(dm, IOREQ_EV_DIRTY, lo, span);
}

static uint64_t serve(struct dm *dm, const struct ioreq *q)
{
	struct region_map *sp = q->type == IOREQ_TYPE_MMIO ? &dm->mmio : &dm->ports;
	uint64_t data = 0;

	clock_to(dm, q->now_ns);
	if (q->size != 1 && q->size != 2 && q->size != 4 && q->size != 8)
		return ~0ull;
	switch (q->type) {
	case IOREQ_TYPE_PIO:
	case IOREQ_TYPE_MMIO:
		if (q->data_is_ptr) {
			serve_string(dm, sp, q);
		} else if (q->dir == IOREQ_DIR_READ) {
			data = region_read(sp, q->addr, q->size);
		} else {
			for (uint32_t i = 0; i < q->count && i < 4096; i++)
				region_write(sp, q->addr, q->size, q->data);
		}
		break;
	case IOREQ_TYPE_PCI_CONFIG: {
		/* The slot's config space sees function << 8 | register,
		 * as the vmm's bus calls its own functions (dev/pci.h). */
		const struct dm_pci_fn *w = &dm->pci[(q->addr >> 8) & 0xff];
		uint64_t reg = q->addr & IOREQ_PCI_REG_MASK, off = q->addr & 0x7ff;
		if (!w->ops || (q->addr >> 16) || q->size > 4 || reg + q->size > 256)
			data = ~0ull;
		else if (q->dir == IOREQ_DIR_READ)
			data = w->ops->read(w->opaque, off, q->size);
		else
			w->ops->write(w->opaque, off, q->size, q->data);
		break;
	}
	default:
		break; /* TIMER: the clock moved, due timers fired */
	}
	return data;
}

static uint64_t rng_next(struct dm *dm)
{
	dm->rng ^= dm->rng << 13;
	dm->rng ^= dm->rng >> 7;
	dm->rng ^= dm->rng << 17;
	return dm->rng;
}

/* Test builds: once `hostile_after` requests are served, answer with
 * random data for a while, then break the protocol in a random way. */
static bool hostile_reply(struct dm *dm, unsigned v, const struct ioreq *q)
{
	struct ioreq *s = &dm->chan.sh->slot[v];
	uint64_t r;

	if (!dm->hostile_after || dm->served < dm->hostile_after)
		return false;
	r = rng_next(dm);
	if (dm->served < dm->hostile_after + 200) {
		ioreq_dm_reply(&dm->chan, v, rng_next(dm)); /* valid, random data */
		return true;
	}
	switch (r % 8) {
	case 0: /* a wrong sequence number */
		s->seq ^= 0x5a5a;
		ioreq_dm_reply(&dm->chan, v, 0);
		break;
	case 1: /* an impossible state */
		__atomic_store_n(&s->state, (uint8_t)(4 + r % 250), __ATOMIC_RELEASE);
		break;
	case 2: /* the request rewritten under the vmm */
		s->addr = rng_next(dm);
		s->size = (uint8_t)rng_next(dm);
		ioreq_dm_reply(&dm->chan, v, rng_next(dm));
		break;
	case 3: /* garbage events, then the answer */
		for (int i = 0; i < 8; i++) {
			struct ioreq_event e = {(uint32_t)rng_next(dm), 0, rng_next(dm),
						rng_next(dm)};
			if (ioreq_dm_event(&dm->chan, &e, false, DM_EVENT_TIMEOUT_NS) < 0)
				break;
		}
		ioreq_dm_reply(&dm->chan, v, 0);
		break;
	case 4: /* an event ring index from nowhere */
		__atomic_store_n(&dm->chan.sh->ev.write_idx, (uint32_t)rng_next(dm),
				 __ATOMIC_RELEASE);
		ioreq_dm_reply(&dm->chan, v, 0);
		break;
	case 5: /* never answer */
		for (;;)
			nanosleep(&(struct timespec){1, 0}, NULL);
	case 6: /* die */
		__builtin_trap();
	default: /* scribble over every slot and the buffered ring */
		for (size_t i = 0; i < sizeof(dm->chan.sh->slot); i += 8) {
			uint64_t x = rng_next(dm);
			memcpy((uint8_t *)dm->chan.sh->slot + i, &x, 8);
		}
		__atomic_store_n(&dm->chan.sh->buf.read_idx, (uint32_t)rng_next(dm),
				 __ATOMIC_RELEASE);
		break;
	}
	(void)q;
	return true;
}

/* What the vmm reads without asking (ioreq.h): the next timer deadline,
 * and the bytes of its PIO windows a read would not change ("Published
 * reads"). After anything that may change a device's registers or arm a
 * timer, before the vmm can see it done. */
static void publish(struct dm *dm)
{
	bool open = false;

	__atomic_store_n(&dm->chan.sh->dm_deadline_ns, vclock_next_deadline(&dm->clock),
			 __ATOMIC_RELEASE);
	for (unsigned id = 0; id < IOREQ_PUB_WINDOWS && id < DM_MAX_WINDOWS; id++) {
		const struct region *w = id < dm->n_win ? dm->win[id].reg : NULL;
		const struct io_ops *ops = w ? w->d.ops : NULL;
		bool on = w && w->d.enabled && dm->win[id].space == CTL_SPACE_PIO && ops &&
			  (ops->peek || ops->quiet), any = false;
		if (!on && !dm->pub_any[id])
			continue;
		for (unsigned off = 0; off < IOREQ_PUB_PORTS; off++) {
			uint32_t e = 0;
			uint8_t v, mask, value;
			if (on && off < w->d.size) {
				if (ops->peek && ops->peek(w->d.opaque, off, &v))
					e = IOREQ_PUB_VALID | v;
				if (ops->quiet && ops->quiet(w->d.opaque, off, &mask, &value))
					e |= IOREQ_PUB_QRULE(mask, value & mask);
			}
			if (e != dm->pub[id][off])
				pub_set(dm, id, off, e, &open);
			any |= e != 0;
		}
		dm->pub_any[id] = any;
	}
	pub_done(dm, open);
}

static unsigned serve_buffered(struct dm *dm)
{
	struct ioreq_buffered b;
	unsigned n = 0;
	bool kick_later = dm->kick_later;

	dm->kick_later = true; /* ioreq_dm_buffered_served() kicks */

	while (ioreq_dm_take_buffered(&dm->chan, &b)) {
		struct region_map *sp = b.type == IOREQ_TYPE_MMIO ? &dm->mmio : &dm->ports;
		clock_to(dm, b.now_ns);
		if (b.size == 1 || b.size == 2 || b.size == 4 || b.size == 8)
			region_write(sp, b.addr, b.size, b.data);
		/* Served once what the writes changed (a command started, a
		 * timer armed) is published: at the batch's end, and every
		 * quarter ring, so that a vmm waiting on a full one goes on. */
		if (++n % (IOREQ_BUF_SLOTS / 4) == 0) {
			publish(dm);
			ioreq_dm_buffered_served(&dm->chan);
		}
	}
	if (n % (IOREQ_BUF_SLOTS / 4)) {
		publish(dm);
		ioreq_dm_buffered_served(&dm->chan);
	}
	dm->kick_later = kick_later;
	return n;
}

static unsigned serve_pending(struct dm *dm)
{
	struct ioreq q;
	unsigned n = 0;

	n += serve_buffered(dm);
	for (unsigned v = 0; v < dm->chan.n_vcpus; v++) {
		uint64_t data;
		if (!ioreq_dm_take(&dm->chan, v, &q))
			continue;
		/* Writes buffered before this request were published before
		 * it: serve them first, in order. */
		n += serve_buffered(dm);
		dm->kick_later = true;
		data = serve(dm, &q);
		publish(dm);
		dm->kick_later = false;
		if (!hostile_reply(dm, v, &q))
			ioreq_dm_reply(&dm->chan, v, data);
		dm->served++;
		n++;
	}
	return n;
}

/* SAVE: one STATE per device with state, then the empty end marker. */
static bool save_states(struct dm *dm)
{
	struct ctl_state end = {{CTL_STATE, sizeof(end), 0, 0}, {0}, 0, 0};
	const char *id;
	int r = 0;

	for (unsigned i = 0; r == 0; i++) {
		struct vs_buf b = {0};
		struct ctl_state *m;
		size_t len;
		r = dm_board_save(&dm->board, i, &id, &b);
		if (r == -ENOENT) {
			r = 0;
			break;
		}
		if (r == 0 && b.len == 0)
			continue;
		len = sizeof(*m) + b.len;
		m = r == 0 && len <= CTL_MAX_MSG ? calloc(1, len) : NULL;
		if (!m) {
			dm_fatal(dm, "device %s: its state (%zu bytes) cannot be sent", id, b.len);
			vs_buf_free(&b);
			return false;
		}
		*m = (struct ctl_state){{CTL_STATE, (uint32_t)len, 0, 0}, {0}, 0, 0};
		ctl_set_name(m->id, id);
		memcpy(m->data, b.data, b.len);
		r = ctl_send(dm->ctl, m, NULL, 0);
		free(m);
		vs_buf_free(&b);
	}
	return r == 0 && ctl_send(dm->ctl, &end, NULL, 0) == 0;
}

/* STATE from the vmm: held until LOAD, which applies all or none. */
static bool stage_state(struct dm *dm, const struct ctl_state *m, size_t len)
{
	struct dm_staged_state *st;
	if (len < sizeof(*m) || len != m->h.len || !memchr(m->id, 0, sizeof(m->id)) ||
	    dm->n_staged >= DM_MAX_DEVICES) {
		dm_fatal(dm, "a malformed device state from the vmm");
		return false;
	}
	st = &dm->staged[dm->n_staged];
	st->data = malloc(len - sizeof(*m) + 1);
	if (!st->data) {
		dm_fatal(dm, "out of memory for a device state");
		return false;
	}
	memcpy(st->id, m->id, sizeof(st->id));
	memcpy(st->data, m->data, len - sizeof(*m));
	st->len = len - sizeof(*m);
	dm->n_staged++;
	return true;
}

/* LOAD: every staged state checked first, then all applied, so a bad
 * one leaves every device as it was. 0 or -errno (said on stderr). */
static int load_states(struct dm *dm)
{
	char err[256] = "";
	int r = 0;

	for (unsigned pass = 0; pass < 2 && r == 0; pass++)
		for (unsigned i = 0; i < dm->n_staged && r == 0; i++)
			r = dm_board_load(&dm->board, dm->staged[i].id, dm->staged[i].data,
					  dm->staged[i].len, pass == 1, err, sizeof(err));
	if (r < 0)
		log_error("%s: state not loaded: %s", dm->name, err);
	for (unsigned i = 0; i < dm->n_staged; i++)
		free(dm->staged[i].data);
	dm->n_staged = 0;
	return r;
}

/* A control message while serving. Returns false when the dm should end. */
static bool control(struct dm *dm)
{
	union {
		struct ctl_hdr h;
		struct ctl_state s;
		uint8_t raw[CTL_MAX_MSG];
	} *m = malloc(sizeof(*m));
	int fds[CTL_MAX_FDS];
	unsigned nfd;
	ssize_t n;
	bool go_on = true;

	if (!m)
		return false;
	n = ctl_recv(dm->ctl, m, sizeof(*m), fds, CTL_MAX_FDS, &nfd);
	for (unsigned i = 0; i < nfd; i++)
		close(fds[i]);
	if (n <= 0) {
		free(m);
		return false; /* the vmm is gone */
	}
	switch (m->h.type) {
	case CTL_SAVE:
		go_on = save_states(dm);
		break;
	case CTL_STATE:
		go_on = stage_state(dm, &m->s, (size_t)n);
		break;
	/* What a load or a reset changed is published before the answer:
	 * the vmm's next read may take a published byte. */
	case CTL_LOAD: {
		struct ctl_hdr r = {CTL_LOAD_RESULT, sizeof(r), load_states(dm), 0};
		publish(dm);
		go_on = ctl_send(dm->ctl, &r, NULL, 0) == 0;
		break;
	}
	case CTL_RESET: {
		struct ctl_hdr r = {CTL_RESET, sizeof(r), 0, 0};
		dm_board_reset(&dm->board);
		publish(dm);
		go_on = ctl_send(dm->ctl, &r, NULL, 0) == 0;
		break;
	}
	case CTL_SHUTDOWN:
		go_on = false;
		break;
	default:
		dm_fatal(dm, "unexpected control message %u", m->h.type);
		go_on = false;
	}
	free(m);
	return go_on;
}

/* The spin window after a gap of `gap_ns` between the last answer and
 * the next request: a gap the window would have caught (or nearly)
 * widens it, a window that ran out halves it. So a guest in a burst of
 * I/O gets answers without a wake-up, and one that is quiet or computes
 * between accesses costs no spinning: a device model's CPU goes to the
 * requests it serves. */
static uint64_t spin_adapt(uint64_t spin_ns, uint64_t gap_ns)
{
	if (gap_ns < DM_SPIN_MAX_NS) {
		uint64_t want = gap_ns * 2 < 2000 ? 2000 : gap_ns * 2;
		if (want > spin_ns)
			spin_ns = want < DM_SPIN_MAX_NS ? want : DM_SPIN_MAX_NS;
		return spin_ns;
	}
	return spin_ns / 2 < 1000 ? 0 : spin_ns / 2;
}

/* Host input was served: it happened "now" on the vmm's clock as last
 * published (real input is not deterministic); the vmm hears of what it
 * caused. */
static void serve_input(struct dm *dm, const struct pollfd *p, unsigned n)
{
	uint64_t t = __atomic_load_n(&dm->chan.sh->vmm_now_ns, __ATOMIC_ACQUIRE);
	if (t > vclock_now(&dm->clock))
		clock_to(dm, t);
	/* A disk's read completes with an event for each piece of RAM it
	 * wrote, then its interrupt: one signal for all of them. */
	dm->kick_later = true;
	if (p)
		dm_board_input(&dm->board, p, n);
	else
		dm_board_input_ready(&dm->board);
	publish(dm);
	dm->kick_later = false;
	ioreq_dm_kick(&dm->chan);
}

int dm_serve(struct dm *dm)
{
	uint64_t idle_since = mono_ns(), spin_ns = DM_SPIN_MAX_NS, wake_spin_ns = 0;
	struct pollfd p[8 + IOREQ_MAX_VCPUS + 8];

	while (!dm->stop) {
		unsigned n = 0, nb, base;
		uint64_t now;
		int r;

		/* While this loop is awake (serving a guest that polls a
		 * busy device, or spinning for the next request), input its
		 * devices can see without a system call (a disk's completion)
		 * is served at once, not at the next sleep. Under -icount a
		 * completion's time is the device's timer's, not the host's. */
		if (!dm->icount && dm_board_ready(&dm->board))
			serve_input(dm, NULL, 0);
		if (serve_pending(dm)) {
			if (idle_since)
				spin_ns = spin_adapt(spin_ns, mono_ns() - idle_since);
			idle_since = 0;
			continue;
		}
		now = mono_ns();
		if (!idle_since)
			idle_since = now;
		/* A device waiting for the block backend sleeps: the
		 * backend then runs on this CPU, not beside the vCPU, and its
		 * answer wakes this loop through the front's pipe. */
		if ((now - idle_since < spin_ns || now - idle_since < wake_spin_ns) &&
		    !dm_board_waiting(&dm->board)) {
			/* No PAUSE: see cpu_relax() in ioreq/chan.c. */
			__asm__ volatile("" ::: "memory");
			continue;
		}
		p[n++] = (struct pollfd){dm->ctl, POLLIN, 0};
		p[n++] = (struct pollfd){dm->chan.buf_fd, POLLIN, 0};
		for (unsigned v = 0; v < dm->chan.n_vcpus; v++)
			p[n++] = (struct pollfd){dm->chan.req_fd[v], POLLIN, 0};
		base = n;
		nb = dm_board_poll_fds(&dm->board, p + n, 8);
		n += nb;
		dm_board_flush(&dm->board);
		/* Sleep until the vmm signals or host input arrives; a
		 * request is checked again first, so a signal sent before we
		 * got here is not lost (eventfds keep it). */
		if (!ioreq_dm_sleep_begin(&dm->chan)) {
			idle_since = 0;
			continue;
		}
		wake_spin_ns = 0;
		r = poll(p, n, -1);
		ioreq_dm_sleep_end(&dm->chan);
		if (r < 0)
			continue;
		spin_ns = spin_adapt(spin_ns, mono_ns() - idle_since);
		wake_spin_ns = DM_WAKE_SPIN_NS;
		idle_since = 0;
		if (p[0].revents && !control(dm))
			break;
		for (unsigned i = 1; i < base; i++) {
			if (p[i].revents & POLLIN) {
				uint64_t c;
				if (read(p[i].fd, &c, sizeof(c)) < 0)
					continue; /* a signal already consumed */
			}
		}
		if (nb)
			serve_input(dm, p + base, nb);
	}
	return dm->exit_code;
}
