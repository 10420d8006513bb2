/* qcow2, versions 2 and 3, per QEMU's docs/interop/qcow2.txt: the state
 * shared by qcow2.c (header, open, read/write paths), qcow2-cluster.c
 * (L1/L2 mapping, allocation of guest clusters, copy-on-write) and
 * qcow2-refcount.c (refcounts, host cluster allocation). */
#ifndef V2E_BLOCK_QCOW2_H
#define V2E_BLOCK_QCOW2_H

#include <pthread.h>
#include <stdint.h>

#include "block/block-int.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
/* Bounds on what an image may make us allocate at open. */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_SNAPSHOTS 65536u
#define QCOW2_MAX_SIZE (1ull << 55)

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | \
			      QCOW2_INCOMPAT_COMPRESSION)

/* Header field offsets we rewrite. */
#define QCOW2_HDR_RT_OFFSET 48
#define QCOW2_HDR_INCOMPAT 72
#define QCOW2_HDR_AUTOCLEAR 88

#define L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define L1E_RESERVED 0x7f000000000001ffull
#define L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define L2E_RESERVED 0x3f000000000001feull
#define RTE_OFFSET_MASK 0xfffffffffffffe00ull
#define OFLAG_COPIED (1ull << 63)
#define OFLAG_COMPRESSED (1ull << 62)
#define OFLAG_ZERO 1ull

/* A bounded cache of cluster-sized tables (L2 tables or refcount blocks),
 * write-back, least recently used out. */
struct qcow2_cache_entry {
	uint64_t offset;	/* 0: empty */
	uint64_t lru;
	int dirty;
	uint8_t *data;
};

struct qcow2_cache {
	unsigned n;
	uint64_t tick;
	int is_l2;
	struct qcow2_cache_entry *e;
};

struct qcow2 {
	struct blk blk;
	/* meta: every field below and both caches. io: readers and in-place
	 * writers share it; a request that allocates or frees clusters holds
	 * it alone, so no data transfer runs against a cluster being moved. */
	pthread_mutex_t meta;
	pthread_rwlock_t io;

	struct blk *backing;
	int version;
	unsigned cluster_bits;
	uint32_t cluster_size;
	uint32_t l2_entries;
	uint64_t incompat, compat, autoclear;
	uint32_t header_length;
	int compression_type;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	char backing_name[1024];
	char backing_fmt[32];

	uint64_t l1_offset;
	uint32_t l1_size;	/* entries loaded: those the size needs */
	uint32_t l1_disk_size;	/* entries the header declares */
	uint64_t *l1;		/* host order */

	unsigned refcount_order;
	unsigned refcount_bits;
	uint64_t rb_entries;	/* refcounts per block */
	uint64_t rt_offset;
	uint32_t rt_clusters;
	uint64_t rt_size;	/* entries */
	uint64_t *rt;		/* host order */

	struct qcow2_cache l2c;
	struct qcow2_cache rbc;
	int rc_unsynced;	/* refcount blocks written, no sync since */
	int write_ready;	/* autoclear bits dropped */
	uint64_t free_hint;	/* no free cluster below this index */
	uint64_t file_end;	/* bytes, cluster aligned, grows on alloc */
	uint64_t phys_end;	/* a lower bound of the file's size */

	/* Guest clusters whose new host clusters are being written with no
	 * lock held (write_fresh_run); writers of these wait on inflight_cv.
	 * Bounded by the number of worker threads. */
#define QCOW2_MAX_INFLIGHT 64
	uint64_t inflight_gc[QCOW2_MAX_INFLIGHT];
	uint64_t inflight_n[QCOW2_MAX_INFLIGHT];
	unsigned ninflight;
	pthread_cond_t inflight_cv;
};

static inline uint64_t be64_get(const void *p)
{
	const uint8_t *b = p;
	return ((uint64_t)b[0] << 56) | ((uint64_t)b[1] << 48) |
	       ((uint64_t)b[2] << 40) | ((uint64_t)b[3] << 32) |
	       ((uint64_t)b[4] << 24) | ((uint64_t)b[5] << 16) |
	       ((uint64_t)b[6] << 8) | b[7];
}

static inline uint32_t be32_get(const void *p)
{
	const uint8_t *b = p;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	       ((uint32_t)b[2] << 8) | b[3];
}

static inline uint16_t be16_get(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)((b[0] << 8) | b[1]);
}

static inline void be64_put(void *p, uint64_t v)
{
	uint8_t *b = p;
	int i;
	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static inline void be32_put(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static inline void be16_put(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline struct qcow2 *to_qcow2(struct blk *b)
{
	return (struct qcow2 *)b;
}

/* qcow2-refcount.c; all with s->meta held. */
int qcow2_cache_init(struct qcow2 *s, struct qcow2_cache *c, unsigned n,
		     int is_l2);
void qcow2_cache_free(struct qcow2_cache *c);
int qcow2_cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t offset,
		    int fresh, uint8_t **data);
void qcow2_cache_mark_dirty(struct qcow2_cache *c, const uint8_t *data);
int qcow2_cache_has(const struct qcow2_cache *c, uint64_t offset);
int qcow2_cache_write_one(struct qcow2 *s, struct qcow2_cache *c,
			  const uint8_t *data);
int qcow2_rc_writeback(struct qcow2 *s);
int qcow2_l2_writeback(struct qcow2 *s);
int qcow2_sync(struct qcow2 *s);
int qcow2_refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc);
int qcow2_refcount_update(struct qcow2 *s, uint64_t cluster, int delta);
int qcow2_alloc_cluster(struct qcow2 *s, uint64_t *offset);
/* Drops one reference from every host cluster [off, off+len) touches. */
int qcow2_free_range(struct qcow2 *s, uint64_t off, uint64_t len);
int qcow2_ref_range(struct qcow2 *s, uint64_t off, uint64_t len);
uint64_t qcow2_rb_get(const struct qcow2 *s, const uint8_t *rb, uint64_t i);
void qcow2_rb_set(const struct qcow2 *s, uint8_t *rb, uint64_t i, uint64_t v);
uint64_t qcow2_rc_max(const struct qcow2 *s);

/* qcow2-repair.c: recounts every reference and rewrites refcounts and
 * copied flags, for an image left dirty (lazy refcounts); clears the
 * dirty bit. Before any cache use. */
int qcow2_repair(struct qcow2 *s);

/* qcow2-cluster.c */
int qcow2_read(struct blk *b, uint64_t off, void *buf, size_t len);
int qcow2_read_nowait(struct blk *b, uint64_t off, void *buf, size_t len);
int qcow2_write_nowait(struct blk *b, uint64_t off, const void *buf,
		       size_t len);
int qcow2_write(struct blk *b, uint64_t off, const void *buf, size_t len);
int qcow2_discard(struct blk *b, uint64_t off, uint64_t len);
int qcow2_write_zeroes(struct blk *b, uint64_t off, uint64_t len);
int qcow2_map(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum,
	      unsigned *flags);
/* Host byte range of a compressed cluster's data. */
void qcow2_compressed_range(const struct qcow2 *s, uint64_t l2e,
			    uint64_t *off, uint64_t *len);
/* Before the first change to the image: drop autoclear bits. */
int qcow2_prepare_write(struct qcow2 *s);

#endif
