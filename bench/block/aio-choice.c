/* The measurement behind block.h's choice of a thread pool over io_uring:
 * random 4 KiB reads on a raw file at queue depth 32, once through
 * liburing and once through blk_aio's worker threads.
 *   v2e-aio-choice FILE [count] [direct]   (direct: O_DIRECT) */
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "lib/event_loop.h"

#define QD 32
#define BS 4096

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static double run_uring(int fd, uint64_t blocks, uint64_t count, uint8_t *buf)
{
	struct io_uring ring;
	uint64_t sent = 0, done = 0, s = 42;
	double t0;
	int i;

	if (io_uring_queue_init(QD, &ring, 0) < 0)
		return -1;
	t0 = now();
	for (i = 0; i < QD; i++, sent++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, fd, buf + i * BS, BS,
				   (rnd(&s) % blocks) * BS);
		sqe->user_data = (uint64_t)i;
	}
	io_uring_submit(&ring);
	while (done < count) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&ring, &cqe) < 0)
			break;
		i = (int)cqe->user_data;
		io_uring_cqe_seen(&ring, cqe);
		done++;
		if (sent < count) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			io_uring_prep_read(sqe, fd, buf + i * BS, BS,
					   (rnd(&s) % blocks) * BS);
			sqe->user_data = (uint64_t)i;
			io_uring_submit(&ring);
			sent++;
		}
	}
	io_uring_queue_exit(&ring);
	return (double)done / (now() - t0);
}

struct pool_ctx {
	struct blk_aio *aio;
	uint64_t sent, done, count, blocks, s;
};

static void pool_done(struct blk_req *r, int ret)
{
	struct pool_ctx *c = r->opaque;
	c->done++;
	if (c->sent < c->count) {
		r->offset = (rnd(&c->s) % c->blocks) * BS;
		c->sent++;
		blk_aio_submit(c->aio, r);
	}
}

static double run_pool(int fd, int direct, uint64_t blocks, uint64_t count,
		       uint8_t *buf, unsigned threads)
{
	struct blk_open_opts o = { .format = "raw",
				   .flags = BLK_O_RDONLY |
					    (direct ? BLK_O_DIRECT : 0) };
	struct pool_ctx c = { .count = count, .blocks = blocks, .s = 42 };
	struct blk_req reqs[QD];
	struct event_loop *loop;
	struct blk *b;
	double t0;
	int i, dfd = dup(fd);

	if (blk_open_fd(dfd, &o, &b) || event_loop_new(&loop) ||
	    blk_aio_new(loop, threads, &c.aio))
		return -1;
	t0 = now();
	for (i = 0; i < QD; i++) {
		reqs[i] = (struct blk_req){ .blk = b, .op = BLK_OP_READ,
			.offset = (rnd(&c.s) % blocks) * BS, .len = BS,
			.buf = buf + i * BS, .done = pool_done, .opaque = &c };
		c.sent++;
		blk_aio_submit(c.aio, &reqs[i]);
	}
	while (c.done < count)
		if (event_loop_run_once(loop, -1) < 0)
			break;
	t0 = (double)c.done / (now() - t0);
	blk_aio_free(c.aio);
	event_loop_free(loop);
	blk_close(b);
	return t0;
}

int main(int argc, char **argv)
{
	uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 0) : 200000;
	int direct = argc > 3 && !strcmp(argv[3], "direct");
	int fd = argc > 1 ? open(argv[1], O_RDONLY | (direct ? O_DIRECT : 0))
			  : -1;
	struct stat st;
	uint8_t *buf;

	if (fd < 0 || fstat(fd, &st) < 0 ||
	    posix_memalign((void **)&buf, 4096, QD * BS)) {
		fprintf(stderr, "usage: v2e-aio-choice FILE [count] [direct]\n");
		return 1;
	}
	printf("io_uring        %8.0f IOPS\n",
	       run_uring(fd, (uint64_t)st.st_size / BS, count, buf));
	printf("thread pool x2  %8.0f IOPS\n",
	       run_pool(fd, direct, (uint64_t)st.st_size / BS, count, buf, 2));
	printf("thread pool x4  %8.0f IOPS\n",
	       run_pool(fd, direct, (uint64_t)st.st_size / BS, count, buf, 4));
	printf("thread pool x8  %8.0f IOPS\n",
	       run_pool(fd, direct, (uint64_t)st.st_size / BS, count, buf, 8));
	return 0;
}
