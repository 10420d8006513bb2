/* Asynchronous requests on a small pool of worker threads. A worker runs
 * the backend's synchronous call; completions go back to the event loop's
 * thread through one eventfd, so callbacks never race with the device.
 * (Why a pool and not io_uring: see block.h.) */
#include "block/block.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/event_loop.h"

#define AIO_MAX_THREADS 64
/* Requests tried in the submitter's thread: any up to AIO_INLINE_MAX (a
 * copy that size from the page cache takes tens of microseconds, the loop
 * stays responsive) while the workers are idle, where the hand-off is most
 * of the latency; only small ones while they are busy, since big copies
 * go faster spread over the workers than serialized in the loop thread
 * (queue depth 32, 1 MiB: 0.74x QEMU inline, see docs/performance.md). */
#define AIO_INLINE_MAX (1u << 20)
#define AIO_INLINE_BUSY_MAX (64u << 10)

struct blk_aio {
	struct event_loop *loop;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t idle;
	struct blk_req *head, *tail;	/* queued, FIFO */
	struct blk_req *done;		/* completed, LIFO */
	unsigned in_flight;		/* submitted, callback not yet run */
	unsigned busy;			/* queued or running in a worker */
	int stopping;
	unsigned nthreads;
	pthread_t threads[AIO_MAX_THREADS];
};

static int aio_run(struct blk_req *req)
{
	struct blk *b = req->blk;

	switch (req->op) {
	case BLK_OP_READ:
		if (req->len > BLK_MAX_REQUEST)
			return -EIO;
		if (req->iovcnt)
			return blk_preadv(b, req->offset, req->iov, req->iovcnt, req->len);
		return blk_pread(b, req->offset, req->buf, req->len);
	case BLK_OP_WRITE:
		if (req->len > BLK_MAX_REQUEST)
			return -EIO;
		if (req->iovcnt)
			return blk_pwritev(b, req->offset, req->iov, req->iovcnt, req->len);
		return blk_pwrite(b, req->offset, req->buf, req->len);
	case BLK_OP_FLUSH:
		return blk_flush(b);
	case BLK_OP_DISCARD:
		return blk_discard(b, req->offset, req->len);
	case BLK_OP_WRITE_ZEROES:
		return blk_write_zeroes(b, req->offset, req->len);
	}
	return -EINVAL;
}

static void *aio_worker(void *arg)
{
	struct blk_aio *aio = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&aio->lock);
	for (;;) {
		struct blk_req *req;
		while (!aio->head && !aio->stopping)
			pthread_cond_wait(&aio->work, &aio->lock);
		if (!aio->head)
			break;
		req = aio->head;
		aio->head = req->next;
		if (!aio->head)
			aio->tail = NULL;
		pthread_mutex_unlock(&aio->lock);

		req->ret = aio_run(req);

		pthread_mutex_lock(&aio->lock);
		req->next = aio->done;
		__atomic_store_n(&aio->done, req, __ATOMIC_RELEASE);
		aio->busy--;
		if (!aio->busy)
			pthread_cond_broadcast(&aio->idle);
		/* A failed write only delays the wake-up: the counter stays
		 * readable until the loop drains it. */
		if (write(aio->efd, &one, sizeof(one)) < 0) {
			/* nothing better to do: EAGAIN means already set */
		}
	}
	pthread_mutex_unlock(&aio->lock);
	return NULL;
}

static int aio_drain(struct blk_aio *aio)
{
	struct blk_req *list, *rev = NULL;
	int n = 0;

	pthread_mutex_lock(&aio->lock);
	list = aio->done;
	aio->done = NULL;
	pthread_mutex_unlock(&aio->lock);
	/* Complete in the order workers finished. */
	while (list) {
		struct blk_req *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct blk_req *next = rev->next;
		aio->in_flight--;
		n++;
		rev->done(rev, rev->ret);
		rev = next;
	}
	return n;
}

static void aio_complete(void *opaque, uint32_t events)
{
	struct blk_aio *aio = opaque;
	uint64_t cnt;

	if (read(aio->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: a previous pass already drained it */
	}
	aio_drain(aio);
}

/* The event loop's poller: completions without waiting for the eventfd
 * (which stays set and costs one empty pass later). */
static int aio_poll(void *opaque)
{
	struct blk_aio *aio = opaque;
	if (!__atomic_load_n(&aio->done, __ATOMIC_ACQUIRE))
		return 0;
	return aio_drain(aio);
}

int blk_aio_new(struct event_loop *loop, unsigned nthreads,
		struct blk_aio **out)
{
	struct blk_aio *aio;
	int ret;

	if (nthreads == 0 || nthreads > AIO_MAX_THREADS)
		return -EINVAL;
	aio = calloc(1, sizeof(*aio));
	if (!aio)
		return -ENOMEM;
	aio->loop = loop;
	pthread_mutex_init(&aio->lock, NULL);
	pthread_cond_init(&aio->work, NULL);
	pthread_cond_init(&aio->idle, NULL);
	aio->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (aio->efd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = event_loop_add_fd(loop, aio->efd, EPOLLIN, aio_complete, aio);
	if (ret < 0)
		goto err_efd;
	ret = event_loop_add_poller(loop, aio_poll, aio);
	if (ret < 0) {
		event_loop_del_fd(loop, aio->efd);
		goto err_efd;
	}
	for (aio->nthreads = 0; aio->nthreads < nthreads; aio->nthreads++) {
		ret = -pthread_create(&aio->threads[aio->nthreads], NULL,
				      aio_worker, aio);
		if (ret < 0)
			goto err_threads;
	}
	*out = aio;
	return 0;

err_threads:
	blk_aio_free(aio);
	return ret;
err_efd:
	close(aio->efd);
err_free:
	pthread_cond_destroy(&aio->idle);
	pthread_cond_destroy(&aio->work);
	pthread_mutex_destroy(&aio->lock);
	free(aio);
	return ret;
}

void blk_aio_free(struct blk_aio *aio)
{
	unsigned i;
	if (!aio)
		return;
	pthread_mutex_lock(&aio->lock);
	while (aio->busy)
		pthread_cond_wait(&aio->idle, &aio->lock);
	__atomic_store_n(&aio->stopping, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&aio->work);
	pthread_mutex_unlock(&aio->lock);
	for (i = 0; i < aio->nthreads; i++)
		pthread_join(aio->threads[i], NULL);
	event_loop_del_poller(aio->loop, aio_poll, aio);
	event_loop_del_fd(aio->loop, aio->efd);
	close(aio->efd);
	pthread_cond_destroy(&aio->idle);
	pthread_cond_destroy(&aio->work);
	pthread_mutex_destroy(&aio->lock);
	free(aio);
}

void blk_aio_submit(struct blk_aio *aio, struct blk_req *req)
{
	struct blk *b = req->blk;

	req->next = NULL;
	req->ret = 0;
	aio->in_flight++;
	bool vec = req->iovcnt > 0;

	bool can_read = vec ? b->ops->readv_nowait != NULL : b->ops->read_nowait != NULL;
	bool can_write = vec ? b->ops->writev_nowait != NULL : b->ops->write_nowait != NULL;

	if (((req->op == BLK_OP_READ && can_read) ||
	     (req->op == BLK_OP_WRITE && can_write)) &&
	    (req->len <= AIO_INLINE_BUSY_MAX ||
	     (req->len <= AIO_INLINE_MAX &&
	      !__atomic_load_n(&aio->busy, __ATOMIC_RELAXED)))) {
		int wr = req->op == BLK_OP_WRITE;
		int ret = blk_check_request(b, req->offset, req->len, wr);
		if (ret == 0 && vec && (blk_check_iov(req->iov, req->iovcnt, req->len) ||
					req->len > BLK_MAX_REQUEST))
			ret = -EAGAIN; /* the worker's checked path says why */
		if (ret == 0 && req->len && vec)
			ret = wr ? b->ops->writev_nowait(b, req->offset, req->iov, req->iovcnt,
							 req->len) :
				   b->ops->readv_nowait(b, req->offset, req->iov, req->iovcnt,
							req->len);
		else if (ret == 0 && req->len)
			ret = wr ? b->ops->write_nowait(b, req->offset, req->buf,
							req->len) :
				   b->ops->read_nowait(b, req->offset, req->buf,
						       req->len);
		if (ret != -EAGAIN) {
			/* Done already; the callback still runs later, from
			 * the loop, never inside submit. */
			req->ret = ret;
			pthread_mutex_lock(&aio->lock);
			req->next = aio->done;
			__atomic_store_n(&aio->done, req, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&aio->lock);
			return;
		}
	}
	pthread_mutex_lock(&aio->lock);
	if (aio->tail)
		aio->tail->next = req;
	else
		__atomic_store_n(&aio->head, req, __ATOMIC_RELEASE);
	aio->tail = req;
	aio->busy++;
	pthread_cond_signal(&aio->work);
	pthread_mutex_unlock(&aio->lock);
}

unsigned blk_aio_in_flight(const struct blk_aio *aio)
{
	return aio->in_flight;
}
