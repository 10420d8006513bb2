/* raw images: the guest's bytes at the same offsets in a regular file or a
 * block device. With O_DIRECT, unaligned requests go through an aligned
 * bounce buffer. */
#include "block/block-int.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAW_ALIGN 4096u

struct raw {
	struct blk blk;
	int is_bdev;
	int direct;
};

static struct raw *to_raw(struct blk *b)
{
	return (struct raw *)b;
}

/* O_DIRECT wants offset, length and buffer aligned: widen to an aligned
 * window and copy through a bounce buffer. */
static int raw_bounce(struct raw *r, uint64_t off, void *rbuf,
		      const void *wbuf, size_t len)
{
	uint64_t start = off & ~(uint64_t)(RAW_ALIGN - 1);
	uint64_t end = (off + len + RAW_ALIGN - 1) & ~(uint64_t)(RAW_ALIGN - 1);
	size_t blen = (size_t)(end - start);
	void *bb;
	int ret;

	if (posix_memalign(&bb, RAW_ALIGN, blen))
		return -ENOMEM;
	ret = blk_pread_zero_eof(r->blk.fd, bb, blen, start);
	if (ret < 0)
		goto out;
	if (rbuf) {
		memcpy(rbuf, (char *)bb + (off - start), len);
	} else {
		memcpy((char *)bb + (off - start), wbuf, len);
		ret = blk_full_pwrite(r->blk.fd, bb, blen, start);
	}
out:
	free(bb);
	return ret;
}

static int raw_aligned(uint64_t off, const void *buf, size_t len)
{
	return !((off | len | (uintptr_t)buf) & (RAW_ALIGN - 1));
}

static int raw_read(struct blk *b, uint64_t off, void *buf, size_t len)
{
	struct raw *r = to_raw(b);
	if (r->direct && !raw_aligned(off, buf, len))
		return raw_bounce(r, off, buf, NULL, len);
	/* A file shorter than its stated size (sparse tail) reads zeros. */
	return blk_pread_zero_eof(b->fd, buf, len, off);
}

static int raw_write(struct blk *b, uint64_t off, const void *buf, size_t len)
{
	struct raw *r = to_raw(b);
	if (r->direct && !raw_aligned(off, buf, len))
		return raw_bounce(r, off, NULL, buf, len);
	return blk_full_pwrite(b->fd, buf, len, off);
}

static int raw_read_nowait(struct blk *b, uint64_t off, void *buf, size_t len)
{
	if (to_raw(b)->direct)
		return -EAGAIN;
	return blk_pread_nowait(b->fd, buf, len, off);
}

/* ---- several buffers: one system call where the file allows ---- */

static bool raw_iov_aligned(uint64_t off, const struct iovec *iov, int cnt)
{
	for (int i = 0; i < cnt; i++) {
		if (!raw_aligned(off, iov[i].iov_base, iov[i].iov_len))
			return false;
		off += iov[i].iov_len;
	}
	return true;
}

/* preadv/pwritev until all of len moved: a short transfer continues
 * where it stopped; a read at the end of a shorter file gives zeros. */
static int raw_rw_vec(int fd, uint64_t off, const struct iovec *iov_in, int cnt,
		      size_t len, bool wr)
{
	struct iovec iov[BLK_MAX_IOV];
	int first = 0;

	if (cnt > BLK_MAX_IOV || off > INT64_MAX || len > INT64_MAX - off)
		return -EIO;
	memcpy(iov, iov_in, sizeof(*iov) * (size_t)cnt);
	while (len) {
		ssize_t n = wr ? pwritev(fd, iov + first, cnt - first, (off_t)off)
			       : preadv(fd, iov + first, cnt - first, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (wr)
				return -EIO;
			for (int i = first; i < cnt; i++)
				memset(iov[i].iov_base, 0, iov[i].iov_len);
			return 0;
		}
		off += (uint64_t)n;
		len -= (size_t)n;
		while (n > 0 && first < cnt) {
			size_t step = (size_t)n < iov[first].iov_len ? (size_t)n : iov[first].iov_len;
			iov[first].iov_base = (char *)iov[first].iov_base + step;
			iov[first].iov_len -= step;
			n -= (ssize_t)step;
			if (!iov[first].iov_len)
				first++;
		}
	}
	return 0;
}

static int raw_readv(struct blk *b, uint64_t off, const struct iovec *iov, int cnt, size_t len)
{
	if (to_raw(b)->direct && !raw_iov_aligned(off, iov, cnt)) {
		int ret = 0;
		for (int i = 0; i < cnt && !ret; off += iov[i].iov_len, i++)
			ret = raw_read(b, off, iov[i].iov_base, iov[i].iov_len);
		return ret;
	}
	return raw_rw_vec(b->fd, off, iov, cnt, len, false);
}

static int raw_writev(struct blk *b, uint64_t off, const struct iovec *iov, int cnt,
		      size_t len)
{
	if (to_raw(b)->direct && !raw_iov_aligned(off, iov, cnt)) {
		int ret = 0;
		for (int i = 0; i < cnt && !ret; off += iov[i].iov_len, i++)
			ret = raw_write(b, off, iov[i].iov_base, iov[i].iov_len);
		return ret;
	}
	return raw_rw_vec(b->fd, off, iov, cnt, len, true);
}

/* All of it from (or into) the page cache at once, or -EAGAIN. */
static int raw_rw_vec_nowait(struct blk *b, uint64_t off, const struct iovec *iov, int cnt,
			     size_t len, bool wr)
{
	ssize_t n;
	if (to_raw(b)->direct)
		return -EAGAIN;
	if (wr)
		return blk_pwritev_nowait(b, iov, cnt, len, off);
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EIO;
	n = preadv2(b->fd, iov, cnt, (off_t)off, RWF_NOWAIT);
	if (n == (ssize_t)len)
		return 0;
	/* Short (a part done: the worker does it all again), or would
	 * wait: a worker's. */
	return -EAGAIN;
}

static int raw_readv_nowait(struct blk *b, uint64_t off, const struct iovec *iov, int cnt,
			    size_t len)
{
	return raw_rw_vec_nowait(b, off, iov, cnt, len, false);
}

static int raw_writev_nowait(struct blk *b, uint64_t off, const struct iovec *iov, int cnt,
			     size_t len)
{
	return raw_rw_vec_nowait(b, off, iov, cnt, len, true);
}

static int raw_write_nowait(struct blk *b, uint64_t off, const void *buf,
			    size_t len)
{
	struct iovec iov = {(void *)buf, len};
	return raw_rw_vec_nowait(b, off, &iov, 1, len, true);
}

static int raw_flush(struct blk *b)
{
	return fdatasync(b->fd) < 0 ? -errno : 0;
}

static int raw_write_zero_buf(struct blk *b, uint64_t off, uint64_t len)
{
	size_t chunk = len < (1u << 20) ? (size_t)len : (1u << 20);
	void *z;
	int ret = 0;

	if (posix_memalign(&z, RAW_ALIGN, (chunk + RAW_ALIGN - 1) &
			   ~(size_t)(RAW_ALIGN - 1)))
		return -ENOMEM;
	memset(z, 0, chunk);
	while (len && ret == 0) {
		size_t n = len < chunk ? (size_t)len : chunk;
		ret = raw_write(b, off, z, n);
		off += n;
		len -= n;
	}
	free(z);
	return ret;
}

static int raw_discard(struct blk *b, uint64_t off, uint64_t len)
{
	struct raw *r = to_raw(b);
	if (r->is_bdev) {
		uint64_t range[2] = { off, len };
		/* Discard is a hint: a device that cannot is not an error. */
		if (ioctl(b->fd, BLKDISCARD, range) < 0 && errno != EOPNOTSUPP &&
		    errno != ENOTTY)
			return -errno;
		return 0;
	}
	if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0 && errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

static int raw_write_zeroes(struct blk *b, uint64_t off, uint64_t len)
{
	struct raw *r = to_raw(b);
	if (r->is_bdev) {
		uint64_t range[2] = { off, len };
		if (ioctl(b->fd, BLKZEROOUT, range) == 0)
			return 0;
	} else if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			     (off_t)off, (off_t)len) == 0) {
		return 0;
	}
	return raw_write_zero_buf(b, off, len);
}

static int raw_map(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum,
		   unsigned *flags)
{
	off_t data, hole;
	*pnum = len;
	*flags = BLK_MAP_DATA;
	if (to_raw(b)->is_bdev)
		return 0;
	data = lseek(b->fd, (off_t)off, SEEK_DATA);
	if (data < 0) {
		/* ENXIO: only a hole (or the end) follows. */
		if (errno == ENXIO) {
			*flags = BLK_MAP_ZERO;
			return 0;
		}
		return 0;
	}
	if ((uint64_t)data > off) {
		*flags = BLK_MAP_ZERO;
		if ((uint64_t)data - off < len)
			*pnum = (uint64_t)data - off;
		return 0;
	}
	hole = lseek(b->fd, (off_t)off, SEEK_HOLE);
	if (hole > (off_t)off && (uint64_t)hole - off < len)
		*pnum = (uint64_t)hole - off;
	return 0;
}

static void raw_info(struct blk *b, struct blk_info *info)
{
	info->format = "raw";
}

static void raw_close(struct blk *b)
{
	close(b->fd);
	free(b);
}

static const struct blk_ops raw_ops = {
	.name = "raw",
	.read = raw_read,
	.write = raw_write,
	.read_nowait = raw_read_nowait,
	.write_nowait = raw_write_nowait,
	.readv = raw_readv,
	.writev = raw_writev,
	.readv_nowait = raw_readv_nowait,
	.writev_nowait = raw_writev_nowait,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.map = raw_map,
	.info = raw_info,
	.close = raw_close,
};

int raw_open(int fd, const struct blk_open_opts *opts, struct blk **out)
{
	struct raw *r;
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->blk.ops = &raw_ops;
	r->blk.fd = fd;
	r->blk.size = size;
	r->blk.read_only = !!(opts->flags & BLK_O_RDONLY);
	if (opts->name)
		snprintf(r->blk.name, sizeof(r->blk.name), "%s", opts->name);
	r->is_bdev = S_ISBLK(st.st_mode);
	r->direct = !!(opts->flags & BLK_O_DIRECT) ||
		    (fcntl(fd, F_GETFL) & O_DIRECT);
	*out = &r->blk;
	return 0;
}
