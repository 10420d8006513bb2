/* Generic block layer: probing, opening chains, request checks, and the
 * checked synchronous entry points every caller goes through. */
#include "block/block-int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <stdbool.h>
#include <unistd.h>

#include "lib/clock.h"

/* Reads until `len` bytes are in; at end of file either fails (-EIO) or
 * fills the rest with zeros. */
static int pread_all(int fd, void *buf, size_t len, uint64_t off, bool zero_eof)
{
	char *p = buf;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EIO;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (!zero_eof)
				return -EIO;
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int blk_full_pread(int fd, void *buf, size_t len, uint64_t off)
{
	return pread_all(fd, buf, len, off, false);
}

int blk_pread_zero_eof(int fd, void *buf, size_t len, uint64_t off)
{
	return pread_all(fd, buf, len, off, true);
}

int blk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EIO;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int blk_pread_nowait(int fd, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { buf, len };
	ssize_t n;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EIO;
	n = preadv2(fd, &iov, 1, (off_t)off, RWF_NOWAIT);
	if (n == (ssize_t)len)
		return 0;
	/* Short, EAGAIN, or a kernel without RWF_NOWAIT: let a worker. */
	return -EAGAIN;
}

/* Without this, each write to an ext4 file went to a worker: one more
 * thread hand-off, about a third of a 4 KiB write's time (bench/disk). */
#define INLINE_WRITE_MAX (64u << 10)
#define INLINE_SLOW_NS 1000000ull      /* 1 ms */
#define INLINE_BACKOFF_NS 1000000000ull /* 1 s */

static int pwritev_inline(struct blk *b, const struct iovec *iov, int cnt, size_t len,
			  uint64_t off)
{
	uint64_t t0 = mono_ns(), t1;
	ssize_t n;

	if (len > INLINE_WRITE_MAX || t0 < b->inline_writes_off_until)
		return -EAGAIN;
	n = pwritev2(b->fd, iov, cnt, (off_t)off, 0);
	t1 = mono_ns();
	if (t1 - t0 > INLINE_SLOW_NS)
		b->inline_writes_off_until = t1 + INLINE_BACKOFF_NS;
	/* An error the worker meets again, or short: the worker's. */
	return n == (ssize_t)len ? 0 : -EAGAIN;
}

int blk_pwritev_nowait(struct blk *b, const struct iovec *iov, int cnt, size_t len,
		       uint64_t off)
{
	ssize_t n;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EIO;
	if (b->nowait_writes_refused)
		return pwritev_inline(b, iov, cnt, len, off);
	n = pwritev2(b->fd, iov, cnt, (off_t)off, RWF_NOWAIT);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == EOPNOTSUPP) {
		b->nowait_writes_refused = true;
		return pwritev_inline(b, iov, cnt, len, off);
	}
	return -EAGAIN;
}

const char *blk_probe(int fd)
{
	unsigned char magic[4];
	if (blk_full_pread(fd, magic, 4, 0) == 0 && magic[0] == 'Q' &&
	    magic[1] == 'F' && magic[2] == 'I' && magic[3] == 0xfb)
		return "qcow2";
	return "raw";
}

int blk_open_chain(int fd, const struct blk_open_opts *opts,
		   struct blk_chain *chain, struct blk **out)
{
	const char *fmt = opts->format ? opts->format : blk_probe(fd);
	struct stat st;
	unsigned i;

	if (fstat(fd, &st) < 0)
		return -errno;
	for (i = 0; i < chain->depth; i++) {
		if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino)
			return -ELOOP;
	}
	if (chain->depth > BLK_MAX_CHAIN)
		return -ELOOP;
	chain->dev[chain->depth] = st.st_dev;
	chain->ino[chain->depth] = st.st_ino;
	chain->depth++;
	if (!strcmp(fmt, "raw"))
		return raw_open(fd, opts, out);
	if (!strcmp(fmt, "qcow2"))
		return qcow2_open(fd, opts, chain, out);
	return -EPROTONOSUPPORT;
}

int blk_open_fd(int fd, const struct blk_open_opts *opts, struct blk **out)
{
	struct blk_chain chain = { 0 };
	return blk_open_chain(fd, opts, &chain, out);
}

int blk_open_backing(const struct blk_open_opts *opts, const char *referrer,
		     const char *name, const char *format,
		     struct blk_chain *chain, struct blk **out)
{
	struct blk_open_opts bopts = *opts;
	char resolved[1024] = "";
	int fd, ret;

	if (!opts->open_backing)
		return -ENOTSUP;
	if (chain->depth > BLK_MAX_CHAIN)
		return -ELOOP;
	fd = opts->open_backing(opts->opaque, referrer, name, resolved,
				sizeof(resolved));
	if (fd < 0)
		return fd;
	bopts.flags = (opts->flags | BLK_O_RDONLY) & ~BLK_O_DIRECT;
	bopts.format = format;
	bopts.name = resolved[0] ? resolved : name;
	ret = blk_open_chain(fd, &bopts, chain, out);
	if (ret < 0)
		close(fd);
	return ret;
}

void blk_close(struct blk *b)
{
	if (b)
		b->ops->close(b);
}

int blk_check_request(const struct blk *b, uint64_t off, uint64_t len,
		      int is_write)
{
	if (is_write && b->read_only)
		return -EROFS;
	if (off > b->size || len > b->size - off)
		return -EIO;
	return 0;
}

int blk_pread(struct blk *b, uint64_t off, void *buf, size_t len)
{
	int ret = blk_check_request(b, off, len, 0);
	if (ret < 0)
		return ret;
	if (len > BLK_MAX_REQUEST)
		return -EINVAL;
	return len ? b->ops->read(b, off, buf, len) : 0;
}

int blk_pwrite(struct blk *b, uint64_t off, const void *buf, size_t len)
{
	int ret = blk_check_request(b, off, len, 1);
	if (ret < 0)
		return ret;
	if (len > BLK_MAX_REQUEST)
		return -EINVAL;
	return len ? b->ops->write(b, off, buf, len) : 0;
}

/* The buffers' lengths must add up to len: the caller's promise,
 * checked, since a wrong one would move bytes past a buffer. */
int blk_check_iov(const struct iovec *iov, int cnt, size_t len)
{
	size_t total = 0;
	if (cnt < 1 || cnt > BLK_MAX_IOV)
		return -EINVAL;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > len - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	return total == len ? 0 : -EINVAL;
}

static int rw_vec(struct blk *b, uint64_t off, const struct iovec *iov, int cnt,
		  size_t len, bool wr)
{
	int ret = blk_check_request(b, off, len, wr);
	if (ret == 0)
		ret = blk_check_iov(iov, cnt, len);
	if (ret < 0)
		return ret;
	if (len > BLK_MAX_REQUEST)
		return -EINVAL;
	if (wr && b->ops->writev)
		return b->ops->writev(b, off, iov, cnt, len);
	if (!wr && b->ops->readv)
		return b->ops->readv(b, off, iov, cnt, len);
	for (int i = 0; i < cnt && ret == 0; i++) {
		if (iov[i].iov_len)
			ret = wr ? b->ops->write(b, off, iov[i].iov_base, iov[i].iov_len)
				 : b->ops->read(b, off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return ret;
}

int blk_preadv(struct blk *b, uint64_t off, const struct iovec *iov, int cnt, size_t len)
{
	return rw_vec(b, off, iov, cnt, len, false);
}

int blk_pwritev(struct blk *b, uint64_t off, const struct iovec *iov, int cnt, size_t len)
{
	return rw_vec(b, off, iov, cnt, len, true);
}

int blk_flush(struct blk *b)
{
	if (b->read_only)
		return 0;
	return b->ops->flush(b);
}

int blk_discard(struct blk *b, uint64_t off, uint64_t len)
{
	int ret = blk_check_request(b, off, len, 1);
	if (ret < 0)
		return ret;
	return len ? b->ops->discard(b, off, len) : 0;
}

int blk_write_zeroes(struct blk *b, uint64_t off, uint64_t len)
{
	int ret = blk_check_request(b, off, len, 1);
	if (ret < 0)
		return ret;
	return len ? b->ops->write_zeroes(b, off, len) : 0;
}

int blk_map(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum,
	    unsigned *flags)
{
	int ret = blk_check_request(b, off, len, 0);
	if (ret < 0)
		return ret;
	if (!len)
		return -EINVAL;
	return b->ops->map(b, off, len, pnum, flags);
}

void blk_get_info(struct blk *b, struct blk_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = b->size;
	info->read_only = b->read_only;
	b->ops->info(b, info);
}
