/* qcow2 guest cluster mapping: L1/L2 lookup, reads (including compressed
 * clusters and the backing chain), writes with cluster allocation and
 * copy-on-write (for clusters and L2 tables shared with snapshots),
 * discard and write-zeroes. Crash ordering: see qcow2-refcount.c. */
#include "block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

enum { K_UNALLOC, K_ZERO, K_NORMAL, K_COMPRESSED };

struct qmap {
	int kind;
	int copied;
	uint64_t l2e;
	uint64_t host;	/* host offset of the first byte (normal, zero+alloc) */
	uint64_t run;	/* bytes from off with the same kind, host-contiguous */
};

void qcow2_compressed_range(const struct qcow2 *s, uint64_t l2e,
			    uint64_t *off, uint64_t *len)
{
	unsigned x = 62 - (s->cluster_bits - 8);
	uint64_t nsec = (l2e >> x) & ((1ull << (s->cluster_bits - 8)) - 1);
	*off = l2e & ((1ull << x) - 1);
	*len = (nsec + 1) * 512 - (*off & 511);
}

static int l2e_classify(const struct qcow2 *s, uint64_t e, struct qmap *m)
{
	m->l2e = e;
	m->copied = !!(e & OFLAG_COPIED);
	m->host = 0;
	if (e & OFLAG_COMPRESSED) {
		uint64_t off, len;
		if (e & OFLAG_COPIED)
			return -EIO;
		qcow2_compressed_range(s, e, &off, &len);
		if (off >= (1ull << 56) || off < s->cluster_size)
			return -EIO;
		m->kind = K_COMPRESSED;
		m->host = off;
		return 0;
	}
	if (e & L2E_RESERVED)
		return -EIO;
	m->host = e & L2E_OFFSET_MASK;
	if (m->host & (s->cluster_size - 1))
		return -EIO;
	if (e & OFLAG_ZERO) {
		if (s->version < 3)
			return -EIO;
		m->kind = K_ZERO;
		return 0;
	}
	if (!m->host) {
		if (e & OFLAG_COPIED)
			return -EIO;
		m->kind = K_UNALLOC;
		return 0;
	}
	m->kind = K_NORMAL;
	return 0;
}

/* The L2 entry of guest cluster gc; 0 if its L2 table is unallocated. */
static int l2_lookup(struct qcow2 *s, uint64_t gc, uint64_t *e)
{
	uint64_t l1i = gc / s->l2_entries, l1e, l2off;
	uint8_t *l2;
	int ret;

	if (l1i >= s->l1_size)
		return -EIO;
	l1e = s->l1[l1i];
	if (l1e & L1E_RESERVED)
		return -EIO;
	l2off = l1e & L1E_OFFSET_MASK;
	if (!l2off) {
		*e = 0;
		return 0;
	}
	ret = qcow2_cache_get(s, &s->l2c, l2off, 0, &l2);
	if (ret < 0)
		return ret;
	*e = be64_get(l2 + (gc % s->l2_entries) * 8);
	return 0;
}

/* With s->meta held: what [off, off+len) maps to, as one run. */
static int map_run(struct qcow2 *s, uint64_t off, uint64_t len,
		   struct qmap *m)
{
	uint64_t cs = s->cluster_size, gc = off >> s->cluster_bits;
	uint64_t in = off & (cs - 1), e, next;
	struct qmap n;
	int ret;

	ret = l2_lookup(s, gc, &e);
	if (ret < 0)
		return ret;
	ret = l2e_classify(s, e, m);
	if (ret < 0)
		return ret;
	if (m->kind == K_NORMAL || m->kind == K_ZERO)
		m->host += in;
	m->run = cs - in < len ? cs - in : len;
	if (m->kind == K_COMPRESSED)
		return 0;
	/* Extend over following clusters of the same kind; normal ones only
	 * while the host clusters follow each other. Bounded by len. */
	while (m->run < len) {
		next = off + m->run;
		ret = l2_lookup(s, next >> s->cluster_bits, &e);
		if (ret < 0 || l2e_classify(s, e, &n) < 0)
			break;
		if (n.kind != m->kind || n.copied != m->copied)
			break;
		if (m->kind == K_NORMAL && n.host != m->host + m->run)
			break;
		m->run += cs < len - m->run ? cs : len - m->run;
	}
	return 0;
}

static int read_backing(struct qcow2 *s, uint64_t off, uint8_t *buf,
			uint64_t len)
{
	uint64_t n = 0;
	int ret;
	if (s->backing && off < s->backing->size) {
		n = s->backing->size - off < len ? s->backing->size - off : len;
		ret = blk_pread(s->backing, off, buf, (size_t)n);
		if (ret < 0)
			return ret;
	}
	memset(buf + n, 0, (size_t)(len - n));
	return 0;
}

/* Inflates one compressed cluster into out[cluster_size]. */
static int read_compressed(struct qcow2 *s, uint64_t l2e, uint8_t *out)
{
	uint64_t off, len;
	uint8_t *in;
	int ret = -EIO;

	qcow2_compressed_range(s, l2e, &off, &len);
	/* len is at most 2 clusters by the field's width. */
	in = malloc(len);
	if (!in)
		return -ENOMEM;
	ret = blk_pread_zero_eof(s->blk.fd, in, len, off);
	if (ret < 0)
		goto out;
	ret = -EIO;
	if (s->compression_type == 0) {
		z_stream z;
		int zr;
		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, -12) != Z_OK)
			goto out;
		z.next_in = in;
		z.avail_in = (uInt)len;
		z.next_out = out;
		z.avail_out = s->cluster_size;
		zr = inflate(&z, Z_FINISH);
		/* The stream may continue past a full cluster: stop there. */
		if ((zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK) &&
		    z.avail_out == 0)
			ret = 0;
		inflateEnd(&z);
	} else {
		ZSTD_DCtx *z = ZSTD_createDCtx();
		ZSTD_inBuffer ib = { in, len, 0 };
		ZSTD_outBuffer ob = { out, s->cluster_size, 0 };
		if (!z) {
			ret = -ENOMEM;
			goto out;
		}
		while (ob.pos < ob.size) {
			size_t zr = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(zr))
				break;
			if (ib.pos == ib.size && ob.pos < ob.size && zr != 0)
				break;
			if (zr == 0 && ob.pos < ob.size && ib.pos == ib.size)
				break;
		}
		if (ob.pos == ob.size)
			ret = 0;
		ZSTD_freeDCtx(z);
	}
out:
	free(in);
	return ret;
}

/* Reads one run described by m; the data of normal clusters is read
 * without s->meta: s->io keeps the clusters where they are. */
static int read_run(struct qcow2 *s, const struct qmap *m, uint64_t off,
		    uint8_t *buf)
{
	uint64_t cs = s->cluster_size;
	uint8_t *tmp;
	int ret;

	switch (m->kind) {
	case K_UNALLOC:
		return read_backing(s, off, buf, m->run);
	case K_ZERO:
		memset(buf, 0, m->run);
		return 0;
	case K_NORMAL:
		/* Data past the end of the file reads as zeros, as a
		 * preallocated or sparse image expects. */
		return blk_pread_zero_eof(s->blk.fd, buf, m->run, m->host);
	case K_COMPRESSED:
		tmp = malloc(cs);
		if (!tmp)
			return -ENOMEM;
		ret = read_compressed(s, m->l2e, tmp);
		if (ret == 0)
			memcpy(buf, tmp + (off & (cs - 1)), m->run);
		free(tmp);
		return ret;
	}
	return -EIO;
}

int qcow2_read(struct blk *b, uint64_t off, void *buf, size_t len)
{
	struct qcow2 *s = to_qcow2(b);
	uint8_t *p = buf;
	struct qmap m;
	int ret = 0;

	pthread_rwlock_rdlock(&s->io);
	while (len) {
		pthread_mutex_lock(&s->meta);
		ret = map_run(s, off, len, &m);
		pthread_mutex_unlock(&s->meta);
		if (ret < 0)
			break;
		ret = read_run(s, &m, off, p);
		if (ret < 0)
			break;
		off += m.run;
		p += m.run;
		len -= m.run;
	}
	pthread_rwlock_unlock(&s->io);
	return ret;
}

/* The runs of [off, off+len) when every L2 table they need is cached;
 * -EAGAIN otherwise. With s->meta held. At most max runs. */
static int nowait_runs(struct qcow2 *s, uint64_t off, uint64_t len,
		       struct qmap *runs, unsigned max, unsigned *nruns)
{
	uint64_t pos = off, end = off + len;
	unsigned n = 0;
	int ret;

	while (pos < end) {
		uint64_t gc = pos >> s->cluster_bits, l1i = gc / s->l2_entries;
		uint64_t l2off, tend;
		if (l1i >= s->l1_size || n == max)
			return -EAGAIN;
		l2off = s->l1[l1i] & L1E_OFFSET_MASK;
		if (l2off && !qcow2_cache_has(&s->l2c, l2off))
			return -EAGAIN;
		/* Stay inside this L2 table, the one known to be cached. */
		tend = ((l1i + 1) * s->l2_entries) << s->cluster_bits;
		ret = map_run(s, pos, (tend < end ? tend : end) - pos, &runs[n]);
		if (ret < 0)
			return ret;
		pos += runs[n++].run;
	}
	*nruns = n;
	return 0;
}

#define NOWAIT_RUNS 16

static int nowait_lock(struct qcow2 *s)
{
	if (pthread_rwlock_tryrdlock(&s->io))
		return -EAGAIN;
	if (pthread_mutex_trylock(&s->meta)) {
		pthread_rwlock_unlock(&s->io);
		return -EAGAIN;
	}
	return 0;
}

int qcow2_read_nowait(struct blk *b, uint64_t off, void *buf, size_t len)
{
	struct qcow2 *s = to_qcow2(b);
	struct qmap runs[NOWAIT_RUNS];
	unsigned n = 0, i;
	uint8_t *p = buf;
	int ret;

	if (nowait_lock(s))
		return -EAGAIN;
	ret = nowait_runs(s, off, len, runs, NOWAIT_RUNS, &n);
	pthread_mutex_unlock(&s->meta);
	/* s->io stays shared: the clusters cannot move under the reads. */
	for (i = 0; i < n && ret == 0; i++) {
		struct qmap *m = &runs[i];
		if (m->kind == K_ZERO || (m->kind == K_UNALLOC &&
		    (!s->backing || off >= s->backing->size)))
			memset(p, 0, m->run);
		else if (m->kind == K_NORMAL)
			ret = blk_pread_nowait(s->blk.fd, p, m->run, m->host);
		else
			ret = -EAGAIN;
		p += m->run;
		off += m->run;
	}
	pthread_rwlock_unlock(&s->io);
	return ret;
}

int qcow2_write_nowait(struct blk *b, uint64_t off, const void *buf,
		       size_t len)
{
	struct qcow2 *s = to_qcow2(b);
	struct qmap runs[NOWAIT_RUNS];
	const uint8_t *p = buf;
	unsigned n = 0, i;
	int ret;

	if (nowait_lock(s))
		return -EAGAIN;
	ret = s->write_ready ? nowait_runs(s, off, len, runs, NOWAIT_RUNS, &n) :
	      -EAGAIN;
	pthread_mutex_unlock(&s->meta);
	for (i = 0; i < n && ret == 0; i++) {
		struct qmap *m = &runs[i];
		if (m->kind != K_NORMAL || !m->copied ||
		    m->host < s->cluster_size)
			ret = -EAGAIN;
		else
			ret = blk_pwritev_nowait(&s->blk, &(struct iovec){(void *)p, m->run}, 1,
						 m->run, m->host);
		p += m->run;
	}
	pthread_rwlock_unlock(&s->io);
	return ret;
}

int qcow2_prepare_write(struct qcow2 *s)
{
	uint8_t zero[8] = { 0 };
	int ret;
	if (s->write_ready)
		return 0;
	if (s->incompat & (QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DIRTY))
		return -EROFS;
	/* Unknown autoclear features (we know none; bitmaps are ignored)
	 * must be cleared before the first write, so that their data is
	 * known stale. */
	if (s->version >= 3 && s->autoclear) {
		ret = blk_full_pwrite(s->blk.fd, zero, 8, QCOW2_HDR_AUTOCLEAR);
		if (ret < 0)
			return ret;
		ret = qcow2_sync(s);
		if (ret < 0)
			return ret;
		s->autoclear = 0;
	}
	s->write_ready = 1;
	return 0;
}

static int l1_set(struct qcow2 *s, uint64_t l1i, uint64_t v)
{
	uint8_t be[8];
	int ret;
	be64_put(be, v);
	ret = blk_full_pwrite(s->blk.fd, be, 8, s->l1_offset + l1i * 8);
	if (ret < 0)
		return ret;
	s->l1[l1i] = v;
	return 0;
}

/* Copies a shared L2 table. Refcounts count paths from L1 tables (a
 * snapshot made every cluster under a shared table count twice), so the
 * clusters it names keep their counts; none is exclusive any more. */
static int l2_cow(struct qcow2 *s, uint64_t l1i, uint64_t old)
{
	uint64_t cs = s->cluster_size, newoff, i;
	uint8_t *tmp = malloc(cs), *l2;
	int ret;

	if (!tmp)
		return -ENOMEM;
	ret = qcow2_cache_get(s, &s->l2c, old, 0, &l2);
	if (ret < 0)
		goto out;
	memcpy(tmp, l2, cs);
	for (i = 0; i < s->l2_entries; i++)
		be64_put(tmp + i * 8, be64_get(tmp + i * 8) & ~OFLAG_COPIED);
	ret = qcow2_alloc_cluster(s, &newoff);
	if (ret < 0)
		goto out;
	ret = qcow2_cache_get(s, &s->l2c, newoff, 1, &l2);
	if (ret < 0)
		goto out;
	memcpy(l2, tmp, cs);
	qcow2_cache_mark_dirty(&s->l2c, l2);
	ret = qcow2_cache_write_one(s, &s->l2c, l2);
	if (ret == 0)
		ret = qcow2_sync(s);
	if (ret == 0)
		ret = l1_set(s, l1i, newoff | OFLAG_COPIED);
	if (ret == 0)
		ret = qcow2_sync(s);
	if (ret == 0)
		ret = qcow2_free_range(s, old, cs);
out:
	free(tmp);
	return ret;
}

/* An L2 table for guest cluster gc that may be modified in place:
 * allocated if missing, copied if shared with a snapshot. */
static int l2_writable(struct qcow2 *s, uint64_t gc, uint8_t **l2)
{
	uint64_t l1i = gc / s->l2_entries, l1e, l2off, rc, newoff;
	int ret;

	if (l1i >= s->l1_size)
		return -EIO;
	l1e = s->l1[l1i];
	if (l1e & L1E_RESERVED)
		return -EIO;
	l2off = l1e & L1E_OFFSET_MASK;
	if (l2off && !(l1e & OFLAG_COPIED)) {
		ret = qcow2_refcount_get(s, l2off >> s->cluster_bits, &rc);
		if (ret < 0)
			return ret;
		if (rc == 0)
			return -EIO;
		if (rc == 1)
			ret = l1_set(s, l1i, l2off | OFLAG_COPIED);
		else
			ret = l2_cow(s, l1i, l2off);
		if (ret < 0)
			return ret;
	} else if (!l2off) {
		/* A new table is durable, and counted, before L1 names it. */
		ret = qcow2_alloc_cluster(s, &newoff);
		if (ret < 0)
			return ret;
		ret = qcow2_cache_get(s, &s->l2c, newoff, 1, l2);
		if (ret < 0)
			return ret;
		qcow2_cache_mark_dirty(&s->l2c, *l2);
		ret = qcow2_cache_write_one(s, &s->l2c, *l2);
		if (ret == 0)
			ret = qcow2_sync(s);
		if (ret == 0)
			ret = l1_set(s, l1i, newoff | OFLAG_COPIED);
		if (ret < 0)
			return ret;
	}
	return qcow2_cache_get(s, &s->l2c, s->l1[l1i] & L1E_OFFSET_MASK, 0,
			       l2);
}

/* Frees the old target of an L2 entry that was just replaced: the table
 * must be on disk first, so the reference is gone before the count. */
static int release_old(struct qcow2 *s, const struct qmap *old, uint8_t *l2)
{
	uint64_t coff, clen;
	int ret;

	if (old->kind == K_UNALLOC || (old->kind == K_ZERO && !old->host))
		return 0;
	ret = qcow2_cache_write_one(s, &s->l2c, l2);
	if (ret == 0)
		ret = qcow2_sync(s);
	if (ret < 0)
		return ret;
	if (old->kind == K_COMPRESSED) {
		qcow2_compressed_range(s, old->l2e, &coff, &clen);
		return qcow2_free_range(s, coff, clen);
	}
	return qcow2_free_range(s, old->host & ~(uint64_t)(s->cluster_size - 1),
				s->cluster_size);
}

/* The current content of guest cluster gc (as mapped by m) into buf. */
static int cluster_content(struct qcow2 *s, uint64_t gc, const struct qmap *m,
			   uint8_t *buf)
{
	uint64_t cs = s->cluster_size, goff = gc << s->cluster_bits;
	switch (m->kind) {
	case K_UNALLOC:
		return read_backing(s, goff, buf, cs);
	case K_ZERO:
		memset(buf, 0, cs);
		return 0;
	case K_NORMAL:
		return blk_pread_zero_eof(s->blk.fd, buf, cs, m->host);
	case K_COMPRESSED:
		return read_compressed(s, m->l2e, buf);
	}
	return -EIO;
}

/* With s->meta held: waits until no write in flight covers [gc, gc+n). */
static void wait_inflight(struct qcow2 *s, uint64_t gc, uint64_t n)
{
	unsigned i;
again:
	for (i = 0; i < s->ninflight; i++) {
		if (gc < s->inflight_gc[i] + s->inflight_n[i] &&
		    s->inflight_gc[i] < gc + n) {
			pthread_cond_wait(&s->inflight_cv, &s->meta);
			goto again;
		}
	}
}

/* Whether guest cluster gc, mapped by m, reads as all zeros. */
static int reads_zero(const struct qcow2 *s, uint64_t gc, const struct qmap *m)
{
	if (m->kind == K_ZERO)
		return 1;
	return m->kind == K_UNALLOC &&
	       (!s->backing || (gc << s->cluster_bits) >= s->backing->size);
}

/* Whether host offset off lies at or past the end of the file, which
 * only grows: such a cluster has never held data. */
static int past_eof(struct qcow2 *s, uint64_t off)
{
	struct stat st;
	if (off < s->phys_end)
		return 0;
	if (fstat(s->blk.fd, &st) < 0)
		return 0;
	s->phys_end = (uint64_t)st.st_size;
	return off >= s->phys_end;
}

/* Writes data (NULL: zeros) to [in, in+n) of guest cluster gc, with
 * s->meta held and s->io held exclusively. */
static int write_cluster(struct qcow2 *s, uint64_t gc, uint64_t in,
			 const uint8_t *data, uint64_t n, uint8_t *bounce)
{
	uint64_t cs = s->cluster_size, l2i = gc % s->l2_entries, rc, newoff;
	uint8_t *l2;
	struct qmap m;
	int ret;

	wait_inflight(s, gc, 1);
	ret = l2_writable(s, gc, &l2);
	if (ret < 0)
		return ret;
	ret = l2e_classify(s, be64_get(l2 + l2i * 8), &m);
	if (ret < 0)
		return ret;
	if (m.kind == K_NORMAL && !m.copied) {
		ret = qcow2_refcount_get(s, m.host >> s->cluster_bits, &rc);
		if (ret < 0)
			return ret;
		if (rc == 0)
			return -EIO;
		if (rc == 1) {
			ret = l2_writable(s, gc, &l2);
			if (ret < 0)
				return ret;
			m.copied = 1;
			be64_put(l2 + l2i * 8, m.host | OFLAG_COPIED);
			qcow2_cache_mark_dirty(&s->l2c, l2);
		}
	}
	if (m.kind == K_NORMAL && m.copied) {
		if (m.host < cs)
			return -EIO;
		if (data)
			return blk_full_pwrite(s->blk.fd, data, n, m.host + in);
		memset(bounce, 0, n);
		return blk_full_pwrite(s->blk.fd, bounce, n, m.host + in);
	}
	ret = qcow2_alloc_cluster(s, &newoff);
	if (ret < 0)
		return ret;
	if (in == 0 && n == cs && data) {
		ret = blk_full_pwrite(s->blk.fd, data, cs, newoff);
	} else if (reads_zero(s, gc, &m) && past_eof(s, newoff)) {
		/* The rest of a cluster past the end of the file is a hole:
		 * it reads as zeros without being written. */
		if (!data)
			memset(bounce, 0, n);
		ret = blk_full_pwrite(s->blk.fd, data ? data : bounce, n,
				      newoff + in);
	} else {
		/* Copy-on-write into the new cluster: old content, then new. */
		ret = cluster_content(s, gc, &m, bounce);
		if (ret < 0)
			return ret;
		if (data)
			memcpy(bounce + in, data, n);
		else
			memset(bounce + in, 0, n);
		ret = blk_full_pwrite(s->blk.fd, bounce, cs, newoff);
	}
	if (ret < 0)
		return ret;
	/* Allocation touched only the refcount cache, but look again. */
	ret = l2_writable(s, gc, &l2);
	if (ret < 0)
		return ret;
	be64_put(l2 + l2i * 8, newoff | OFLAG_COPIED);
	qcow2_cache_mark_dirty(&s->l2c, l2);
	return release_old(s, &m, l2);
}

/* A run of whole clusters that hold nothing to keep (unallocated or
 * zero without a host cluster): allocate them, then write the caller's
 * data with no lock held, so that allocating writes to different places
 * transfer in parallel, then link them. Entered and left with s->meta and
 * s->io (exclusive) held; drops both meanwhile. Returns the bytes
 * written, 0 if the first cluster does not qualify, or -errno. */
#define BATCH_MAX 256
static int64_t write_fresh_run(struct qcow2 *s, uint64_t gc, const uint8_t *p,
			       uint64_t len)
{
	uint64_t cs = s->cluster_size, host[BATCH_MAX], e, k = 0, i, j;
	uint8_t *l2;
	struct qmap m;
	unsigned slot;
	int ret = 0;

	wait_inflight(s, gc, len / cs);
	while (k < BATCH_MAX && (k + 1) * cs <= len) {
		if (l2_lookup(s, gc + k, &e) < 0 || l2e_classify(s, e, &m) < 0)
			break;
		if (!(m.kind == K_UNALLOC || (m.kind == K_ZERO && !m.host)))
			break;
		k++;
	}
	if (!k || s->ninflight == QCOW2_MAX_INFLIGHT)
		return 0;
	for (i = 0; i < k; i++) {
		ret = qcow2_alloc_cluster(s, &host[i]);
		if (ret < 0)
			return ret;
	}
	slot = s->ninflight++;
	s->inflight_gc[slot] = gc;
	s->inflight_n[slot] = k;
	pthread_mutex_unlock(&s->meta);
	pthread_rwlock_unlock(&s->io);

	for (i = 0; i < k && ret == 0; i = j) {
		for (j = i + 1; j < k && host[j] == host[j - 1] + cs; j++)
			;
		ret = blk_full_pwrite(s->blk.fd, p + i * cs, (j - i) * cs,
				      host[i]);
	}

	/* Linking needs only s->meta: nothing else can reach these guest
	 * clusters meanwhile. Waiters hold s->io, so take it after. The
	 * clusters stay counted (leaked) if the write failed. */
	pthread_mutex_lock(&s->meta);
	for (i = 0; i < k && ret == 0; i++) {
		ret = l2_writable(s, gc + i, &l2);
		if (ret < 0)
			break;
		be64_put(l2 + ((gc + i) % s->l2_entries) * 8,
			 host[i] | OFLAG_COPIED);
		qcow2_cache_mark_dirty(&s->l2c, l2);
	}
	for (slot = 0; slot < s->ninflight; slot++) {
		if (s->inflight_gc[slot] == gc && s->inflight_n[slot] == k) {
			s->ninflight--;
			s->inflight_gc[slot] = s->inflight_gc[s->ninflight];
			s->inflight_n[slot] = s->inflight_n[s->ninflight];
			break;
		}
	}
	pthread_cond_broadcast(&s->inflight_cv);
	pthread_mutex_unlock(&s->meta);
	pthread_rwlock_wrlock(&s->io);
	pthread_mutex_lock(&s->meta);
	return ret < 0 ? ret : (int64_t)(k * cs);
}

int qcow2_write(struct blk *b, uint64_t off, const void *buf, size_t len)
{
	struct qcow2 *s = to_qcow2(b);
	const uint8_t *p = buf;
	uint64_t cs = s->cluster_size;
	uint8_t *bounce;
	struct qmap m;
	int ret = 0;

	/* In place, shared: clusters that are already ours. */
	pthread_rwlock_rdlock(&s->io);
	while (len) {
		pthread_mutex_lock(&s->meta);
		ret = s->write_ready ? map_run(s, off, len, &m) : -EAGAIN;
		pthread_mutex_unlock(&s->meta);
		if (ret < 0 || m.kind != K_NORMAL || !m.copied ||
		    m.host < cs)
			break;
		ret = blk_full_pwrite(s->blk.fd, p, m.run, m.host);
		if (ret < 0) {
			pthread_rwlock_unlock(&s->io);
			return ret;
		}
		off += m.run;
		p += m.run;
		len -= m.run;
	}
	pthread_rwlock_unlock(&s->io);
	if (!len)
		return 0;

	/* The rest allocates or copies: alone. */
	bounce = malloc(cs);
	if (!bounce)
		return -ENOMEM;
	pthread_rwlock_wrlock(&s->io);
	pthread_mutex_lock(&s->meta);
	ret = qcow2_prepare_write(s);
	while (ret == 0 && len) {
		uint64_t in = off & (cs - 1);
		uint64_t n = cs - in < len ? cs - in : len;
		if (in == 0 && len >= cs) {
			int64_t done = write_fresh_run(s, off >> s->cluster_bits,
						       p, len);
			if (done < 0) {
				ret = (int)done;
				break;
			}
			if (done > 0) {
				off += (uint64_t)done;
				p += done;
				len -= (uint64_t)done;
				continue;
			}
		}
		ret = write_cluster(s, off >> s->cluster_bits, in, p, n, bounce);
		off += n;
		p += n;
		len -= n;
	}
	pthread_mutex_unlock(&s->meta);
	pthread_rwlock_unlock(&s->io);
	free(bounce);
	return ret;
}

/* Discard (zero=0) or write zeroes (zero=1). Whole clusters change their
 * L2 entry: unallocated, or the zero flag (v3); parts of clusters are
 * written with zeros (write zeroes) or left alone (discard: a hint). */
static int zero_or_discard(struct qcow2 *s, uint64_t off, uint64_t len,
			   int zero)
{
	uint64_t cs = s->cluster_size;
	uint8_t *bounce = malloc(cs), *l2;
	int ret;

	if (!bounce)
		return -ENOMEM;
	pthread_rwlock_wrlock(&s->io);
	pthread_mutex_lock(&s->meta);
	ret = qcow2_prepare_write(s);
	while (ret == 0 && len) {
		uint64_t gc = off >> s->cluster_bits, in = off & (cs - 1);
		uint64_t n = cs - in < len ? cs - in : len, e, want;
		int whole = in == 0 && (n == cs || off + n == s->blk.size);
		struct qmap m;

		wait_inflight(s, gc, 1);
		if (!whole) {
			if (zero)
				ret = write_cluster(s, gc, in, NULL, n, bounce);
			goto next;
		}
		ret = l2_lookup(s, gc, &e);
		if (ret == 0)
			ret = l2e_classify(s, e, &m);
		if (ret < 0)
			break;
		if (zero && s->version >= 3)
			want = OFLAG_ZERO;
		else if (zero && s->backing)
			want = 1;	/* v2 cannot say zero: write them */
		else
			want = 0;
		if (want == 1) {
			ret = write_cluster(s, gc, 0, NULL, n, bounce);
			goto next;
		}
		if (e == want || (want == 0 && m.kind == K_UNALLOC && e == 0))
			goto next;
		if (m.kind == K_UNALLOC && (want == 0 || !s->backing))
			goto next;
		ret = l2_writable(s, gc, &l2);
		if (ret < 0)
			break;
		/* The table may have been copied: classify its entry again. */
		ret = l2e_classify(s, be64_get(l2 + (gc % s->l2_entries) * 8),
				   &m);
		if (ret < 0)
			break;
		be64_put(l2 + (gc % s->l2_entries) * 8, want);
		qcow2_cache_mark_dirty(&s->l2c, l2);
		ret = release_old(s, &m, l2);
next:
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&s->meta);
	pthread_rwlock_unlock(&s->io);
	free(bounce);
	return ret;
}

int qcow2_discard(struct blk *b, uint64_t off, uint64_t len)
{
	return zero_or_discard(to_qcow2(b), off, len, 0);
}

int qcow2_write_zeroes(struct blk *b, uint64_t off, uint64_t len)
{
	return zero_or_discard(to_qcow2(b), off, len, 1);
}

int qcow2_map(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum,
	      unsigned *flags)
{
	struct qcow2 *s = to_qcow2(b);
	struct qmap m;
	int ret;

	pthread_mutex_lock(&s->meta);
	ret = map_run(s, off, len, &m);
	pthread_mutex_unlock(&s->meta);
	if (ret < 0)
		return ret;
	*pnum = m.run;
	switch (m.kind) {
	case K_UNALLOC:
		*flags = s->backing ? BLK_MAP_BACKING : BLK_MAP_ZERO;
		break;
	case K_ZERO:
		*flags = BLK_MAP_DATA | BLK_MAP_ZERO;
		break;
	default:
		*flags = BLK_MAP_DATA;
	}
	return 0;
}
