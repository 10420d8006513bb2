/* Repair of a dirty qcow2 image. With lazy refcounts (a compatible
 * feature) a writer may leave refcounts stale while the dirty bit is set;
 * we never do, but must take such an image from QEMU. Before writing to
 * it, every reference is recounted from the tables the way the
 * specification defines refcounts (one count per path from an L1 table:
 * the header, the active and each snapshot's L1 table, their L2 tables,
 * data and compressed clusters, the refcount table and blocks, the
 * snapshot table), refcount blocks are rewritten to match, copied flags
 * of the active tables are set where a count is exactly one, and only
 * then is the dirty bit cleared. A crash meanwhile leaves it set, so the
 * next open repairs again. The count array is bounded by the file size. */
#include "block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* One count per host cluster of the file; 32M clusters (128 MiB of
 * counts) is the largest file we repair in place. */
#define REPAIR_MAX_CLUSTERS (32u << 20)

struct counts {
	uint32_t *c;
	uint64_t n;
};

static int add(const struct qcow2 *s, struct counts *k, uint64_t off,
	       uint64_t len)
{
	uint64_t c, first = off >> s->cluster_bits;
	uint64_t last = (off + len - 1) >> s->cluster_bits;
	if (!len)
		return 0;
	if (off + len < off || last >= k->n)
		return -EIO;	/* a reference past the end of the file */
	for (c = first; c <= last; c++) {
		if (k->c[c] == UINT32_MAX)
			return -EIO;
		k->c[c]++;
	}
	return 0;
}

static int count_l2(const struct qcow2 *s, struct counts *k, const uint8_t *l2)
{
	uint32_t i;
	unsigned x = 62 - (s->cluster_bits - 8);
	int ret;

	for (i = 0; i < s->l2_entries; i++) {
		uint64_t e = be64_get(l2 + i * 8), off, len;
		if (e & OFLAG_COMPRESSED) {
			qcow2_compressed_range(s, e, &off, &len);
			if (off >> x)
				return -EIO;
			ret = add(s, k, off, len);
		} else {
			off = e & L2E_OFFSET_MASK;
			if (off & (s->cluster_size - 1))
				return -EIO;
			ret = off ? add(s, k, off, s->cluster_size) : 0;
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int count_l1(struct qcow2 *s, struct counts *k, uint64_t l1off,
		    uint32_t l1size, uint8_t *buf)
{
	uint64_t *l1;
	uint32_t i;
	int ret;

	if ((uint64_t)l1size * 8 > QCOW2_MAX_L1_BYTES ||
	    (l1off & (s->cluster_size - 1)))
		return -EIO;
	if (!l1size)
		return 0;
	l1 = malloc((size_t)l1size * 8);
	if (!l1)
		return -ENOMEM;
	ret = blk_full_pread(s->blk.fd, l1, (size_t)l1size * 8, l1off);
	if (ret == 0)
		ret = add(s, k, l1off, (uint64_t)l1size * 8);
	for (i = 0; i < l1size && ret == 0; i++) {
		uint64_t l2off = be64_get(&l1[i]) & L1E_OFFSET_MASK;
		if (!l2off)
			continue;
		if (l2off & (s->cluster_size - 1)) {
			ret = -EIO;
			break;
		}
		ret = add(s, k, l2off, s->cluster_size);
		if (ret == 0)
			ret = blk_full_pread(s->blk.fd, buf, s->cluster_size,
					     l2off);
		if (ret == 0)
			ret = count_l2(s, k, buf);
	}
	free(l1);
	return ret;
}

static int count_snapshots(struct qcow2 *s, struct counts *k, uint8_t *buf)
{
	uint64_t pos = s->snapshots_offset;
	uint32_t i;
	int ret;

	for (i = 0; i < s->nb_snapshots; i++) {
		uint8_t h[40];
		uint64_t len;
		ret = blk_full_pread(s->blk.fd, h, sizeof(h), pos);
		if (ret < 0)
			return ret;
		len = 40 + (uint64_t)be32_get(h + 36) + be16_get(h + 12) +
		      be16_get(h + 14);
		len = (len + 7) & ~7ull;
		ret = count_l1(s, k, be64_get(h), be32_get(h + 8), buf);
		if (ret < 0)
			return ret;
		pos += len;
	}
	return add(s, k, s->snapshots_offset, pos - s->snapshots_offset);
}

/* Sets the copied flags of the active tables from the counts. */
static int fix_copied(struct qcow2 *s, const struct counts *k, uint8_t *buf)
{
	uint32_t i, j;
	int ret;

	for (i = 0; i < s->l1_disk_size; i++) {
		uint8_t be[8];
		uint64_t e, l2off, want;
		int dirty = 0;

		ret = blk_full_pread(s->blk.fd, be, 8, s->l1_offset + i * 8ull);
		if (ret < 0)
			return ret;
		e = be64_get(be);
		l2off = e & L1E_OFFSET_MASK;
		if (!l2off)
			continue;
		want = k->c[l2off >> s->cluster_bits] == 1 ? OFLAG_COPIED : 0;
		if ((e & OFLAG_COPIED) != want) {
			be64_put(be, (e & ~OFLAG_COPIED) | want);
			ret = blk_full_pwrite(s->blk.fd, be, 8,
					      s->l1_offset + i * 8ull);
			if (ret < 0)
				return ret;
		}
		ret = blk_full_pread(s->blk.fd, buf, s->cluster_size, l2off);
		if (ret < 0)
			return ret;
		for (j = 0; j < s->l2_entries; j++) {
			uint64_t l2e = be64_get(buf + j * 8), host;
			if (l2e & OFLAG_COMPRESSED)
				continue;
			host = l2e & L2E_OFFSET_MASK;
			if (!host)
				continue;
			want = k->c[host >> s->cluster_bits] == 1 ? OFLAG_COPIED : 0;
			if ((l2e & OFLAG_COPIED) != want) {
				be64_put(buf + j * 8, (l2e & ~OFLAG_COPIED) | want);
				dirty = 1;
			}
		}
		if (dirty) {
			ret = blk_full_pwrite(s->blk.fd, buf, s->cluster_size,
					      l2off);
			if (ret < 0)
				return ret;
		}
	}
	for (i = 0; i < s->l1_size; i++) {
		uint8_t be[8];
		ret = blk_full_pread(s->blk.fd, be, 8, s->l1_offset + i * 8ull);
		if (ret < 0)
			return ret;
		s->l1[i] = be64_get(be);
	}
	return 0;
}

/* Rewrites every refcount block that disagrees with the counts. */
static int write_counts(struct qcow2 *s, const struct counts *k, uint8_t *buf)
{
	uint64_t i, j;
	int ret;

	for (i = 0; i < s->rt_size; i++) {
		uint64_t rbo = s->rt[i] & RTE_OFFSET_MASK;
		int dirty = 0;
		if (!rbo)
			continue;
		ret = blk_full_pread(s->blk.fd, buf, s->cluster_size, rbo);
		if (ret < 0)
			return ret;
		for (j = 0; j < s->rb_entries; j++) {
			uint64_t c = i * s->rb_entries + j;
			uint64_t want = c < k->n ? k->c[c] : 0;
			if (want > qcow2_rc_max(s))
				return -ERANGE;
			if (qcow2_rb_get(s, buf, j) != want) {
				qcow2_rb_set(s, buf, j, want);
				dirty = 1;
			}
		}
		if (dirty) {
			ret = blk_full_pwrite(s->blk.fd, buf, s->cluster_size,
					      rbo);
			if (ret < 0)
				return ret;
		}
	}
	/* A counted cluster that no refcount block covers: we would have to
	 * allocate while the counts are untrusted. Leave that to qemu-img. */
	for (i = 0; i < k->n; i++) {
		uint64_t ti = i / s->rb_entries;
		if (!k->c[i])
			continue;
		if (ti >= s->rt_size || !(s->rt[ti] & RTE_OFFSET_MASK))
			return -EIO;
	}
	return 0;
}

int qcow2_repair(struct qcow2 *s)
{
	struct counts k = { 0 };
	uint8_t *buf = NULL, be[8];
	uint64_t i;
	int ret;

	k.n = s->file_end >> s->cluster_bits;
	if (k.n > REPAIR_MAX_CLUSTERS)
		return -EFBIG;
	k.c = calloc(k.n ? k.n : 1, sizeof(*k.c));
	buf = malloc(s->cluster_size);
	if (!k.c || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* Bitmaps are not ours to keep consistent: invalidate them first, so
	 * their clusters need not be counted. */
	if (s->version >= 3 && s->autoclear) {
		memset(be, 0, 8);
		ret = blk_full_pwrite(s->blk.fd, be, 8, QCOW2_HDR_AUTOCLEAR);
		if (ret < 0)
			goto out;
		s->autoclear = 0;
	}
	ret = add(s, &k, 0, s->cluster_size);
	if (ret == 0)
		ret = count_l1(s, &k, s->l1_offset, s->l1_disk_size, buf);
	if (ret == 0 && s->nb_snapshots)
		ret = count_snapshots(s, &k, buf);
	if (ret == 0)
		ret = add(s, &k, s->rt_offset,
			  (uint64_t)s->rt_clusters * s->cluster_size);
	for (i = 0; i < s->rt_size && ret == 0; i++) {
		uint64_t rbo = s->rt[i] & RTE_OFFSET_MASK;
		if (rbo)
			ret = add(s, &k, rbo, s->cluster_size);
	}
	if (ret == 0)
		ret = write_counts(s, &k, buf);
	if (ret == 0)
		ret = fix_copied(s, &k, buf);
	if (ret == 0)
		ret = qcow2_sync(s);
	if (ret < 0)
		goto out;
	s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
	be64_put(be, s->incompat);
	ret = blk_full_pwrite(s->blk.fd, be, 8, QCOW2_HDR_INCOMPAT);
	if (ret == 0)
		ret = qcow2_sync(s);
out:
	free(k.c);
	free(buf);
	return ret;
}
