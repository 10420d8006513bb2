#include "lib/event_loop.h"
#include "lib/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_POLLERS 8
/* Off by default: on a loaded 2-core host, spinning before sleeping cost
 * more than the wake-ups it saves (bench/block, docs/performance.md). */
#define DEFAULT_POLL_NS 0

struct watcher {
	int fd;
	int dead;
	event_fd_fn *fn;
	void *opaque;
	struct watcher *next;
};

struct event_loop {
	int epfd;
	struct watcher *list;	/* live and dead watchers */
	int dispatching;	/* dead ones are freed only outside dispatch */
	unsigned npollers;
	event_poll_fn *poll_fn[MAX_POLLERS];
	void *poll_opaque[MAX_POLLERS];
	uint64_t poll_ns;
};

int event_loop_new(struct event_loop **out)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->poll_ns = DEFAULT_POLL_NS;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = -errno;
		free(loop);
		return err;
	}
	*out = loop;
	return 0;
}

void event_loop_free(struct event_loop *loop)
{
	struct watcher *w, *next;
	if (!loop)
		return;
	for (w = loop->list; w; w = next) {
		next = w->next;
		free(w);
	}
	close(loop->epfd);
	free(loop);
}

int event_loop_add_fd(struct event_loop *loop, int fd, uint32_t events,
		      event_fd_fn *fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct watcher *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->fn = fn;
	w->opaque = opaque;
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		free(w);
		return err;
	}
	w->next = loop->list;
	loop->list = w;
	return 0;
}

static void reap(struct event_loop *loop)
{
	struct watcher **pp = &loop->list;
	while (*pp) {
		struct watcher *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

int event_loop_del_fd(struct event_loop *loop, int fd)
{
	struct watcher *w;
	for (w = loop->list; w; w = w->next) {
		if (w->fd == fd && !w->dead) {
			/* The fd may already be closed; the watcher goes anyway. */
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
			w->dead = 1;
			if (!loop->dispatching)
				reap(loop);
			return 0;
		}
	}
	return -ENOENT;
}

int event_loop_add_poller(struct event_loop *loop, event_poll_fn *fn,
			  void *opaque)
{
	if (loop->npollers == MAX_POLLERS)
		return -ENOSPC;
	loop->poll_fn[loop->npollers] = fn;
	loop->poll_opaque[loop->npollers] = opaque;
	loop->npollers++;
	return 0;
}

void event_loop_del_poller(struct event_loop *loop, event_poll_fn *fn,
			   void *opaque)
{
	unsigned i;
	for (i = 0; i < loop->npollers; i++) {
		if (loop->poll_fn[i] == fn && loop->poll_opaque[i] == opaque) {
			loop->npollers--;
			loop->poll_fn[i] = loop->poll_fn[loop->npollers];
			loop->poll_opaque[i] = loop->poll_opaque[loop->npollers];
			return;
		}
	}
}

void event_loop_set_poll_ns(struct event_loop *loop, uint64_t ns)
{
	loop->poll_ns = ns;
}


static int run_pollers(struct event_loop *loop)
{
	unsigned i;
	int n = 0;
	for (i = 0; i < loop->npollers; i++)
		n += loop->poll_fn[i](loop->poll_opaque[i]);
	return n;
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int i, n, polled = 0;

	/* Pollers run at least once: work they find needs no sleep. */
	if (loop->npollers) {
		uint64_t start = loop->poll_ns && timeout_ms ? mono_ns() : 0;
		polled = run_pollers(loop);
		while (!polled && start && mono_ns() - start < loop->poll_ns)
			polled = run_pollers(loop);
		if (polled)
			timeout_ms = 0;
	}
	n = epoll_wait(loop->epfd, evs, ARRAY_SIZE(evs), timeout_ms);
	if (n < 0)
		return errno == EINTR ? polled : -errno;
	loop->dispatching = 1;
	for (i = 0; i < n; i++) {
		struct watcher *w = evs[i].data.ptr;
		/* A callback earlier in this batch may have removed it. */
		if (!w->dead)
			w->fn(w->opaque, evs[i].events);
	}
	loop->dispatching = 0;
	reap(loop);
	return n + polled;
}
