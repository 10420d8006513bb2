/* The region map (see region.h): the regions as added, and the flat view
 * rebuilt from them at every change; accesses and lookups only read the
 * flat view. */
#include "mem/region.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define PORT_SPACE 0x10000ull

int region_map_init(struct region_map *m, const char *name, uint64_t limit)
{
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->limit = limit;
	if (limit && limit <= PORT_SPACE) {
		m->by_port = calloc(limit, sizeof(*m->by_port));
		if (!m->by_port)
			return -ENOMEM;
	}
	return 0;
}

void region_map_destroy(struct region_map *m)
{
	for (size_t i = 0; i < m->n_reg; i++) {
		free(m->reg[i]->dirty);
		free(m->reg[i]);
	}
	free(m->reg);
	free(m->flat);
	free(m->by_port);
	m->reg = NULL;
	m->flat = NULL;
	m->by_port = NULL;
	m->hint = NULL;
	m->n_reg = m->cap_reg = m->n_flat = 0;
}

void region_map_set_listener(struct region_map *m, const struct region_listener *l)
{
	m->listener = *l;
}

static uint64_t end_of(const struct region *r)
{
	return r->d.base + r->d.size;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

const struct region *region_overlap(const struct region_map *m, uint64_t base,
				    uint64_t size, int priority,
				    const struct region *self)
{
	for (size_t i = 0; i < m->n_reg; i++) {
		const struct region *o = m->reg[i];
		if (o != self && o->d.enabled && o->d.priority == priority &&
		    overlaps(base, size, o->d.base, o->d.size))
			return o;
	}
	return NULL;
}

/* ---- the flat view ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The flat view from scratch: the edges of every enabled region cut the
 * space into pieces; each piece goes to the highest-priority region over
 * it; neighbouring pieces of one region join again. Quadratic in the
 * number of regions, which stays small (tens), and only run on a change. */
static int flatten(struct region_map *m)
{
	size_t n_edges = 0, n = 0;
	uint64_t *edges = malloc((2 * m->n_reg + 1) * sizeof(*edges));
	struct region_flat *flat = malloc((2 * m->n_reg + 1) * sizeof(*flat));

	if (!edges || !flat) {
		free(edges);
		free(flat);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_reg; i++) {
		if (!m->reg[i]->d.enabled)
			continue;
		edges[n_edges++] = m->reg[i]->d.base;
		edges[n_edges++] = end_of(m->reg[i]);
	}
	qsort(edges, n_edges, sizeof(*edges), cmp_u64);
	for (size_t e = 0; e + 1 < n_edges; e++) {
		uint64_t lo = edges[e], hi = edges[e + 1];
		struct region *best = NULL;
		if (lo == hi)
			continue;
		for (size_t i = 0; i < m->n_reg; i++) {
			struct region *r = m->reg[i];
			if (r->d.enabled && r->d.base <= lo && hi <= end_of(r) &&
			    (!best || r->d.priority > best->d.priority))
				best = r;
		}
		if (!best)
			continue;
		if (n && flat[n - 1].via == best && flat[n - 1].end == lo) {
			flat[n - 1].end = hi;
			continue;
		}
		flat[n] = (struct region_flat){lo, hi, lo - best->d.base, best, best};
		if (best->d.kind == REGION_ALIAS) {
			flat[n].r = best->d.target;
			flat[n].off += best->d.offset;
		}
		n++;
	}
	free(edges);
	free(m->flat);
	m->hint = NULL;
	m->flat = flat;
	m->n_flat = n;
	if (m->by_port) {
		memset(m->by_port, 0, m->limit * sizeof(*m->by_port));
		for (size_t i = 0; i < n; i++)
			for (uint64_t a = flat[i].start; a < flat[i].end; a++)
				m->by_port[a] = (uint32_t)(i + 1);
	}
	m->generation++;
	return 0;
}

/* A change over [start, end) is made: the flat view follows, and whoever
 * caches it hears. On -ENOMEM the caller undoes the change. */
static int changed(struct region_map *m, uint64_t start, uint64_t end)
{
	int r = flatten(m);
	if (r == 0 && m->listener.changed)
		m->listener.changed(m->listener.opaque, start, end);
	return r;
}

const struct region_flat *region_find(const struct region_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n_flat;

	if (m->by_port) {
		unsigned i = addr < m->limit ? m->by_port[addr] : 0;
		return i ? &m->flat[i - 1] : NULL;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->flat[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->n_flat && m->flat[lo].start <= addr)
		return &m->flat[lo];
	return NULL;
}

/* region_find() for the access paths: the last range found first. */
static inline const struct region_flat *find_hinted(struct region_map *m, uint64_t addr)
{
	const struct region_flat *f = m->hint;
	if (f && addr - f->start < f->end - f->start)
		return f;
	f = region_find(m, addr);
	if (f && !m->by_port)
		m->hint = f;
	return f;
}

/* ---- changes ---- */

static bool has_bytes(enum region_kind k)
{
	return k == REGION_RAM || k == REGION_ROM;
}

/* Range, alignment and overlap rules for a region at `base`. */
static int check_place(const struct region_map *m, const struct region_desc *d,
		       uint64_t base, const struct region *self)
{
	const struct region *t = d->kind == REGION_ALIAS ? d->target : NULL;
	bool paged = has_bytes(d->kind) || (t && has_bytes(t->d.kind));

	if (d->size == 0 || base + d->size < base || (m->limit && base + d->size > m->limit))
		return -EINVAL;
	if (paged && ((base | d->size | (t ? d->offset : 0)) & (REGION_PAGE - 1)))
		return -EINVAL;
	if (d->enabled && region_overlap(m, base, d->size, d->priority, self))
		return -EBUSY;
	return 0;
}

int region_add(struct region_map *m, const struct region_desc *d,
	       struct region **out)
{
	struct region_desc dd = *d;
	struct region *r;
	int err;

	if (dd.kind == REGION_ALIAS) {
		struct region *t = dd.target;
		if (!t || t->map != m || dd.offset + dd.size < dd.offset ||
		    dd.offset + dd.size > t->d.size)
			return -EINVAL;
		/* An alias of an alias shows the final target. */
		if (t->d.kind == REGION_ALIAS) {
			dd.offset += t->d.offset;
			dd.target = t->d.target;
		}
	} else if ((has_bytes(dd.kind) && !dd.host) || (dd.kind == REGION_IO && !dd.ops) ||
		   dd.kind > REGION_ALIAS) {
		return -EINVAL;
	}
	err = check_place(m, &dd, dd.base, NULL);
	if (err)
		return err;
	if (m->n_reg == m->cap_reg) {
		size_t cap = m->cap_reg ? m->cap_reg * 2 : 16;
		struct region **a = realloc(m->reg, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		m->reg = a;
		m->cap_reg = cap;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->d = dd;
	r->map = m;
	m->reg[m->n_reg++] = r;
	err = dd.enabled ? changed(m, dd.base, dd.base + dd.size) : 0;
	if (err) {
		m->n_reg--;
		free(r);
		return err;
	}
	if (dd.kind == REGION_ALIAS)
		dd.target->aliases++;
	if (out)
		*out = r;
	return 0;
}

int region_claim(struct region_map *m, uint64_t base, uint64_t len,
		 const struct io_ops *ops, void *opaque, const char *name)
{
	struct region_desc d = {.name = name, .kind = REGION_IO, .base = base,
				.size = len, .enabled = true, .ops = ops, .opaque = opaque};
	int r = region_add(m, &d, NULL);
	const struct region *o;

	if (r == -EBUSY && (o = region_overlap(m, base, len, 0, NULL)) != NULL)
		log_error("%s %#llx-%#llx for %s overlaps %#llx-%#llx of %s", m->name,
			  (unsigned long long)base, (unsigned long long)(base + len - 1), name,
			  (unsigned long long)o->d.base,
			  (unsigned long long)(o->d.base + o->d.size - 1), o->d.name);
	return r;
}

int region_move(struct region_map *m, struct region *r, uint64_t base)
{
	uint64_t old = r->d.base;
	int err;

	if (base == old)
		return 0;
	err = check_place(m, &r->d, base, r);
	if (err)
		return err;
	r->d.base = base;
	if (!r->d.enabled)
		return 0;
	err = changed(m, old < base ? old : base,
		      (old > base ? old : base) + r->d.size);
	if (err)
		r->d.base = old;
	return err;
}

int region_set_enabled(struct region_map *m, struct region *r, bool on)
{
	int err;

	if (r->d.enabled == on)
		return 0;
	if (on && region_overlap(m, r->d.base, r->d.size, r->d.priority, r))
		return -EBUSY;
	r->d.enabled = on;
	err = changed(m, r->d.base, end_of(r));
	if (err)
		r->d.enabled = !on;
	return err;
}

int region_remove(struct region_map *m, struct region *r)
{
	size_t i;
	bool was = r->d.enabled;

	if (r->aliases)
		return -EBUSY;
	for (i = 0; i < m->n_reg && m->reg[i] != r; i++)
		;
	if (i == m->n_reg)
		return -EINVAL;
	/* Out of the view first: the removal itself cannot fail after. */
	if (was) {
		r->d.enabled = false;
		if (changed(m, r->d.base, end_of(r)) < 0) {
			r->d.enabled = true;
			return -ENOMEM;
		}
	}
	memmove(&m->reg[i], &m->reg[i + 1], (m->n_reg - i - 1) * sizeof(*m->reg));
	m->n_reg--;
	if (r->d.kind == REGION_ALIAS)
		r->d.target->aliases--;
	free(r->dirty);
	free(r);
	return 0;
}

/* ---- dirty pages ---- */

static size_t dirty_words(const struct region *r)
{
	return (size_t)((r->d.size / REGION_PAGE + 63) / 64);
}

int region_log_start(struct region *r)
{
	if (r->d.kind != REGION_RAM)
		return -EINVAL;
	if (r->dirty)
		return 0;
	r->dirty = calloc(dirty_words(r), sizeof(uint64_t));
	if (!r->dirty)
		return -ENOMEM;
	/* Mappings handed out before were never marked. */
	if (r->map->listener.revoke_writes)
		r->map->listener.revoke_writes(r->map->listener.opaque);
	return 0;
}

void region_log_stop(struct region *r)
{
	free(r->dirty);
	r->dirty = NULL;
}

int region_dirty_fetch(struct region *r, uint64_t *bits, size_t words)
{
	size_t n = dirty_words(r);
	uint64_t any = 0;

	if (!r->dirty || words < n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		bits[i] = r->dirty[i];
		any |= bits[i];
	}
	/* A write mapping is only handed out with its page's bit set: with
	 * no bit set there is none to take back (a display polling an
	 * unchanged screen costs the vCPU no TLB flush). */
	if (!any)
		return 0;
	memset(r->dirty, 0, n * sizeof(*bits));
	if (r->map->listener.revoke_writes)
		r->map->listener.revoke_writes(r->map->listener.opaque);
	return 0;
}

/* Marks bytes [off, off + len) of RAM region r. */
static void mark(struct region *r, uint64_t off, uint64_t len)
{
	if (!r->dirty || !len)
		return;
	for (uint64_t pg = off / REGION_PAGE; pg <= (off + len - 1) / REGION_PAGE; pg++)
		r->dirty[pg / 64] |= 1ull << (pg % 64);
}

void region_mark_dirty(struct region_map *m, uint64_t addr, uint64_t len)
{
	while (len) {
		const struct region_flat *f = region_find(m, addr);
		uint64_t n;
		if (!f) {
			/* Skip to the next range (or give up past the last). */
			size_t i;
			for (i = 0; i < m->n_flat && m->flat[i].end <= addr; i++)
				;
			if (i == m->n_flat || m->flat[i].start - addr >= len)
				return;
			len -= m->flat[i].start - addr;
			addr = m->flat[i].start;
			continue;
		}
		n = f->end - addr < len ? f->end - addr : len;
		if (f->r->d.kind == REGION_RAM)
			mark(f->r, f->off + (addr - f->start), n);
		addr += n;
		len -= n;
	}
}

uint8_t *region_ram_page(struct region_map *m, uint64_t paddr, bool write)
{
	const struct region_flat *f = find_hinted(m, paddr);
	struct region *r;
	uint64_t off;

	if (!f || f->end - paddr < REGION_PAGE)
		return NULL;
	r = f->r;
	if (r->d.kind != REGION_RAM && (r->d.kind != REGION_ROM || write))
		return NULL;
	off = f->off + (paddr - f->start);
	if (write && r->dirty)
		r->dirty[off / REGION_PAGE / 64] |= 1ull << (off / REGION_PAGE % 64);
	return r->d.host + off;
}

int region_rom_write(struct region *r, uint64_t off, const void *src, uint64_t len)
{
	if (!has_bytes(r->d.kind) || off + len < off || off + len > r->d.size)
		return -EINVAL;
	memcpy(r->d.host + off, src, len);
	mark(r, off, len);
	return 0;
}

/* ---- accesses ---- */

static unsigned size_bit(unsigned size)
{
	return size == 1 ? IO_SIZE_1 : size == 2 ? IO_SIZE_2 :
	       size == 4 ? IO_SIZE_4 : size == 8 ? IO_SIZE_8 : 0;
}

/* The widest implemented size not above `size`, or 0. */
static unsigned impl_at_most(const struct io_ops *ops, unsigned size)
{
	for (unsigned sz = size; sz; sz >>= 1)
		if (ops->impl_sizes & size_bit(sz))
			return sz;
	return 0;
}

/* An access to a window's registers with a size the guest may use. */
static uint64_t io_read(const struct io_ops *ops, void *opaque, uint64_t off,
			unsigned size)
{
	unsigned part;
	uint64_t v = 0;

	if (ops->impl_sizes & size_bit(size))
		return ops->read(opaque, off, size) & size_mask_bytes(size);
	part = impl_at_most(ops, size);
	if (part) {
		/* Split into narrower implemented accesses. */
		for (unsigned i = 0; i < size; i += part)
			v |= (ops->read(opaque, off + i, part) & size_mask_bytes(part))
			     << (8 * i);
		return v;
	}
	/* Only wider accesses are implemented: widen, aligned, and pick
	 * the bytes out. */
	for (part = size * 2; part <= 8; part *= 2) {
		if (ops->impl_sizes & size_bit(part)) {
			uint64_t aligned = off & ~(uint64_t)(part - 1);
			uint64_t wide = ops->read(opaque, aligned, part);
			return (wide >> (8 * (off - aligned))) & size_mask_bytes(size);
		}
	}
	return size_mask_bytes(size);
}

static void io_write(const struct io_ops *ops, void *opaque, uint64_t off,
		     unsigned size, uint64_t v)
{
	unsigned part;

	if (ops->impl_sizes & size_bit(size)) {
		ops->write(opaque, off, size, v & size_mask_bytes(size));
		return;
	}
	part = impl_at_most(ops, size);
	if (part) {
		for (unsigned i = 0; i < size; i += part)
			ops->write(opaque, off + i, part, (v >> (8 * i)) & size_mask_bytes(part));
		return;
	}
	/* Only wider writes are implemented: read, merge, write back. */
	for (part = size * 2; part <= 8; part *= 2) {
		if (ops->impl_sizes & size_bit(part)) {
			uint64_t aligned = off & ~(uint64_t)(part - 1);
			unsigned sh = (unsigned)(8 * (off - aligned));
			uint64_t wide = ops->read(opaque, aligned, part);
			wide &= ~(size_mask_bytes(size) << sh);
			wide |= (v & size_mask_bytes(size)) << sh;
			ops->write(opaque, aligned, part, wide);
			return;
		}
	}
}

/* Whether range f takes an access of `size` bytes whole. */
static bool accepts(const struct region_flat *f, unsigned size)
{
	return f->r->d.kind != REGION_IO || (f->r->d.ops->valid_sizes & size_bit(size));
}

static uint64_t flat_read(const struct region_flat *f, uint64_t addr, unsigned size)
{
	const struct region *r = f->r;
	uint64_t off = f->off + (addr - f->start), v = 0;

	if (r->d.kind == REGION_IO)
		return io_read(r->d.ops, r->d.opaque, off, size);
	memcpy(&v, r->d.host + off, size);
	return v;
}

static void flat_write(struct region_map *m, const struct region_flat *f,
		       uint64_t addr, unsigned size, uint64_t v)
{
	struct region *r = f->r;
	uint64_t off = f->off + (addr - f->start);

	switch (r->d.kind) {
	case REGION_IO:
		io_write(r->d.ops, r->d.opaque, off, size, v);
		break;
	case REGION_RAM:
		memcpy(r->d.host + off, &v, size);
		mark(r, off, size);
		if (m->listener.ram_written)
			m->listener.ram_written(m->listener.opaque, addr, size);
		break;
	default:
		break; /* ROM: the guest cannot write it */
	}
}

uint64_t region_read(struct region_map *m, uint64_t addr, unsigned size)
{
	const struct region_flat *f = find_hinted(m, addr);
	uint64_t v = 0;

	if (likely(f && size <= f->end - addr && accepts(f, size)))
		return flat_read(f, addr, size);
	if (!f) {
		/* Nothing decodes the address: the whole access goes
		 * unanswered, never split onto a neighbour (a dword at an
		 * unclaimed 0xcf8 must not write 0xcf9). */
		m->unclaimed_reads++;
		return size_mask_bytes(size);
	}
	/* Straddling or an unaccepted size: byte by byte. */
	for (unsigned i = 0; i < size; i++) {
		const struct region_flat *b = region_find(m, addr + i);
		uint64_t byte;
		if (b && accepts(b, 1)) {
			byte = flat_read(b, addr + i, 1);
		} else {
			m->unclaimed_reads++;
			byte = 0xff;
		}
		v |= (byte & 0xff) << (8 * i);
	}
	return v;
}

void region_write(struct region_map *m, uint64_t addr, unsigned size, uint64_t v)
{
	const struct region_flat *f = find_hinted(m, addr);

	if (likely(f && size <= f->end - addr && accepts(f, size))) {
		flat_write(m, f, addr, size, v);
		return;
	}
	if (!f) {
		m->unclaimed_writes++;
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		const struct region_flat *b = region_find(m, addr + i);
		if (b && accepts(b, 1))
			flat_write(m, b, addr + i, 1, (v >> (8 * i)) & 0xff);
		else
			m->unclaimed_writes++;
	}
}
