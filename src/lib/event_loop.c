#include "lib/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

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
};

int event_loop_new(struct event_loop **out)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
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

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int i, n = epoll_wait(loop->epfd, evs, ARRAY_SIZE(evs), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->dispatching = 1;
	for (i = 0; i < n; i++) {
		struct watcher *w = evs[i].data.ptr;
		/* A callback earlier in this batch may have removed it. */
		if (!w->dead)
			w->fn(w->opaque, evs[i].events);
	}
	loop->dispatching = 0;
	reap(loop);
	return n;
}
