/* qcow2 images, versions 2 and 3, after QEMU's docs/interop/qcow2.txt:
 * the header and its extensions, opening (every field bounded before it
 * sizes an allocation or an access), flush, info and close. Mapping and
 * allocation live in qcow2-cluster.c and qcow2-refcount.c.
 *
 * What is preserved untouched: header extensions (bitmaps, unknown ones),
 * internal snapshots (their tables and the clusters they share, which we
 * copy on write). Not supported, refused at open: encryption, external
 * data files, extended L2 entries, unknown incompatible features. An image
 * marked corrupt opens read-only only; one left dirty by lazy refcounts has its refcounts rebuilt
 * (qcow2-repair.c) when opened for writing. We never set the dirty bit
 * ourselves: our refcounts are kept exact on disk. */
#include "block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

#define EXT_END 0
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_FEATURE_TABLE 0x6803f857u
#define EXT_BITMAPS 0x23852875u
#define EXT_CRYPTO 0x0537be77u
#define EXT_DATA_FILE 0x44415441u

#define L2_CACHE_BYTES (16u << 20)
#define RB_CACHE_BYTES (4u << 20)
#define CACHE_MAX_ENTRIES 128u

static int qcow2_flush(struct blk *b)
{
	struct qcow2 *s = to_qcow2(b);
	int ret;

	pthread_mutex_lock(&s->meta);
	ret = qcow2_rc_writeback(s);
	if (ret == 0 && s->rc_unsynced)
		ret = qcow2_sync(s);
	if (ret == 0)
		ret = qcow2_l2_writeback(s);
	if (ret == 0)
		ret = qcow2_sync(s);
	pthread_mutex_unlock(&s->meta);
	return ret;
}

static void qcow2_info(struct blk *b, struct blk_info *info)
{
	struct qcow2 *s = to_qcow2(b);
	info->format = "qcow2";
	info->cluster_size = s->cluster_size;
	info->version = s->version;
	info->nb_snapshots = s->nb_snapshots;
	info->compression_type = s->compression_type;
	info->refcount_bits = (int)s->refcount_bits;
	snprintf(info->backing, sizeof(info->backing), "%s", s->backing_name);
	snprintf(info->backing_format, sizeof(info->backing_format), "%s",
		 s->backing_fmt);
}

static void qcow2_free(struct qcow2 *s)
{
	blk_close(s->backing);
	qcow2_cache_free(&s->l2c);
	qcow2_cache_free(&s->rbc);
	free(s->l1);
	free(s->rt);
	pthread_cond_destroy(&s->inflight_cv);
	pthread_rwlock_destroy(&s->io);
	pthread_mutex_destroy(&s->meta);
	free(s);
}

static void qcow2_close(struct blk *b)
{
	struct qcow2 *s = to_qcow2(b);
	if (!b->read_only && qcow2_flush(b) < 0)
		log_error("%s: metadata flush at close failed", b->name);
	close(b->fd);
	qcow2_free(s);
}

static const struct blk_ops qcow2_ops = {
	.name = "qcow2",
	.read = qcow2_read,
	.read_nowait = qcow2_read_nowait,
	.write_nowait = qcow2_write_nowait,
	.write = qcow2_write,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.map = qcow2_map,
	.info = qcow2_info,
	.close = qcow2_close,
};

/* Names the incompatible features we cannot handle, from the image's own
 * feature-name table when it has one. */
static void report_features(const char *name, uint64_t bits,
			    const uint8_t *table, uint32_t tlen)
{
	unsigned bit;
	for (bit = 0; bit < 64; bit++) {
		char fname[47] = "";
		uint32_t i;
		if (!(bits & (1ull << bit)))
			continue;
		for (i = 0; table && i + 48 <= tlen; i += 48) {
			if (table[i] == 0 && table[i + 1] == bit) {
				memcpy(fname, table + i + 2, 46);
				fname[46] = 0;
			}
		}
		log_error("%s: unsupported qcow2 feature: %s (incompatible bit %u)",
			  name, fname[0] ? fname : "unknown", bit);
	}
}

static int parse_extensions(struct qcow2 *s, const uint8_t *hdr,
			    uint32_t hdr_len, const char *name)
{
	uint32_t pos = s->header_length, ftab_off = 0, ftab_len = 0;
	uint64_t bad;

	/* Extensions live in the first cluster, after the header. */
	while (pos + 8 <= hdr_len) {
		uint32_t type = be32_get(hdr + pos), len = be32_get(hdr + pos + 4);
		pos += 8;
		if (type == EXT_END)
			break;
		if (len > hdr_len - pos) {
			log_error("%s: header extension runs past the first cluster",
				  name);
			return -EINVAL;
		}
		switch (type) {
		case EXT_BACKING_FORMAT:
			if (len >= sizeof(s->backing_fmt)) {
				log_error("%s: backing format name too long", name);
				return -EINVAL;
			}
			memcpy(s->backing_fmt, hdr + pos, len);
			s->backing_fmt[len] = 0;
			break;
		case EXT_FEATURE_TABLE:
			ftab_off = pos;
			ftab_len = len;
			break;
		default:
			/* Bitmaps and unknown extensions: kept as they are. */
			break;
		}
		pos += (len + 7) & ~7u;
	}
	bad = s->incompat & ~QCOW2_INCOMPAT_KNOWN;
	if (bad) {
		report_features(name, bad, ftab_len ? hdr + ftab_off : NULL,
				ftab_len);
		return -ENOTSUP;
	}
	return 0;
}

static int read_table(int fd, uint64_t off, uint64_t n, uint64_t **out)
{
	uint64_t i, *t = calloc(n ? n : 1, 8);
	int ret;
	if (!t)
		return -ENOMEM;
	ret = blk_full_pread(fd, t, n * 8, off);
	if (ret < 0) {
		free(t);
		return ret;
	}
	for (i = 0; i < n; i++)
		t[i] = be64_get(&t[i]);
	*out = t;
	return 0;
}

static unsigned cache_entries(uint32_t budget, uint32_t cs)
{
	uint32_t n = budget / cs;
	if (n < 8)
		n = 8;
	return n > CACHE_MAX_ENTRIES ? CACHE_MAX_ENTRIES : n;
}

int qcow2_open(int fd, const struct blk_open_opts *opts,
	       struct blk_chain *chain, struct blk **out)
{
	const char *name = opts->name ? opts->name : "image";
	uint8_t *hdr = NULL;
	struct qcow2 *s;
	struct stat st;
	uint64_t backing_off, l1_need, cs;
	uint32_t backing_len, hdr_len;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->meta, NULL);
	pthread_rwlock_init(&s->io, NULL);
	pthread_cond_init(&s->inflight_cv, NULL);
	s->blk.ops = &qcow2_ops;
	s->blk.fd = fd;
	s->blk.read_only = !!(opts->flags & BLK_O_RDONLY);
	snprintf(s->blk.name, sizeof(s->blk.name), "%s", name);

	hdr = malloc(4096);
	if (!hdr) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = blk_full_pread(fd, hdr, 72, 0);
	if (ret < 0) {
		log_error("%s: too short for a qcow2 header", name);
		ret = -EINVAL;
		goto fail;
	}
	ret = -EINVAL;
	if (be32_get(hdr) != QCOW2_MAGIC) {
		log_error("%s: not a qcow2 image", name);
		goto fail;
	}
	s->version = (int)be32_get(hdr + 4);
	if (s->version != 2 && s->version != 3) {
		log_error("%s: unsupported qcow2 version %d", name, s->version);
		ret = -ENOTSUP;
		goto fail;
	}
	backing_off = be64_get(hdr + 8);
	backing_len = be32_get(hdr + 16);
	s->cluster_bits = be32_get(hdr + 20);
	s->blk.size = be64_get(hdr + 24);
	if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    s->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
		log_error("%s: bad cluster_bits %u", name, s->cluster_bits);
		goto fail;
	}
	cs = s->cluster_size = 1u << s->cluster_bits;
	s->l2_entries = s->cluster_size / 8;
	if (be32_get(hdr + 32) != 0) {
		log_error("%s: encrypted images are not supported", name);
		ret = -ENOTSUP;
		goto fail;
	}
	s->l1_size = be32_get(hdr + 36);
	s->l1_offset = be64_get(hdr + 40);
	s->rt_offset = be64_get(hdr + 48);
	s->rt_clusters = be32_get(hdr + 56);
	s->nb_snapshots = be32_get(hdr + 60);
	s->snapshots_offset = be64_get(hdr + 64);
	s->refcount_order = 4;
	s->header_length = 72;
	if (s->version >= 3) {
		ret = blk_full_pread(fd, hdr + 72, 32, 72);
		if (ret < 0) {
			log_error("%s: truncated qcow2 v3 header", name);
			ret = -EINVAL;
			goto fail;
		}
		ret = -EINVAL;
		s->incompat = be64_get(hdr + 72);
		s->compat = be64_get(hdr + 80);
		s->autoclear = be64_get(hdr + 88);
		s->refcount_order = be32_get(hdr + 96);
		s->header_length = be32_get(hdr + 100);
		if (s->header_length < 104 || s->header_length > cs ||
		    s->header_length > 4096 || (s->header_length & 7)) {
			log_error("%s: bad header_length %u", name,
				  s->header_length);
			goto fail;
		}
	}
	if (s->refcount_order > 6) {
		log_error("%s: bad refcount_order %u", name, s->refcount_order);
		goto fail;
	}
	s->refcount_bits = 1u << s->refcount_order;
	s->rb_entries = (uint64_t)cs * 8 / s->refcount_bits;

	/* The header and its extensions: the first cluster, at most 4 KiB
	 * looked at (extensions beyond that are preserved, not read). */
	hdr_len = cs < 4096 ? (uint32_t)cs : 4096;
	ret = blk_pread_zero_eof(fd, hdr, hdr_len, 0);
	if (ret < 0)
		goto fail;
	if (s->header_length > 104) {
		s->compression_type = hdr[104];
		if (s->compression_type > 1 ||
		    (s->compression_type &&
		     !(s->incompat & QCOW2_INCOMPAT_COMPRESSION))) {
			log_error("%s: bad compression type %d", name,
				  s->compression_type);
			ret = -ENOTSUP;
			goto fail;
		}
	}
	ret = parse_extensions(s, hdr, hdr_len, name);
	if (ret < 0)
		goto fail;
	ret = -EINVAL;

	if (s->blk.size > QCOW2_MAX_SIZE) {
		log_error("%s: virtual size too large", name);
		goto fail;
	}
	l1_need = (s->blk.size + ((uint64_t)cs * s->l2_entries) - 1) /
		  ((uint64_t)cs * s->l2_entries);
	if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES ||
	    s->l1_size < l1_need) {
		log_error("%s: bad L1 table size %u", name, s->l1_size);
		goto fail;
	}
	if ((s->l1_offset & (cs - 1)) || (s->l1_size && !s->l1_offset) ||
	    (s->rt_offset & (cs - 1)) || !s->rt_offset ||
	    !s->rt_clusters ||
	    (uint64_t)s->rt_clusters * cs > QCOW2_MAX_RT_BYTES) {
		log_error("%s: bad L1 or refcount table location", name);
		goto fail;
	}
	if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS ||
	    (s->nb_snapshots && (s->snapshots_offset & (cs - 1)))) {
		log_error("%s: bad snapshot table", name);
		goto fail;
	}
	s->rt_size = (uint64_t)s->rt_clusters * cs / 8;
	/* Entries past the virtual size are never used: not even loaded. */
	s->l1_disk_size = s->l1_size;
	if (s->l1_size > l1_need)
		s->l1_size = (uint32_t)l1_need;
	ret = read_table(fd, s->l1_offset, s->l1_size, &s->l1);
	if (ret == 0)
		ret = read_table(fd, s->rt_offset, s->rt_size, &s->rt);
	if (ret < 0) {
		log_error("%s: L1 or refcount table past the end of the file",
			  name);
		ret = -EINVAL;
		goto fail;
	}
	ret = qcow2_cache_init(s, &s->l2c, cache_entries(L2_CACHE_BYTES, cs), 1);
	if (ret == 0)
		ret = qcow2_cache_init(s, &s->rbc,
				       cache_entries(RB_CACHE_BYTES, cs), 0);
	if (ret < 0)
		goto fail;
	s->file_end = ((uint64_t)st.st_size + cs - 1) & ~(cs - 1);

	if (!s->blk.read_only && (s->incompat & QCOW2_INCOMPAT_CORRUPT)) {
		log_error("%s: image is marked corrupt; it can only be opened "
			  "read-only (repair: qemu-img check -r all)", name);
		ret = -EROFS;
		goto fail;
	}
	if (!s->blk.read_only && (s->incompat & QCOW2_INCOMPAT_DIRTY)) {
		ret = qcow2_repair(s);
		if (ret < 0) {
			log_error("%s: image is dirty and its refcounts could not "
				  "be rebuilt (%s); open it read-only or run "
				  "qemu-img check -r all", name, strerror(-ret));
			ret = -EROFS;
			goto fail;
		}
	}

	if (backing_off) {
		if (backing_len == 0 || backing_len > 1023 ||
		    backing_off > INT64_MAX) {
			log_error("%s: bad backing file name", name);
			ret = -EINVAL;
			goto fail;
		}
		ret = blk_full_pread(fd, s->backing_name, backing_len,
				     backing_off);
		if (ret < 0) {
			log_error("%s: backing file name past the end", name);
			ret = -EINVAL;
			goto fail;
		}
		s->backing_name[backing_len] = 0;
		if (strlen(s->backing_name) != backing_len) {
			log_error("%s: bad backing file name", name);
			ret = -EINVAL;
			goto fail;
		}
		if (s->backing_fmt[0] && strcmp(s->backing_fmt, "raw") &&
		    strcmp(s->backing_fmt, "qcow2")) {
			log_error("%s: unsupported backing format '%s'", name,
				  s->backing_fmt);
			ret = -ENOTSUP;
			goto fail;
		}
		if (!(opts->flags & BLK_O_NO_BACKING)) {
			ret = blk_open_backing(opts, name, s->backing_name,
					       s->backing_fmt[0] ? s->backing_fmt :
					       NULL, chain, &s->backing);
			if (ret < 0) {
				log_error("%s: cannot open backing file '%s': %s",
					  name, s->backing_name,
					  ret == -ELOOP ? "loop or chain too deep" :
					  strerror(-ret));
				goto fail;
			}
		}
	}
	free(hdr);
	*out = &s->blk;
	return 0;

fail:
	free(hdr);
	qcow2_free(s);
	return ret;
}
