/* Creating an empty qcow2 image (QEMU's docs/interop/qcow2.txt), the
 * smallest correct one: a version 3 header with 64 KiB clusters and
 * 16-bit refcounts, an optional backing file name and format, an L1
 * table of zeros, one refcount table cluster and one refcount block
 * counting the metadata clusters. The layout, cluster by cluster:
 *   0  header, header extensions, backing file name
 *   1  refcount table (entry 0 -> cluster 2)
 *   2  refcount block (clusters 0 .. 2 + L1 clusters at refcount 1)
 *   3+ L1 table
 * The formats grow the rest (L2 tables, data, more refcount blocks) as
 * they write. */
#include "block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CREATE_CLUSTER_BITS 16
#define CREATE_CLUSTER ((uint64_t)1 << CREATE_CLUSTER_BITS)
#define CREATE_REFCOUNT_ORDER 4	/* 16-bit refcounts, QEMU's default */
#define CREATE_HEADER_LEN 104
#define EXT_BACKING_FORMAT 0xe2792acau

int qcow2_create(int fd, uint64_t size, const char *backing,
		 const char *backing_fmt)
{
	const uint64_t l2_entries = CREATE_CLUSTER / 8;
	const uint64_t rb_entries = CREATE_CLUSTER * 8 / (1u << CREATE_REFCOUNT_ORDER);
	uint64_t l1_size, l1_clusters, n_meta, l1_off;
	size_t backing_len = backing ? strlen(backing) : 0;
	size_t fmt_len = backing_fmt ? strlen(backing_fmt) : 0;
	uint8_t *c;
	uint32_t pos;
	int r;

	if (size > QCOW2_MAX_SIZE || (size & 511) ||
	    (backing && (!backing[0] || backing_len > 1023)) ||
	    (!backing && backing_fmt) || fmt_len > 31)
		return -EINVAL;
	l1_size = (size + CREATE_CLUSTER * l2_entries - 1) /
		  (CREATE_CLUSTER * l2_entries);
	if (l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	l1_clusters = (l1_size * 8 + CREATE_CLUSTER - 1) / CREATE_CLUSTER;
	n_meta = 3 + l1_clusters;
	/* One refcount block covers the metadata of any size we accept. */
	if (n_meta > rb_entries)
		return -EFBIG;
	l1_off = 3 * CREATE_CLUSTER;

	c = calloc(1, CREATE_CLUSTER);
	if (!c)
		return -ENOMEM;
	/* Zeros everywhere first (the L1 table and the unused parts), then
	 * the three clusters that say something. */
	if (ftruncate(fd, 0) < 0 ||
	    ftruncate(fd, (off_t)(n_meta * CREATE_CLUSTER)) < 0) {
		r = -errno;
		goto out;
	}

	be32_put(c + 0, QCOW2_MAGIC);
	be32_put(c + 4, 3);
	be32_put(c + 20, CREATE_CLUSTER_BITS);
	be64_put(c + 24, size);
	be32_put(c + 36, (uint32_t)l1_size);
	be64_put(c + 40, l1_off);
	be64_put(c + QCOW2_HDR_RT_OFFSET, CREATE_CLUSTER);
	be32_put(c + 56, 1);		/* refcount table clusters */
	be32_put(c + 96, CREATE_REFCOUNT_ORDER);
	be32_put(c + 100, CREATE_HEADER_LEN);
	pos = CREATE_HEADER_LEN;
	if (fmt_len) {
		be32_put(c + pos, EXT_BACKING_FORMAT);
		be32_put(c + pos + 4, (uint32_t)fmt_len);
		memcpy(c + pos + 8, backing_fmt, fmt_len);
		pos += 8 + (((uint32_t)fmt_len + 7) & ~7u);
	}
	pos += 8;			/* the end extension: type 0, length 0 */
	if (backing_len) {
		be64_put(c + 8, pos);
		be32_put(c + 16, (uint32_t)backing_len);
		memcpy(c + pos, backing, backing_len);
	}
	r = blk_full_pwrite(fd, c, CREATE_CLUSTER, 0);
	if (r < 0)
		goto out;

	memset(c, 0, CREATE_CLUSTER);
	be64_put(c, 2 * CREATE_CLUSTER);
	r = blk_full_pwrite(fd, c, CREATE_CLUSTER, CREATE_CLUSTER);
	if (r < 0)
		goto out;

	memset(c, 0, CREATE_CLUSTER);
	for (uint64_t i = 0; i < n_meta; i++)
		be16_put(c + 2 * i, 1);
	r = blk_full_pwrite(fd, c, CREATE_CLUSTER, 2 * CREATE_CLUSTER);
	if (r < 0)
		goto out;
	r = fdatasync(fd) < 0 ? -errno : 0;
out:
	free(c);
	return r;
}
