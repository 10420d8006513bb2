/* v2e-blkbench: the block layer's counterpart of `qemu-img bench`, with
 * the same options and the same access pattern, so the two can run side
 * by side on the same files (bench/block/run.sh):
 *   v2e-blkbench [-f fmt] [-c count] [-d depth] [-s size] [-S step] [-w]
 *                [-n] [-t threads] [-P poll_ns] FILE
 * Offsets start at 0 and advance by step (default: size), wrapping modulo
 * (image size - size), as qemu-img bench does. Prints one line:
 *   <ops> <seconds> <IOPS> <MiB/s> */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "lib/event_loop.h"
#include "lib/log.h"

struct bench {
	struct blk_aio *aio;
	struct blk *blk;
	uint64_t size, step, offset;
	uint64_t count, issued, done;
	int write, errors;
};

static void submit(struct bench *b, struct blk_req *r);

static void bench_done(struct blk_req *r, int ret)
{
	struct bench *b = r->opaque;
	b->done++;
	if (ret < 0)
		b->errors++;
	if (b->issued < b->count)
		submit(b, r);
}

static void submit(struct bench *b, struct blk_req *r)
{
	uint64_t span = b->blk->size > b->size ? b->blk->size - b->size : 0;
	r->offset = b->offset;
	b->offset += b->step;
	b->offset = span ? b->offset % span : 0;
	b->issued++;
	blk_aio_submit(b->aio, r);
}

static int parse(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x = strtoull(s, &end, 0);
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	}
	if (*end || end == s)
		return -EINVAL;
	*v = (uint64_t)x << shift;
	return 0;
}

int main(int argc, char **argv)
{
	struct blk_open_opts o = { 0 };
	struct bench b = { .count = 75000, .size = 4096 };
	uint64_t depth = 64, threads = 4, i, poll_ns = 0;
	struct event_loop *loop;
	struct blk_req *reqs;
	struct timespec t0, t1;
	double secs;
	int c, fd;
	uint8_t *bufs;

	log_set_prog("v2e-blkbench");
	while ((c = getopt(argc, argv, "f:c:d:s:S:wnt:P:")) != -1) {
		uint64_t v = 0;
		if (c != 'w' && c != 'n' && c != 'f' && parse(optarg, &v)) {
			log_error("bad number '%s'", optarg);
			return 1;
		}
		switch (c) {
		case 'f': o.format = optarg; break;
		case 'c': b.count = v; break;
		case 'd': depth = v; break;
		case 's': b.size = v; break;
		case 'S': b.step = v; break;
		case 'w': b.write = 1; break;
		case 'n': o.flags |= BLK_O_DIRECT; break;
		case 't': threads = v; break;
		case 'P': poll_ns = v; break;
		default: return 1;
		}
	}
	if (optind != argc - 1 || !depth || depth > 1024 || !b.size ||
	    b.size > BLK_MAX_REQUEST) {
		log_error("usage: v2e-blkbench [-f fmt] [-c count] [-d depth] "
			  "[-s size] [-S step] [-w] [-n] [-t threads] FILE");
		return 1;
	}
	if (!b.step)
		b.step = b.size;
	fd = open(argv[optind], (b.write ? O_RDWR : O_RDONLY) |
		  ((o.flags & BLK_O_DIRECT) ? O_DIRECT : 0));
	if (fd < 0 || blk_open_fd(fd, &o, &b.blk) < 0) {
		log_error("cannot open %s", argv[optind]);
		return 1;
	}
	if (event_loop_new(&loop) || blk_aio_new(loop, (unsigned)threads,
						  &b.aio))
		return 1;
	event_loop_set_poll_ns(loop, poll_ns);
	reqs = calloc(depth, sizeof(*reqs));
	if (posix_memalign((void **)&bufs, 4096, depth * b.size) || !reqs)
		return 1;
	memset(bufs, 0xa5, depth * b.size);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < depth && b.issued < b.count; i++) {
		reqs[i] = (struct blk_req){ .blk = b.blk,
			.op = b.write ? BLK_OP_WRITE : BLK_OP_READ,
			.len = b.size, .buf = bufs + i * b.size,
			.done = bench_done, .opaque = &b };
		submit(&b, &reqs[i]);
	}
	while (b.done < b.count)
		if (event_loop_run_once(loop, -1) < 0)
			break;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu %.3f %.0f %.1f\n", (unsigned long long)b.done, secs,
	       (double)b.done / secs,
	       (double)b.done * (double)b.size / secs / (1 << 20));
	blk_aio_free(b.aio);
	event_loop_free(loop);
	blk_close(b.blk);
	free(reqs);
	free(bufs);
	return b.errors ? 1 : 0;
}
