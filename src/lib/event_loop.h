/* A small epoll event loop. One loop per thread that runs it; other threads
 * hand work to it through an fd they make readable (an eventfd), never by
 * calling into it. The block layer completes requests through it and the
 * device model's main loop will reuse it. */
#ifndef V2E_LIB_EVENT_LOOP_H
#define V2E_LIB_EVENT_LOOP_H

#include <stdint.h>

#include "lib/compiler.h"

struct event_loop;

/* Called in the loop's thread with the epoll events that fired. */
typedef void event_fd_fn(void *opaque, uint32_t events);

must_check int event_loop_new(struct event_loop **out);
void event_loop_free(struct event_loop *loop);

/* Watches fd for events (EPOLLIN, ...). One watcher per fd. */
must_check int event_loop_add_fd(struct event_loop *loop, int fd,
				 uint32_t events, event_fd_fn *fn,
				 void *opaque);
/* Stops watching fd; safe to call from inside a callback. */
int event_loop_del_fd(struct event_loop *loop, int fd);

/* A poller checks for work without a system call (a completion list, a
 * ring); it returns how many things it handled. Before blocking, the loop
 * calls its pollers for up to poll_ns, so that a reply arriving within
 * microseconds costs no sleep and wake-up (QEMU's adaptive polling idea,
 * fixed window here). The window is 0 (off) unless set. */
typedef int event_poll_fn(void *opaque);
must_check int event_loop_add_poller(struct event_loop *loop,
				     event_poll_fn *fn, void *opaque);
void event_loop_del_poller(struct event_loop *loop, event_poll_fn *fn,
			   void *opaque);
void event_loop_set_poll_ns(struct event_loop *loop, uint64_t ns);

/* Waits up to timeout_ms (-1: forever) and runs the callbacks of what
 * fired. Returns how many ran, or -errno. EINTR counts as zero. */
must_check int event_loop_run_once(struct event_loop *loop, int timeout_ms);

#endif
