/* A device model's board (see board.h): it creates each device from the
 * kind table (dev/kind.h), gives it a context (claims, lines, exit), and
 * runs the table's operations for reset, host input and teardown. It
 * knows no kind by name. */
#include "dm/board.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

_Static_assert((int)DEV_LINE_ISA0 == (int)IOREQ_LINE_ISA0 &&
	       (int)DEV_LINE_A20 == (int)IOREQ_LINE_A20 &&
	       (int)DEV_LINE_PIRQA == (int)IOREQ_LINE_PIRQA &&
	       (int)DEV_LINE_RESET == (int)IOREQ_LINE_COUNT,
	       "the kinds' line numbers are the protocol's");
_Static_assert((int)DEV_WIN_MOVE == (int)IOREQ_WIN_MOVE &&
	       (int)DEV_WIN_ENABLE == (int)IOREQ_WIN_ENABLE &&
	       (int)DEV_WIN_DISABLE == (int)IOREQ_WIN_DISABLE &&
	       (int)DEV_WIN_REMOVE == (int)IOREQ_WIN_REMOVE,
	       "window changes as the protocol's");
_Static_assert((int)DEV_SPACE_PIO == (int)CTL_SPACE_PIO &&
	       (int)DEV_SPACE_MMIO == (int)CTL_SPACE_MMIO &&
	       (int)DEV_SPACE_PCI == (int)CTL_SPACE_PCI &&
	       DEV_CLAIM_BUFFERED == CTL_CLAIM_BUFFERED && DEV_CLAIM_VRAM == CTL_CLAIM_VRAM,
	       "claims as the protocol's");
_Static_assert(CTL_STR_LEN == DEV_STR_MAX && CTL_MAX_PROPS == DEV_MAX_PROPS &&
	       CTL_NAME_LEN == DEV_NAME_MAX && DM_MAX_DEV_FDS == DEV_MAX_FDS,
	       "a DEVICE message holds a kind's properties");

/* One source of a board line: the device's irq_line points here, and the
 * board ORs the sources of each line. */
struct dm_line_src {
	struct dm_board *b;
	unsigned line;
	uint32_t bit;
};

struct dm_device {
	struct dev_ctx ctx; /* first: the context's callbacks find the device */
	const struct dev_kind *kind;
	struct dm_board *b;
	char id[DEV_NAME_MAX];
	int fds[DEV_MAX_FDS];
	unsigned n_fds;
	struct dm_line_src src[DEV_MAX_LINES];
	struct irq_line line[DEV_MAX_LINES];
	unsigned n_lines;
	void *dev; /* the kind's instance, kind->size bytes */
};

/* ---- lines ---- */

static void line_src_set(void *opaque, unsigned pin, bool level)
{
	struct dm_line_src *s = opaque;
	struct dm_board *b = s->b;
	uint32_t before = b->line_sources[s->line];
	uint32_t after = level ? before | s->bit : before & ~s->bit;

	b->line_sources[s->line] = after;
	if ((before != 0) != (after != 0))
		b->host->set_line(b->host_opaque, s->line, after != 0);
}

/* The reset output is an edge: a rising one asks for a system reset. */
static void reset_src_set(void *opaque, unsigned pin, bool level)
{
	struct dm_line_src *s = opaque;
	struct dm_board *b = s->b;
	if (level && !b->reset_level)
		b->host->reset(b->host_opaque);
	b->reset_level = level;
}

/* ---- what a device gets from the board ---- */

static const struct irq_line *ctx_line(const struct dev_ctx *c, unsigned line)
{
	struct dm_device *d = (struct dm_device *)c;
	struct dm_board *b = d->b;
	unsigned k = d->n_lines;

	if (k >= DEV_MAX_LINES || line >= DEV_LINE_COUNT)
		return NULL;
	d->n_lines++;
	if (line == DEV_LINE_RESET) {
		d->src[k] = (struct dm_line_src){b, 0, 0};
		d->line[k] = (struct irq_line){reset_src_set, &d->src[k], 0};
	} else {
		d->src[k] = (struct dm_line_src){b, line, 1u << (b->n_sources++ % 32)};
		d->line[k] = (struct irq_line){line_src_set, &d->src[k], line};
	}
	return &d->line[k];
}

static int ctx_claim(const struct dev_ctx *c, unsigned space, uint64_t base,
		     uint64_t len, unsigned flags, const struct io_ops *ops, void *opaque)
{
	struct dm_device *d = (struct dm_device *)c;
	return d->b->host->claim(d->b->host_opaque, space, base, len, flags, ops,
				 opaque, d->id);
}

static void ctx_exit(const struct dev_ctx *c, int status, const char *why)
{
	struct dm_device *d = (struct dm_device *)c;
	d->b->host->exit(d->b->host_opaque, status, why);
}

static int ctx_window(const struct dev_ctx *c, unsigned space, uint64_t base,
		      unsigned op, uint64_t new_base)
{
	struct dm_device *d = (struct dm_device *)c;
	return d->b->host->window(d->b->host_opaque, space, base, op, new_base);
}

/* Devices are in b->dev in creation order, the caller among them. */
static void *ctx_peer(const struct dev_ctx *c, const char *kind)
{
	struct dm_device *self = (struct dm_device *)c;
	struct dm_board *b = self->b;

	for (unsigned i = 0; i < b->n_dev; i++) {
		struct dm_device *d = b->dev[i];
		if (d != self && !strcmp(d->kind->name, kind))
			return d->dev;
	}
	return NULL;
}

/* ---- DEVICE messages ---- */

void dm_spec_to_msg(const struct dm_device_spec *s, struct ctl_device *m)
{
	const struct dev_kind *k = s->props.kind;

	memset(m, 0, sizeof(*m));
	m->h = (struct ctl_hdr){CTL_DEVICE, sizeof(*m), 0, 0};
	ctl_set_name(m->kind, k->name);
	ctl_set_name(m->id, s->id[0] ? s->id : k->name);
	m->n_fds = s->n_fds;
	/* Only the properties given: the dm applies the kind's defaults. */
	for (unsigned i = 0; i < k->n_props && i < CTL_MAX_PROPS; i++) {
		struct ctl_prop *p;
		if (!(s->props.given & (1u << i)))
			continue;
		p = &m->prop[m->n_props++];
		ctl_set_name(p->name, k->props[i].name);
		p->num = s->props.num[i];
		memcpy(p->str, s->props.str[i], CTL_STR_LEN);
		p->str[CTL_STR_LEN - 1] = 0;
	}
}

int dm_spec_from_msg(struct dm_device_spec *s, struct ctl_device *m, char *err,
		     size_t n)
{
	const struct dev_kind *k = dev_kind_find(ctl_name(m->kind));
	uint32_t seen = 0;

	if (!k || k->where != DEV_IN_DM)
		return err_say(err, n, -ENOENT, "no device kind '%s' in a device model",
			    ctl_name(m->kind));
	if (m->n_props > CTL_MAX_PROPS || m->n_fds > DEV_MAX_FDS)
		return err_say(err, n, -EINVAL, "%s: %u properties, %u descriptors", k->name,
			    m->n_props, m->n_fds);
	memset(s, 0, sizeof(*s));
	ctl_set_name(s->id, ctl_name(m->id));
	dev_props_init(&s->props, k);
	for (unsigned i = 0; i < m->n_props; i++) {
		struct ctl_prop *p = &m->prop[i];
		int j = dev_prop_find(k, ctl_name(p->name));
		if (j < 0 || (seen & (1u << j)))
			return err_say(err, n, -EINVAL, "%s: property '%s' unknown or repeated",
				    k->name, ctl_name(p->name));
		if (!memchr(p->str, 0, CTL_STR_LEN))
			return err_say(err, n, -EINVAL, "%s: property '%s' unterminated", k->name,
				    ctl_name(p->name));
		seen |= 1u << j;
		s->props.num[j] = p->num;
		memcpy(s->props.str[j], p->str, CTL_STR_LEN);
		s->props.given |= 1u << j;
	}
	return dev_props_check(&s->props, err, n);
}

/* ---- the board ---- */

void dm_board_init(struct dm_board *b, const struct dm_host_ops *host,
		   void *host_opaque, struct vclock *clock,
		   const struct dma_space *dma)
{
	memset(b, 0, sizeof(*b));
	b->host = host;
	b->host_opaque = host_opaque;
	b->clock = clock;
	b->dma = *dma;
}

static void close_fds(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n && i < DEV_MAX_FDS; i++)
		if (fds[i] > STDERR_FILENO)
			close(fds[i]);
}

int dm_board_add(struct dm_board *b, const struct dm_device_spec *s, char *err,
		 size_t errlen)
{
	const struct dev_kind *k = s->props.kind;
	struct dm_device *d;
	int r;

	if (!k || k->where != DEV_IN_DM) {
		char names[512];
		close_fds(s->fds, s->n_fds);
		dev_kind_names(names, sizeof(names), DEV_IN_DM, false);
		return err_say(err, errlen, -ENOENT, "'%s' is not a device-model kind (known: %s)",
			    k ? k->name : "?", names);
	}
	if (b->n_dev >= DM_MAX_DEVICES || s->n_fds > DEV_MAX_FDS) {
		close_fds(s->fds, s->n_fds);
		return err_say(err, errlen, -E2BIG, "too many devices or descriptors");
	}
	r = dev_props_check(&s->props, err, errlen);
	if (!r && k->check)
		r = k->check(&s->props, err, errlen);
	d = r < 0 ? NULL : calloc(1, sizeof(*d));
	if (d)
		d->dev = calloc(1, k->size ? k->size : 1);
	if (!d || !d->dev) {
		close_fds(s->fds, s->n_fds);
		if (d)
			free(d);
		return r < 0 ? r : err_say(err, errlen, -ENOMEM, "out of memory");
	}
	d->b = b;
	d->kind = k;
	ctl_set_name(d->id, s->id[0] ? s->id : k->name);
	d->n_fds = s->n_fds;
	memcpy(d->fds, s->fds, sizeof(int) * s->n_fds);
	d->ctx = (struct dev_ctx){d->id, b->clock, &b->dma, d->fds, d->n_fds, b,
				  ctx_claim, ctx_line, ctx_exit, ctx_window, b->icount,
				  ctx_peer};
	b->dev[b->n_dev++] = d;
	r = k->create(d->dev, &d->ctx, &s->props, err, errlen);
	if (r < 0 && !*err)
		err_say(err, errlen, r, "%s: %s", d->id, strerror(-r));
	if (r == 0 && ((k->ready && k->input) || k->waiting))
		b->shm_dev[b->n_shm_dev++] = d;
	return r;
}

void dm_board_flush(struct dm_board *b)
{
	for (unsigned i = 0; i < b->n_dev; i++)
		if (b->dev[i]->kind->flush)
			b->dev[i]->kind->flush(b->dev[i]->dev);
}

void dm_board_destroy(struct dm_board *b)
{
	dm_board_flush(b);
	for (unsigned i = b->n_dev; i-- > 0;) {
		struct dm_device *d = b->dev[i];
		if (d->kind->destroy)
			d->kind->destroy(d->dev);
		close_fds(d->fds, d->n_fds);
		free(d->dev);
		free(d);
	}
	b->n_dev = b->n_shm_dev = 0;
}

int dm_board_save(const struct dm_board *b, unsigned i, const char **id,
		  struct vs_buf *out)
{
	const struct dm_device *d;
	if (i >= b->n_dev)
		return -ENOENT;
	d = b->dev[i];
	*id = d->id;
	/* A request in flight is not state: wait for it first. */
	if (d->kind->quiesce)
		d->kind->quiesce(d->dev);
	return d->kind->state ? vs_save(d->kind->state, d->dev, out) : 0;
}

int dm_board_load(struct dm_board *b, const char *id, const void *data, size_t len,
		  bool apply, char *err, size_t n)
{
	for (unsigned i = 0; i < b->n_dev; i++) {
		struct dm_device *d = b->dev[i];
		struct vs_desc check_only;
		void *scratch;
		int r;
		if (strcmp(d->id, id))
			continue;
		if (!d->kind->state)
			return err_say(err, n, -EINVAL, "%s: a %s keeps no state", id,
				    d->kind->name);
		if (apply)
			return vs_load(d->kind->state, d->dev, d->kind->size, data, len,
				       err, n);
		/* A check decodes into a copy and re-arms nothing: the copy's
		 * timers and lines must not reach the clock or the board. */
		check_only = *d->kind->state;
		check_only.post_load = NULL;
		scratch = malloc(d->kind->size);
		if (!scratch)
			return err_say(err, n, -ENOMEM, "out of memory");
		memcpy(scratch, d->dev, d->kind->size);
		r = vs_load(&check_only, scratch, d->kind->size, data, len, err, n);
		free(scratch);
		return r;
	}
	return err_say(err, n, -ENOENT, "no device '%.64s' on this board", id);
}

void dm_board_reset(struct dm_board *b)
{
	for (unsigned i = 0; i < b->n_dev; i++)
		if (b->dev[i]->kind->reset)
			b->dev[i]->kind->reset(b->dev[i]->dev);
}

unsigned dm_board_poll_fds(struct dm_board *b, struct pollfd *p, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < b->n_dev && n < max; i++) {
		struct dm_device *d = b->dev[i];
		int fd = d->kind->input_fd ? d->kind->input_fd(d->dev) : -1;
		if (fd >= 0)
			p[n++] = (struct pollfd){fd, POLLIN, 0};
	}
	return n;
}

bool dm_board_ready(const struct dm_board *b)
{
	for (unsigned i = 0; i < b->n_shm_dev; i++) {
		const struct dm_device *d = b->shm_dev[i];
		if (d->kind->ready && d->kind->input && d->kind->ready(d->dev))
			return true;
	}
	return false;
}

bool dm_board_waiting(const struct dm_board *b)
{
	for (unsigned i = 0; i < b->n_shm_dev; i++) {
		const struct dm_device *d = b->shm_dev[i];
		if (d->kind->waiting && d->kind->waiting(d->dev))
			return true;
	}
	return false;
}

unsigned dm_board_input_ready(struct dm_board *b)
{
	unsigned served = 0;
	for (unsigned i = 0; i < b->n_shm_dev; i++) {
		struct dm_device *d = b->shm_dev[i];
		if (d->kind->ready && d->kind->input && d->kind->ready(d->dev))
			served += d->kind->input(d->dev, true);
	}
	return served;
}

unsigned dm_board_input(struct dm_board *b, const struct pollfd *p, unsigned n)
{
	unsigned served = 0;
	for (unsigned i = 0; i < b->n_dev; i++) {
		struct dm_device *d = b->dev[i];
		int fd;
		bool readable = false;
		if (!d->kind->input)
			continue;
		fd = d->kind->input_fd ? d->kind->input_fd(d->dev) : -1;
		for (unsigned j = 0; fd >= 0 && j < n; j++)
			if (p[j].fd == fd && p[j].revents)
				readable = true;
		served += d->kind->input(d->dev, readable);
	}
	return served;
}
