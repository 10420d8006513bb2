/* qcow2 host cluster management: the metadata caches, refcount blocks of
 * every width (1 to 64 bits), allocation, and growing the refcount table.
 *
 * Crash ordering (the invariant qemu-img check verifies): on disk, a
 * cluster's refcount is never lower than the number of references to it.
 * So a refcount increase reaches the disk before the reference (dirty
 * refcount blocks are written and synced before any dirty L2 table), and
 * a reference is removed on disk before its refcount drops (callers write
 * and sync the L2 table, then call qcow2_free_range). A crash can then
 * only leave refcounts too high: leaked clusters, which check tolerates. */
#include "block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int qcow2_cache_init(struct qcow2 *s, struct qcow2_cache *c, unsigned n,
		     int is_l2)
{
	c->n = n;
	c->tick = 0;
	c->is_l2 = is_l2;
	/* Tables are allocated on first use: a deep backing chain of big
	 * clusters must not cost its whole cache budget per image up front. */
	c->e = calloc(n, sizeof(*c->e));
	return c->e ? 0 : -ENOMEM;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
	unsigned i;
	if (!c->e)
		return;
	for (i = 0; i < c->n; i++)
		free(c->e[i].data);
	free(c->e);
	c->e = NULL;
}

int qcow2_sync(struct qcow2 *s)
{
	if (fdatasync(s->blk.fd) < 0)
		return -errno;
	s->rc_unsynced = 0;
	return 0;
}

static int cache_write_entry(struct qcow2 *s, struct qcow2_cache *c,
			     struct qcow2_cache_entry *e)
{
	int ret;
	if (!e->dirty)
		return 0;
	if (c->is_l2) {
		/* An L2 entry may point at a cluster whose refcount is still
		 * only in the cache: refcounts first, durably. */
		ret = qcow2_rc_writeback(s);
		if (ret < 0)
			return ret;
		if (s->rc_unsynced) {
			ret = qcow2_sync(s);
			if (ret < 0)
				return ret;
		}
	}
	ret = blk_full_pwrite(s->blk.fd, e->data, s->cluster_size, e->offset);
	if (ret < 0)
		return ret;
	e->dirty = 0;
	if (!c->is_l2)
		s->rc_unsynced = 1;
	return 0;
}

int qcow2_cache_write_one(struct qcow2 *s, struct qcow2_cache *c,
			  const uint8_t *data)
{
	unsigned i;
	for (i = 0; i < c->n; i++) {
		if (c->e[i].data == data)
			return cache_write_entry(s, c, &c->e[i]);
	}
	return -EINVAL;
}

int qcow2_rc_writeback(struct qcow2 *s)
{
	unsigned i;
	int ret;
	for (i = 0; i < s->rbc.n; i++) {
		ret = cache_write_entry(s, &s->rbc, &s->rbc.e[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int qcow2_l2_writeback(struct qcow2 *s)
{
	unsigned i;
	int ret;
	for (i = 0; i < s->l2c.n; i++) {
		ret = cache_write_entry(s, &s->l2c, &s->l2c.e[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Returns the table at offset; with fresh, a zeroed table that is not read
 * from the file (a newly allocated cluster). Metadata must lie inside the
 * file: reading past its end is an I/O error, never zeros. */
int qcow2_cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t offset,
		    int fresh, uint8_t **data)
{
	struct qcow2_cache_entry *victim = NULL;
	unsigned i;
	int ret;

	if (!offset || (offset & (s->cluster_size - 1)))
		return -EIO;
	for (i = 0; i < c->n; i++) {
		struct qcow2_cache_entry *e = &c->e[i];
		if (e->offset == offset) {
			e->lru = ++c->tick;
			if (fresh)
				memset(e->data, 0, s->cluster_size);
			*data = e->data;
			return 0;
		}
		if (!victim || (!e->offset && victim->offset) ||
		    (e->offset && victim->offset && e->lru < victim->lru))
			victim = e;
	}
	if (victim->offset) {
		ret = cache_write_entry(s, c, victim);
		if (ret < 0)
			return ret;
		victim->offset = 0;
	}
	if (!victim->data) {
		victim->data = malloc(s->cluster_size);
		if (!victim->data)
			return -ENOMEM;
	}
	if (fresh) {
		memset(victim->data, 0, s->cluster_size);
	} else {
		ret = blk_full_pread(s->blk.fd, victim->data, s->cluster_size,
				     offset);
		if (ret < 0)
			return ret;
	}
	victim->offset = offset;
	victim->dirty = 0;
	victim->lru = ++c->tick;
	*data = victim->data;
	return 0;
}

int qcow2_cache_has(const struct qcow2_cache *c, uint64_t offset)
{
	unsigned i;
	for (i = 0; i < c->n; i++)
		if (c->e[i].offset == offset)
			return 1;
	return 0;
}

void qcow2_cache_mark_dirty(struct qcow2_cache *c, const uint8_t *data)
{
	unsigned i;
	for (i = 0; i < c->n; i++) {
		if (c->e[i].data == data) {
			c->e[i].dirty = 1;
			return;
		}
	}
}

uint64_t qcow2_rb_get(const struct qcow2 *s, const uint8_t *rb, uint64_t i)
{
	unsigned bits = s->refcount_bits;
	switch (bits) {
	case 8: return rb[i];
	case 16: return be16_get(rb + 2 * i);
	case 32: return be32_get(rb + 4 * i);
	case 64: return be64_get(rb + 8 * i);
	default: {
		/* Sub-byte widths: bit 0 is the least significant. */
		uint64_t bit = i * bits;
		return (rb[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
	}
	}
}

void qcow2_rb_set(const struct qcow2 *s, uint8_t *rb, uint64_t i, uint64_t v)
{
	unsigned bits = s->refcount_bits;
	switch (bits) {
	case 8: rb[i] = (uint8_t)v; break;
	case 16: be16_put(rb + 2 * i, (uint16_t)v); break;
	case 32: be32_put(rb + 4 * i, (uint32_t)v); break;
	case 64: be64_put(rb + 8 * i, v); break;
	default: {
		uint64_t bit = i * bits;
		unsigned mask = ((1u << bits) - 1) << (bit % 8);
		rb[bit / 8] = (uint8_t)((rb[bit / 8] & ~mask) |
					((v << (bit % 8)) & mask));
	}
	}
}

uint64_t qcow2_rc_max(const struct qcow2 *s)
{
	return s->refcount_bits == 64 ? UINT64_MAX :
	       (1ull << s->refcount_bits) - 1;
}

int qcow2_refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc)
{
	uint64_t ti = cluster / s->rb_entries, rbo;
	uint8_t *rb;
	int ret;

	*rc = 0;
	if (ti >= s->rt_size)
		return 0;
	rbo = s->rt[ti] & RTE_OFFSET_MASK;
	if (!rbo)
		return 0;
	ret = qcow2_cache_get(s, &s->rbc, rbo, 0, &rb);
	if (ret < 0)
		return ret;
	*rc = qcow2_rb_get(s, rb, cluster % s->rb_entries);
	return 0;
}

/* Metadata a write must never land on: the header cluster, the L1 and
 * refcount tables. Cheap insurance against tables that point at each
 * other in a damaged image. */
static int overlaps_fixed_metadata(const struct qcow2 *s, uint64_t off)
{
	uint64_t cs = s->cluster_size;
	if (off < cs)
		return 1;
	if (off + cs > s->l1_offset &&
	    off < s->l1_offset + (uint64_t)s->l1_disk_size * 8)
		return 1;
	if (off + cs > s->rt_offset &&
	    off < s->rt_offset + (uint64_t)s->rt_clusters * cs)
		return 1;
	return 0;
}

/* Writes a zeroed refcount block at cluster index `at`, counting itself if
 * it covers itself, and hooks it into table slot ti. */
static int rb_create(struct qcow2 *s, uint64_t ti, uint64_t at)
{
	uint64_t off = at << s->cluster_bits;
	uint8_t *rb, be[8];
	int ret;

	if (overlaps_fixed_metadata(s, off))
		return -EIO;
	ret = qcow2_cache_get(s, &s->rbc, off, 1, &rb);
	if (ret < 0)
		return ret;
	if (at / s->rb_entries == ti)
		qcow2_rb_set(s, rb, at % s->rb_entries, 1);
	qcow2_cache_mark_dirty(&s->rbc, rb);
	ret = qcow2_cache_write_one(s, &s->rbc, rb);
	if (ret < 0)
		return ret;
	/* The block's content before the pointer to it. */
	ret = qcow2_sync(s);
	if (ret < 0)
		return ret;
	be64_put(be, off);
	ret = blk_full_pwrite(s->blk.fd, be, 8, s->rt_offset + ti * 8);
	if (ret < 0)
		return ret;
	s->rt[ti] = off;
	if (off + s->cluster_size > s->file_end)
		s->file_end = off + s->cluster_size;
	return 0;
}

/* Moves the refcount table to the end of the image, bigger, with new
 * refcount blocks right after it covering the table and themselves. The
 * header switches to it in one 12-byte write once it is durable. */
static int rt_grow(struct qcow2 *s, uint64_t need_entries)
{
	uint64_t cs = s->cluster_size, rbe = s->rb_entries;
	uint64_t start = s->file_end >> s->cluster_bits;
	uint64_t entries, tclusters, nblocks = 0, first_ti, last_ti, i;
	uint64_t *nrt = NULL;
	uint8_t *buf = NULL, hdr[12];
	uint64_t old_off = s->rt_offset, old_clusters = s->rt_clusters;
	int ret;

	if (start < s->rt_size * rbe)
		start = s->rt_size * rbe;
	entries = s->rt_size * 2;
	if (entries < need_entries + 1)
		entries = need_entries + 1;
	/* Iterate: the table and its blocks must cover themselves. */
	for (i = 0; i < 8; i++) {
		tclusters = (entries * 8 + cs - 1) / cs;
		first_ti = start / rbe;
		last_ti = (start + tclusters + nblocks - 1) / rbe;
		if (last_ti + 1 > entries) {
			entries = last_ti + 1;
			continue;
		}
		if (last_ti - first_ti + 1 == nblocks)
			break;
		nblocks = last_ti - first_ti + 1;
	}
	if (i == 8 || tclusters * cs > QCOW2_MAX_RT_BYTES)
		return -EFBIG;
	entries = tclusters * cs / 8;

	nrt = calloc(entries, 8);
	buf = calloc(1, cs);
	if (!nrt || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(nrt, s->rt, s->rt_size * 8);
	for (i = 0; i < nblocks; i++) {
		uint64_t ti = first_ti + i, c;
		uint64_t boff = (start + tclusters + i) * cs;
		memset(buf, 0, cs);
		for (c = start; c < start + tclusters + nblocks; c++) {
			if (c / rbe == ti)
				qcow2_rb_set(s, buf, c % rbe, 1);
		}
		ret = blk_full_pwrite(s->blk.fd, buf, cs, boff);
		if (ret < 0)
			goto out;
		nrt[ti] = boff;
	}
	for (i = 0; i < tclusters; i++) {
		uint64_t j;
		for (j = 0; j < cs / 8; j++)
			be64_put(buf + j * 8, nrt[i * (cs / 8) + j]);
		ret = blk_full_pwrite(s->blk.fd, buf, cs, (start + i) * cs);
		if (ret < 0)
			goto out;
	}
	ret = qcow2_sync(s);
	if (ret < 0)
		goto out;
	be64_put(hdr, start * cs);
	be32_put(hdr + 8, (uint32_t)tclusters);
	ret = blk_full_pwrite(s->blk.fd, hdr, 12, QCOW2_HDR_RT_OFFSET);
	if (ret < 0)
		goto out;
	ret = qcow2_sync(s);
	if (ret < 0)
		goto out;
	free(s->rt);
	s->rt = nrt;
	nrt = NULL;
	s->rt_size = entries;
	s->rt_offset = start * cs;
	s->rt_clusters = (uint32_t)tclusters;
	s->file_end = (start + tclusters + nblocks) * cs;
	/* The old table is no longer referenced by the header. */
	ret = qcow2_free_range(s, old_off, old_clusters * cs);
out:
	free(buf);
	free(nrt);
	return ret;
}

int qcow2_refcount_update(struct qcow2 *s, uint64_t cluster, int delta)
{
	uint64_t ti = cluster / s->rb_entries, rbo, v;
	uint8_t *rb;
	int ret;

	if (ti >= s->rt_size) {
		if (delta < 0)
			return -EIO;
		ret = rt_grow(s, ti);
		if (ret < 0)
			return ret;
		if (ti >= s->rt_size)
			return -EIO;
	}
	rbo = s->rt[ti] & RTE_OFFSET_MASK;
	if (!rbo) {
		if (delta < 0)
			return -EIO;
		/* Every cluster this block covers is free: use the first
		 * one that is neither the one being counted nor metadata. */
		uint64_t at = ti * s->rb_entries, end = at + s->rb_entries;
		while (at < end && (at == cluster ||
				    overlaps_fixed_metadata(s, at << s->cluster_bits)))
			at++;
		if (at == end)
			return -EIO;
		ret = rb_create(s, ti, at);
		if (ret < 0)
			return ret;
		rbo = s->rt[ti];
	}
	ret = qcow2_cache_get(s, &s->rbc, rbo, 0, &rb);
	if (ret < 0)
		return ret;
	v = qcow2_rb_get(s, rb, cluster % s->rb_entries);
	if (delta > 0 && v == qcow2_rc_max(s))
		return -ERANGE;
	if (delta < 0 && v == 0)
		return -EIO;
	v = delta > 0 ? v + 1 : v - 1;
	qcow2_rb_set(s, rb, cluster % s->rb_entries, v);
	qcow2_cache_mark_dirty(&s->rbc, rb);
	if (v == 0 && cluster < s->free_hint)
		s->free_hint = cluster;
	return 0;
}

int qcow2_alloc_cluster(struct qcow2 *s, uint64_t *offset)
{
	uint64_t c = s->free_hint, rc;
	int ret;

	if (c == 0)
		c = 1;
	for (;; c++) {
		/* Past the end of the file only leaked clusters may still be
		 * counted; a long run of them means refcounts that alias each
		 * other, not an image: stop rather than scan forever. */
		uint64_t limit = (s->file_end >> s->cluster_bits) +
				 s->rb_entries + 65536;
		if ((c << s->cluster_bits) >= QCOW2_MAX_SIZE)
			return -ENOSPC;
		if (c > limit)
			return -EIO;
		ret = qcow2_refcount_get(s, c, &rc);
		if (ret < 0)
			return ret;
		if (rc || overlaps_fixed_metadata(s, c << s->cluster_bits))
			continue;
		if (c / s->rb_entries >= s->rt_size) {
			/* The grown table may land on c: look at c again. */
			ret = rt_grow(s, c / s->rb_entries);
			if (ret < 0)
				return ret;
			c--;
			continue;
		}
		ret = qcow2_refcount_update(s, c, 1);
		if (ret < 0)
			return ret;
		/* Creating a refcount block may have taken this cluster. */
		ret = qcow2_refcount_get(s, c, &rc);
		if (ret < 0)
			return ret;
		if (rc != 1)
			continue;
		break;
	}
	s->free_hint = c + 1;
	*offset = c << s->cluster_bits;
	if (*offset + s->cluster_size > s->file_end)
		s->file_end = *offset + s->cluster_size;
	return 0;
}

int qcow2_free_range(struct qcow2 *s, uint64_t off, uint64_t len)
{
	uint64_t c, first = off >> s->cluster_bits;
	uint64_t last = (off + len - 1) >> s->cluster_bits;
	int ret;
	if (!len)
		return 0;
	for (c = first; c <= last; c++) {
		ret = qcow2_refcount_update(s, c, -1);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int qcow2_ref_range(struct qcow2 *s, uint64_t off, uint64_t len)
{
	uint64_t c, first = off >> s->cluster_bits;
	uint64_t last = (off + len - 1) >> s->cluster_bits;
	int ret;
	if (!len)
		return 0;
	for (c = first; c <= last; c++) {
		ret = qcow2_refcount_update(s, c, 1);
		if (ret < 0)
			return ret;
	}
	return 0;
}
