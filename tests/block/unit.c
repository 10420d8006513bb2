/* Block layer unit tests: the event loop, request checks, raw images,
 * asynchronous requests in flight together, and a randomized workload on
 * raw and qcow2 images checked against a shadow copy, with qemu-img check
 * run on the qcow2 results. */
#include <inttypes.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>

#include "../tap.h"
#include "helpers.h"
#include "lib/event_loop.h"

static struct tap t;

static void efd_cb(void *opaque, uint32_t ev)
{
	(*(int *)opaque)++;
}

static void test_event_loop(void)
{
	struct event_loop *loop;
	int hits = 0, efd = eventfd(0, EFD_NONBLOCK);
	uint64_t one = 1;

	tap_ok(&t, event_loop_new(&loop) == 0, "event loop created");
	tap_ok(&t, event_loop_add_fd(loop, efd, EPOLLIN, efd_cb, &hits) == 0,
	       "watch an eventfd");
	tap_ok(&t, event_loop_run_once(loop, 0) == 0 && hits == 0,
	       "nothing fires before a write");
	if (write(efd, &one, 8) != 8)
		tap_diag("eventfd write failed");
	tap_ok(&t, event_loop_run_once(loop, 1000) == 1 && hits == 1,
	       "callback runs once the fd is readable");
	tap_ok(&t, event_loop_del_fd(loop, efd) == 0, "unwatch");
	tap_ok(&t, event_loop_del_fd(loop, efd) == -ENOENT,
	       "unwatching twice is -ENOENT");
	event_loop_free(loop);
	close(efd);
}

static void test_checks(void)
{
	struct blk *b, *ro;
	char buf[8192];

	tb_sh("qemu-img create -f raw chk.raw 1M >/dev/null");
	b = tb_open("chk.raw", "raw", 0);
	ro = tb_open("chk.raw", "raw", BLK_O_RDONLY);
	tap_ok(&t, b && ro && b->size == 1 << 20, "raw opens with its size");
	if (!b || !ro)
		return;
	tap_ok(&t, blk_pread(b, (1 << 20) - 4096, buf, 4096) == 0,
	       "read of the last 4 KiB");
	tap_ok(&t, blk_pread(b, (1 << 20) - 4096, buf, 4097) == -EIO,
	       "read one byte past the end is -EIO");
	tap_ok(&t, blk_pread(b, UINT64_MAX - 10, buf, 100) == -EIO,
	       "offset+length overflow is -EIO");
	tap_ok(&t, blk_check_request(b, 1 << 20, 0, 0) == 0,
	       "empty request at the end is fine");
	tap_ok(&t, blk_check_request(b, (1 << 20) + 1, 0, 0) == -EIO,
	       "empty request past the end is -EIO");
	tap_ok(&t, blk_pwrite(ro, 0, buf, 512) == -EROFS,
	       "write to a read-only image is -EROFS");
	tap_ok(&t, blk_discard(ro, 0, 512) == -EROFS &&
	       blk_write_zeroes(ro, 0, 512) == -EROFS,
	       "discard and write-zeroes on read-only are -EROFS");
	tap_ok(&t, blk_discard(b, 0, (2 << 20)) == -EIO,
	       "discard past the end is -EIO");
	blk_close(b);
	blk_close(ro);
}

static void test_direct(void)
{
	struct blk *b;
	char *buf = malloc(10000), *rd = malloc(10000);
	int i, ok = 1;

	tb_sh("qemu-img create -f raw d.raw 1M >/dev/null");
	b = tb_open("d.raw", "raw", BLK_O_DIRECT);
	if (!b) {
		tap_ok(&t, 1, "# SKIP O_DIRECT open");
		goto out;
	}
	for (i = 0; i < 10000; i++)
		buf[i] = (char)(i * 7);
	ok = blk_pwrite(b, 1001, buf + 1, 9999) == 0 &&
	     blk_pread(b, 1001, rd + 1, 9999) == 0 &&
	     !memcmp(buf + 1, rd + 1, 9999);
	tap_ok(&t, ok, "O_DIRECT with unaligned offset, length and buffer");
	blk_close(b);
out:
	free(buf);
	free(rd);
}

/* The no-wait write path (blk_pwritev_nowait()): what it writes lands;
 * on a file system that refuses RWF_NOWAIT writes (ext4), a small write
 * is done at once, a large one and any write while backing off after a
 * slow one are left to a worker with the file untouched. */
static void test_write_nowait(void)
{
	static char buf[128 << 10], rd[128 << 10];
	struct blk *b;
	int ret;

	tb_sh("qemu-img create -f raw nw.raw 1M >/dev/null");
	b = tb_open("nw.raw", "raw", 0);
	if (!b) {
		tap_ok(&t, 0, "open nw.raw");
		return;
	}
	memset(buf, 0x5a, sizeof(buf));
	ret = blk_pwritev_nowait(b, &(struct iovec){buf, 4096}, 1, 4096, 8192);
	tap_ok(&t, (ret == 0 && blk_pread(b, 8192, rd, 4096) == 0 &&
		    !memcmp(rd, buf, 4096)) || ret == -EAGAIN,
	       "a 4 KiB no-wait write: done and read back (%d), or a worker's", ret);
	if (!b->nowait_writes_refused) {
		tap_ok(&t, 1, "# SKIP the file system takes RWF_NOWAIT writes");
		tap_ok(&t, 1, "# SKIP the file system takes RWF_NOWAIT writes");
		tap_ok(&t, 1, "# SKIP the file system takes RWF_NOWAIT writes");
		blk_close(b);
		return;
	}
	tap_ok(&t, ret == 0, "refused RWF_NOWAIT: a 4 KiB write done at once (%d)", ret);
	memset(buf, 0xa5, sizeof(buf));
	ret = blk_pwritev_nowait(b, &(struct iovec){buf, sizeof(buf)}, 1, sizeof(buf), 65536);
	tap_ok(&t, ret == -EAGAIN && blk_pread(b, 65536, rd, sizeof(buf)) == 0 && rd[0] == 0 &&
		   rd[sizeof(rd) - 1] == 0,
	       "a 128 KiB one left to a worker, the file untouched (%d)", ret);
	b->inline_writes_off_until = UINT64_MAX;
	ret = blk_pwritev_nowait(b, &(struct iovec){buf, 4096}, 1, 4096, 16384);
	tap_ok(&t, ret == -EAGAIN && blk_pread(b, 16384, rd, 4096) == 0 && rd[0] == 0,
	       "after a slow write, small ones go to a worker too (%d)", ret);
	blk_close(b);
}

struct async_ctx {
	int done;
	int errors;
};

static void async_done(struct blk_req *req, int ret)
{
	struct async_ctx *c = req->opaque;
	c->done++;
	if (ret < 0)
		c->errors++;
}

/* Several buffers, one transfer: raw in one system call, qcow2 through
 * its per-buffer fallback, both synchronous and through the pool; bad
 * vectors refused before any byte moves. */
static void test_vectored(const char *name, const char *fmt, unsigned flags)
{
	struct blk *b = tb_open(name, fmt, flags);
	static unsigned char src[3 * 4096 + 512], dst[3 * 4096 + 512];
	unsigned char *al = NULL;
	struct iovec w[3], r[3], bad[2];
	struct event_loop *loop = NULL;
	struct blk_aio *aio = NULL;
	struct async_ctx c = {0, 0};
	int ok;

	if (!b || posix_memalign((void **)&al, 4096, 3 * 4096 + 4096)) {
		tap_ok(&t, flags != 0, "%s%s: vectored setup%s", fmt, flags ? " direct" : "",
		       flags ? " # SKIP O_DIRECT" : "");
		if (b)
			blk_close(b);
		free(al);
		return;
	}
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 13 + 5);
	/* an aligned piece, an odd-sized one and a last one, 12800 bytes */
	memcpy(al, src, 4096);
	w[0] = (struct iovec){al, 4096};
	w[1] = (struct iovec){src + 4096, 4096 + 512};
	w[2] = (struct iovec){src + 8704, 4096};
	ok = blk_pwritev(b, 8192, w, 3, 12800) == 0;
	memset(dst, 0, sizeof(dst));
	r[0] = (struct iovec){dst, 512};
	r[1] = (struct iovec){dst + 512, 8192};
	r[2] = (struct iovec){dst + 8704, 4096};
	ok = ok && blk_preadv(b, 8192, r, 3, 12800) == 0 && !memcmp(dst, src, 12800);
	tap_ok(&t, ok, "%s%s: a write and a read over three uneven buffers", fmt,
	       flags ? " direct" : "");
	bad[0] = (struct iovec){dst, 512};
	bad[1] = (struct iovec){dst + 512, 512};
	tap_ok(&t, blk_preadv(b, 0, bad, 2, 2048) == -EINVAL &&
		       blk_pwritev(b, 0, bad, 2, 512) == -EINVAL &&
		       blk_preadv(b, 0, bad, 0, 0) == -EINVAL &&
		       blk_preadv(b, b->size - 512, bad, 2, 1024) < 0,
	       "%s%s: buffers not adding up, none, or past the end: refused", fmt,
	       flags ? " direct" : "");
	if (!event_loop_new(&loop) && !blk_aio_new(loop, 2, &aio)) {
		struct blk_req q = {.blk = b, .op = BLK_OP_READ, .offset = 8192, .len = 12800,
				    .iov = r, .iovcnt = 3, .done = async_done, .opaque = &c};
		memset(dst, 0, sizeof(dst));
		blk_aio_submit(aio, &q);
		while (c.done < 1)
			if (event_loop_run_once(loop, 5000) <= 0)
				break;
		tap_ok(&t, c.done == 1 && !c.errors && !memcmp(dst, src, 12800),
		       "%s%s: a vectored read through the pool", fmt, flags ? " direct" : "");
		blk_aio_free(aio);
	}
	if (loop)
		event_loop_free(loop);
	blk_close(b);
	free(al);
}

static void test_async(const char *name, const char *fmt)
{
	struct event_loop *loop;
	struct blk_aio *aio;
	struct blk_req reqs[32];
	struct async_ctx c = { 0 };
	struct blk *b = tb_open(name, fmt, 0);
	unsigned char *bufs = malloc(32 * 4096);
	int i, ok = 1, max_in_flight = 0;

	if (!b || event_loop_new(&loop) || blk_aio_new(loop, 4, &aio)) {
		tap_ok(&t, 0, "%s: async setup", fmt);
		return;
	}
	for (i = 0; i < 32; i++) {
		memset(bufs + i * 4096, i + 1, 4096);
		reqs[i] = (struct blk_req){ .blk = b, .op = BLK_OP_WRITE,
			.offset = (uint64_t)i * 12288, .len = 4096,
			.buf = bufs + i * 4096, .done = async_done,
			.opaque = &c };
		blk_aio_submit(aio, &reqs[i]);
	}
	max_in_flight = (int)blk_aio_in_flight(aio);
	while (c.done < 32)
		if (event_loop_run_once(loop, 5000) <= 0)
			break;
	tap_ok(&t, max_in_flight == 32 && c.done == 32 && !c.errors,
	       "%s: 32 writes in flight complete through the loop", fmt);
	memset(bufs, 0, 32 * 4096);
	c.done = 0;
	for (i = 0; i < 32; i++) {
		reqs[i].op = BLK_OP_READ;
		blk_aio_submit(aio, &reqs[i]);
	}
	while (c.done < 32)
		if (event_loop_run_once(loop, 5000) <= 0)
			break;
	for (i = 0; i < 32 * 4096; i++)
		ok &= bufs[i] == i / 4096 + 1;
	tap_ok(&t, c.done == 32 && !c.errors && ok,
	       "%s: 32 reads in flight return the data", fmt);
	reqs[0] = (struct blk_req){ .blk = b, .op = BLK_OP_READ,
		.offset = b->size, .len = 512, .buf = bufs,
		.done = async_done, .opaque = &c };
	c.done = c.errors = 0;
	blk_aio_submit(aio, &reqs[0]);
	while (c.done < 1)
		if (event_loop_run_once(loop, 5000) <= 0)
			break;
	tap_ok(&t, c.errors == 1, "%s: a bad request completes with an error",
	       fmt);
	blk_aio_free(aio);
	event_loop_free(loop);
	blk_close(b);
	free(bufs);
}

/* Many overlapping allocating writes in flight at once: each cluster
 * must end up holding one of the writes that covered it, whole, and the
 * image must stay consistent. */
static void test_overlap(void)
{
	struct event_loop *loop;
	struct blk_aio *aio;
	struct blk_req reqs[64];
	struct async_ctx c = { 0 };
	struct blk *b;
	uint8_t *bufs = malloc(64 * 65536), *rd = malloc(4096);
	uint64_t rs = 77, offs[64];
	int i, j, ok = 1;

	tb_sh("qemu-img create -f qcow2 -o cluster_size=4k ov.qcow2 1M "
	      ">/dev/null");
	b = tb_open("ov.qcow2", "qcow2", 0);
	if (!b || event_loop_new(&loop) || blk_aio_new(loop, 8, &aio)) {
		tap_ok(&t, 0, "overlap setup");
		return;
	}
	for (i = 0; i < 64; i++) {
		offs[i] = (tb_rand(&rs) % 240) * 4096;
		memset(bufs + (size_t)i * 65536, i + 1, 65536);
		reqs[i] = (struct blk_req){ .blk = b, .op = BLK_OP_WRITE,
			.offset = offs[i], .len = 65536,
			.buf = bufs + (size_t)i * 65536, .done = async_done,
			.opaque = &c };
		blk_aio_submit(aio, &reqs[i]);
	}
	while (c.done < 64)
		if (event_loop_run_once(loop, 5000) <= 0)
			break;
	for (i = 0; ok && i < 256; i++) {
		uint64_t off = (uint64_t)i * 4096;
		int covered = 0, match = 0;
		if (blk_pread(b, off, rd, 4096) < 0)
			ok = 0;
		for (j = 0; j < 64; j++) {
			if (off >= offs[j] && off < offs[j] + 65536) {
				covered = 1;
				if (rd[0] == j + 1)
					match = 1;
			}
		}
		for (j = 1; j < 4096; j++)
			if (rd[j] != rd[0])
				ok = 0;
		if ((covered && !match) || (!covered && rd[0]))
			ok = 0;
	}
	tap_ok(&t, ok && c.done == 64 && !c.errors,
	       "64 overlapping allocating writes in flight: whole clusters");
	blk_aio_free(aio);
	event_loop_free(loop);
	blk_close(b);
	tap_ok(&t, tb_sh("qemu-img check -q ov.qcow2") == 0,
	       "and the image is consistent");
	free(bufs);
	free(rd);
}

/* Random writes, write-zeroes, discards, flushes and reads; the shadow
 * knows which bytes a discard left undefined. */
static int workload(struct blk *b, uint64_t seed, int ops, uint64_t align,
		    int fill)
{
	uint64_t size = b->size, rs = seed;
	uint8_t *shadow = malloc(size), *known = malloc(size);
	uint8_t *buf = malloc(1 << 20);
	int i, bad = 0;

	memset(known, 1, size);
	memset(shadow, fill, size);
	for (i = 0; i < ops && !bad; i++) {
		uint64_t r = tb_rand(&rs), off, len, j;
		unsigned kind = (unsigned)(r % 100);
		len = 1 + tb_rand(&rs) % (kind < 10 ? (1 << 20) : 65536);
		off = tb_rand(&rs) % size;
		if (tb_rand(&rs) % 2) {
			off &= ~(align - 1);
			len = (len + align - 1) & ~(align - 1);
		}
		if (off + len > size)
			len = size - off;
		if (!len)
			continue;
		if (kind < 45) {
			uint8_t pat = (uint8_t)(tb_rand(&rs) | 1);
			for (j = 0; j < len; j++)
				buf[j] = (uint8_t)(pat + j);
			if (blk_pwrite(b, off, buf, len) < 0)
				bad = 1;
			memcpy(shadow + off, buf, len);
			memset(known + off, 1, len);
		} else if (kind < 55) {
			if (blk_write_zeroes(b, off, len) < 0)
				bad = 2;
			memset(shadow + off, 0, len);
			memset(known + off, 1, len);
		} else if (kind < 62) {
			if (blk_discard(b, off, len) < 0)
				bad = 3;
			memset(known + off, 0, len);
		} else if (kind < 65) {
			if (blk_flush(b) < 0)
				bad = 4;
		} else {
			if (blk_pread(b, off, buf, len) < 0)
				bad = 5;
			for (j = 0; j < len && !bad; j++) {
				if (known[off + j] && buf[j] != shadow[off + j]) {
					tap_diag("op %d: mismatch at %" PRIu64,
						 i, off + j);
					bad = 6;
				}
			}
		}
	}
	/* Then everything, in 1 MiB pieces. */
	for (i = 0; !bad && (uint64_t)i * (1 << 20) < size; i++) {
		uint64_t off = (uint64_t)i << 20, j;
		uint64_t len = size - off < (1 << 20) ? size - off : (1 << 20);
		if (blk_pread(b, off, buf, len) < 0)
			bad = 7;
		for (j = 0; j < len && !bad; j++)
			if (known[off + j] && buf[j] != shadow[off + j])
				bad = 8;
	}
	if (bad)
		tap_diag("workload failed with %d", bad);
	free(shadow);
	free(known);
	free(buf);
	return !bad;
}

static void test_workload(const char *create, const char *name,
			  const char *fmt, uint64_t align, int ops, int fill)
{
	struct blk *b;
	int ok;
	tb_sh("%s", create);
	b = tb_open(name, fmt, 0);
	if (!b) {
		tap_ok(&t, 0, "open %s", name);
		return;
	}
	ok = workload(b, 0x1234567 + (uint64_t)ops, ops, align, fill);
	blk_close(b);
	tap_ok(&t, ok, "random workload on %s matches the shadow", name);
	if (!strcmp(fmt, "qcow2"))
		tap_ok(&t, tb_sh("qemu-img check -q %s", name) == 0,
		       "qemu-img check finds %s clean", name);
}

int main(void)
{
	test_event_loop();
	test_checks();
	test_direct();
	test_write_nowait();
	tb_sh("qemu-img create -f raw as.raw 1M >/dev/null && "
	      "qemu-img create -f qcow2 -o cluster_size=4k as.qcow2 1M "
	      ">/dev/null");
	test_async("as.raw", "raw");
	test_vectored("as.raw", "raw", 0);
	test_vectored("as.qcow2", "qcow2", 0);
	tb_sh("qemu-img create -f raw vd.raw 1M >/dev/null");
	test_vectored("vd.raw", "raw", BLK_O_DIRECT);
	test_async("as.qcow2", "qcow2");
	test_overlap();
	test_workload("qemu-img create -f raw w.raw 8M >/dev/null", "w.raw",
		      "raw", 512, 400, 0);
	test_workload("qemu-img create -f qcow2 w1.qcow2 8M >/dev/null",
		      "w1.qcow2", "qcow2", 65536, 400, 0);
	test_workload("qemu-img create -f qcow2 -o cluster_size=512,"
		      "refcount_bits=64 w2.qcow2 6M >/dev/null",
		      "w2.qcow2", "qcow2", 512, 300, 0);
	test_workload("qemu-img create -f qcow2 -o cluster_size=4k,"
		      "refcount_bits=1 w3.qcow2 8M >/dev/null",
		      "w3.qcow2", "qcow2", 4096, 300, 0);
	test_workload("qemu-img create -f qcow2 -o compat=0.10,"
		      "cluster_size=2k w4.qcow2 8M >/dev/null",
		      "w4.qcow2", "qcow2", 2048, 300, 0);
	test_workload("qemu-img create -f qcow2 -o cluster_size=8k,"
		      "refcount_bits=4 w5.qcow2 5M >/dev/null && qemu-io -c "
		      "'write -P 7 0 5M' w5.qcow2 >/dev/null && qemu-img "
		      "create -f qcow2 -b w5.qcow2 -F qcow2 w6.qcow2 >/dev/null",
		      "w6.qcow2", "qcow2", 8192, 300, 7);
	tb_cleanup();
	return tap_done(&t);
}
