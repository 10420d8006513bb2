/* The ioreq channel between two processes: a forked child plays the
 * device model. Answers and masking, the state machine, events in order
 * past the ring's size, buffered writes ordered before a later request,
 * and a dm that corrupts, stalls or dies: the vmm end reports each one
 * and never hangs. */
#include "ioreq/chan.h"
#include "tests/tap.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum mode {
	M_ECHO,      /* reads answer addr * 3; writes remember data */
	M_EVENTS,    /* a write of N queues N line events, then answers */
	M_CORRUPT,   /* answers with the seq changed */
	M_STALL,     /* never answers */
	M_DIE,       /* exits on the first request */
	M_BAD_INDEX, /* moves the event ring's write index far away */
};

struct rig {
	struct ioreq_chan c;
	pid_t child;
	int gone[2]; /* the child holds gone[1]: its end is our "gone" signal */
	uint64_t events;
	uint64_t next_level;
	bool order_ok;
};

static void child_serve(struct ioreq_chan *vc, enum mode mode)
{
	struct ioreq_chan c;
	int fds[IOREQ_CHAN_NFDS(1)];
	unsigned n = ioreq_chan_fds(vc, fds);
	uint64_t last_write = 0;
	struct ioreq q;
	struct ioreq_buffered b;

	/* Attach through copies, as a dm that received them would. */
	for (unsigned i = 0; i < n; i++)
		fds[i] = dup(fds[i]);
	if (ioreq_chan_attach(&c, fds, n) < 0)
		_exit(3);
	for (;;) {
		while (ioreq_dm_take_buffered(&c, &b))
			last_write = b.data;
		ioreq_dm_buffered_served(&c);
		if (!ioreq_dm_take(&c, 0, &q))
			continue;
		while (ioreq_dm_take_buffered(&c, &b))
			last_write = b.data;
		ioreq_dm_buffered_served(&c);
		switch (mode) {
		case M_ECHO:
			if (q.dir == IOREQ_DIR_READ)
				ioreq_dm_reply(&c, 0, q.addr == 0xb0f ? last_write
								      : q.addr * 3 + 0xff00000000ull);
			else {
				last_write = q.data;
				ioreq_dm_reply(&c, 0, 0);
			}
			break;
		case M_EVENTS:
			for (uint64_t i = 0; i < q.data; i++) {
				struct ioreq_event e = {IOREQ_EV_LINE, 0, 4, i & 1};
				if (ioreq_dm_event(&c, &e, false, 5000000000ull) < 0)
					_exit(4);
			}
			ioreq_dm_reply(&c, 0, 0);
			break;
		case M_CORRUPT:
			c.sh->slot[0].seq += 7;
			ioreq_dm_reply(&c, 0, 0);
			break;
		case M_STALL:
			for (;;)
				pause();
		case M_DIE:
			_exit(0);
		case M_BAD_INDEX:
			__atomic_store_n(&c.sh->ev.write_idx, c.ev_write + 5000, __ATOMIC_RELEASE);
			ioreq_dm_reply(&c, 0, 0);
			break;
		}
	}
}

static void rig_start(struct rig *g, enum mode mode)
{
	memset(g, 0, sizeof(*g));
	g->order_ok = true;
	if (ioreq_chan_create(&g->c, 1) < 0 || pipe(g->gone) < 0)
		exit(1);
	g->child = fork();
	if (g->child == 0) {
		close(g->gone[0]);
		child_serve(&g->c, mode);
	}
	close(g->gone[1]);
}

static void rig_stop(struct rig *g)
{
	int st;
	kill(g->child, SIGKILL);
	waitpid(g->child, &st, 0);
	close(g->gone[0]);
	ioreq_chan_close(&g->c);
}

static void drain(void *opaque)
{
	struct rig *g = opaque;
	struct ioreq_event e;
	while (ioreq_vmm_next_event(&g->c, &e) > 0) {
		if (e.type != IOREQ_EV_LINE || e.a != 4 || e.b != (g->next_level & 1))
			g->order_ok = false;
		g->next_level++;
		g->events++;
	}
}

static char err[256];

static struct ioreq_wait wait_for(struct rig *g, uint64_t timeout_ms)
{
	return (struct ioreq_wait){timeout_ms * 1000000u, 20000, g->gone[0], drain, g,
				   err, sizeof(err)};
}

static int do_call(struct rig *g, uint8_t dir, uint64_t addr, uint64_t data,
		   uint8_t size, uint64_t *out, uint64_t timeout_ms)
{
	struct ioreq q = {.addr = addr, .data = data, .size = size, .count = 1,
			  .dir = dir, .type = IOREQ_TYPE_PIO};
	struct ioreq_wait w = wait_for(g, timeout_ms);
	int r = ioreq_vmm_call(&g->c, 0, &q, &w);
	if (out)
		*out = q.data;
	return r;
}

static bool readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, 0) == 1;
}

/* A channel with both ends in this process, the dm's through copies of
 * the descriptors as a dm would receive them. */
static bool both_ends(struct tap *t, struct ioreq_chan *vc, struct ioreq_chan *dc)
{
	int fds[IOREQ_CHAN_NFDS(1)];
	unsigned n;

	if (ioreq_chan_create(vc, 1) != 0) {
		tap_ok(t, false, "a channel for both ends");
		return false;
	}
	n = ioreq_chan_fds(vc, fds);
	for (unsigned i = 0; i < n; i++)
		fds[i] = dup(fds[i]);
	if (ioreq_chan_attach(dc, fds, n) != 0) {
		tap_ok(t, false, "the dm end attaches in the same process");
		ioreq_chan_close(vc);
		return false;
	}
	return true;
}

/* Both ends in this process: when the dm signals the vmm's events
 * eventfd (only while the vmm says it waits). */
static void test_vmm_waiting(struct tap *t)
{
	struct ioreq_chan vc, dc;
	struct ioreq_event e = {IOREQ_EV_LINE, 0, 5, 1}, got;
	struct ioreq_buffered b = {0x1f2, 1, 0, 1, IOREQ_TYPE_PIO, {0}};
	struct ioreq_wait w = {1000000000ull, 0, -1, NULL, NULL, err, sizeof(err)};

	if (!both_ends(t, &vc, &dc))
		return;
	tap_ok(t, ioreq_dm_event(&dc, &e, true, 1000000000ull) == 0 && !readable(vc.ev_fd),
	       "an event while the vmm runs is queued without a signal");
	tap_ok(t, !ioreq_vmm_wait_begin(&vc) && !vc.sh->vmm_waiting,
	       "the vmm does not sleep over a queued event");
	tap_ok(t, ioreq_vmm_next_event(&vc, &got) == 1 && got.a == 5, "the event is drained");
	tap_ok(t, ioreq_vmm_wait_begin(&vc), "with the ring empty the vmm may sleep");
	tap_ok(t, ioreq_dm_event(&dc, &e, true, 1000000000ull) == 0 && readable(vc.ev_fd),
	       "an event while the vmm sleeps signals it");
	ioreq_vmm_wait_end(&vc);
	ioreq_vmm_events_ack(&vc);
	tap_ok(t, ioreq_vmm_next_event(&vc, &got) == 1 && !readable(vc.ev_fd) &&
		       !vc.sh->vmm_waiting, "woken: the signal taken, the flag cleared");
	tap_ok(t, ioreq_dm_event(&dc, &e, false, 1000000000ull) == 0 &&
		       ioreq_vmm_next_event(&vc, &got) == 1 && !readable(vc.ev_fd),
	       "an event that comes with an answer never signals");
	tap_ok(t, ioreq_vmm_buffered(&vc, &b, &w) == 0 &&
		       ioreq_dm_take_buffered(&dc, &b) && (ioreq_dm_buffered_served(&dc), 1) &&
		       !readable(vc.ev_fd) && !ioreq_vmm_buffered_pending(&vc),
	       "a write served while the vmm runs is not signalled");
	vc.sh->vmm_waiting = 1; /* as buffered_wait() does around its sleep */
	tap_ok(t, ioreq_vmm_buffered(&vc, &b, &w) == 0 &&
		       ioreq_dm_take_buffered(&dc, &b) && (ioreq_dm_buffered_served(&dc), 1) &&
		       readable(vc.ev_fd),
	       "a write served while the vmm waits for it is signalled");
	ioreq_chan_close(&dc);
	ioreq_chan_close(&vc);
}

/* The doorbell a running vmm's vCPU watches: rung for events queued
 * outside an answer and for an earlier deadline, never for served writes
 * alone, and never while the vmm sleeps (the eventfd is for that). */
static void test_doorbell(struct tap *t)
{
	struct ioreq_chan vc, dc;
	struct ioreq_event e = {IOREQ_EV_LINE, 0, 5, 1}, got;
	struct ioreq_buffered b = {0x1f2, 1, 0, 1, IOREQ_TYPE_PIO, {0}};
	struct ioreq_wait w = {1000000000ull, 0, -1, NULL, NULL, err, sizeof(err)};
	const volatile uint32_t *bell;

	if (!both_ends(t, &vc, &dc))
		return;
	bell = ioreq_vmm_doorbell(&vc);
	tap_ok(t, ioreq_dm_event(&dc, &e, true, 1000000000ull) == 0 && *bell &&
		       !readable(vc.ev_fd),
	       "an event while the vmm runs rings the doorbell, no signal");
	ioreq_vmm_doorbell_ack(&vc);
	tap_ok(t, !*bell && ioreq_vmm_next_event(&vc, &got) == 1,
	       "acknowledged before the ring is drained");
	tap_ok(t, ioreq_dm_event(&dc, &e, false, 1000000000ull) == 0 && !*bell &&
		       ioreq_vmm_next_event(&vc, &got) == 1,
	       "an event that comes with an answer does not ring");
	tap_ok(t, ioreq_vmm_buffered(&vc, &b, &w) == 0 &&
		       ioreq_dm_take_buffered(&dc, &b) && (ioreq_dm_buffered_served(&dc), 1) &&
		       !*bell,
	       "a write served with no event does not ring");
	tap_ok(t, ioreq_dm_event(&dc, &e, false, 1000000000ull) == 0 &&
		       (ioreq_dm_kick(&dc), 1) && *bell,
	       "a kick while an event waits rings");
	ioreq_vmm_doorbell_ack(&vc);
	(void)!ioreq_vmm_next_event(&vc, &got);
	dc.sh->dm_deadline_ns = 5000;
	ioreq_dm_kick(&dc);
	tap_ok(t, *bell, "an earlier timer deadline rings");
	ioreq_vmm_doorbell_ack(&vc);
	ioreq_dm_kick(&dc);
	dc.sh->dm_deadline_ns = 6000;
	ioreq_dm_kick(&dc);
	tap_ok(t, !*bell, "the same deadline, or a later one, does not");
	tap_ok(t, ioreq_vmm_wait_begin(&vc) &&
		       ioreq_dm_event(&dc, &e, true, 1000000000ull) == 0 && !*bell &&
		       readable(vc.ev_fd),
	       "while the vmm sleeps: the eventfd, not the doorbell");
	ioreq_vmm_wait_end(&vc);
	ioreq_chan_close(&dc);
	ioreq_chan_close(&vc);
}

/* How many signals an eventfd holds; takes them. */
static uint64_t signals(int fd)
{
	uint64_t v = 0;
	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

/* Both ends in this process: the vmm signals a sleeping dm once per
 * sleep, however many writes it makes before the dm is up. */
static void test_dm_sleep_signals(struct tap *t)
{
	struct ioreq_chan vc, dc;
	struct ioreq_buffered b = {0x1f2, 1, 0, 1, IOREQ_TYPE_PIO, {0}};
	struct ioreq_wait w = {1000000000ull, 0, -1, NULL, NULL, err, sizeof(err)};
	bool ok = true;

	if (!both_ends(t, &vc, &dc))
		return;
	tap_ok(t, ioreq_vmm_buffered(&vc, &b, &w) == 0 && signals(dc.buf_fd) == 0,
	       "a write to an awake dm is not signalled");
	while (ioreq_dm_take_buffered(&dc, &b))
		;
	ioreq_dm_buffered_served(&dc);
	tap_ok(t, ioreq_dm_sleep_begin(&dc), "with nothing pending the dm may sleep");
	for (unsigned i = 0; i < 5; i++)
		ok &= ioreq_vmm_buffered(&vc, &b, &w) == 0;
	tap_ok(t, ok && signals(dc.buf_fd) == 1, "five writes to a sleeping dm: one signal");
	ioreq_dm_sleep_end(&dc);
	while (ioreq_dm_take_buffered(&dc, &b))
		;
	ioreq_dm_buffered_served(&dc);
	tap_ok(t, ioreq_dm_sleep_begin(&dc) && ioreq_vmm_buffered(&vc, &b, &w) == 0 &&
		       signals(dc.buf_fd) == 1, "its next sleep is signalled again");
	ioreq_dm_sleep_end(&dc);
	ioreq_chan_close(&dc);
	ioreq_chan_close(&vc);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(void)
{
	struct tap t = {0};
	struct rig g;
	uint64_t v = 0, t0;
	int r, bad = 0;

	rig_start(&g, M_ECHO);
	for (unsigned i = 0; i < 2000; i++) {
		uint8_t size = (uint8_t)(1u << (i % 3));
		uint64_t want = (i * 3 + 0xff00000000ull) & ((1ull << (size * 8)) - 1);
		if (do_call(&g, IOREQ_DIR_READ, i, 0, size, &v, 2000) != 0 || v != want)
			bad++;
	}
	tap_ok(&t, bad == 0, "2000 reads answered, each masked to its size (%d bad)", bad);
	tap_ok(&t, g.c.sh->slot[0].state == IOREQ_STATE_NONE, "slot back to NONE after a call");
	r = 0;
	for (uint64_t i = 1; i <= 1000 && !r; i++) {
		struct ioreq_buffered b = {0x80, i, 0, 1, IOREQ_TYPE_PIO, {0}};
		struct ioreq_wait w = wait_for(&g, 2000);
		r = ioreq_vmm_buffered(&g.c, &b, &w);
	}
	tap_ok(&t, r == 0, "1000 buffered writes through a 256-entry ring");
	r = do_call(&g, IOREQ_DIR_READ, 0xb0f, 0, 4, &v, 2000);
	tap_ok(&t, r == 0 && v == 1000,
	       "a request after buffered writes sees all of them first (last %llu)",
	       (unsigned long long)v);
	{
		struct ioreq_wait w = wait_for(&g, 2000);
		tap_ok(&t, ioreq_vmm_buffered_flush(&g.c, &w) == 0 &&
			       !ioreq_vmm_buffered_pending(&g.c), "flush leaves nothing pending");
	}
	rig_stop(&g);

	rig_start(&g, M_EVENTS);
	r = do_call(&g, IOREQ_DIR_WRITE, 1, 5000, 1, NULL, 5000);
	drain(&g); /* what the caller does after every answer */
	tap_ok(&t, r == 0, "a request whose answer comes after 5000 events (ring of %d)",
	       IOREQ_EV_SLOTS);
	tap_ok(&t, g.events == 5000 && g.order_ok,
	       "every event arrived, in order (%llu)", (unsigned long long)g.events);
	rig_stop(&g);

	rig_start(&g, M_CORRUPT);
	r = do_call(&g, IOREQ_DIR_READ, 0x3f8, 0, 1, &v, 2000);
	tap_ok(&t, r == -EPROTO && strstr(err, "does not match"),
	       "an answer with a changed seq is refused: %s", err);
	rig_stop(&g);

	rig_start(&g, M_STALL);
	t0 = now_ms();
	r = do_call(&g, IOREQ_DIR_READ, 0x60, 0, 1, &v, 300);
	tap_ok(&t, r == -ETIMEDOUT && now_ms() - t0 >= 300 && now_ms() - t0 < 3000,
	       "a dm that never answers times out (%s)", err);
	rig_stop(&g);

	rig_start(&g, M_DIE);
	t0 = now_ms();
	r = do_call(&g, IOREQ_DIR_WRITE, 0x92, 1, 1, NULL, 10000);
	tap_ok(&t, r == -EPIPE && now_ms() - t0 < 5000,
	       "a dm that dies mid-request is noticed at once (%s)", err);
	rig_stop(&g);

	rig_start(&g, M_BAD_INDEX);
	{
		struct ioreq q = {.addr = 1, .size = 1, .count = 1, .dir = IOREQ_DIR_WRITE};
		struct ioreq_wait w = wait_for(&g, 2000);
		struct ioreq_event e;
		w.drain = NULL;
		r = ioreq_vmm_call(&g.c, 0, &q, &w);
		tap_ok(&t, r == 0 && ioreq_vmm_next_event(&g.c, &e) == -EPROTO,
		       "an event index past the ring's size is refused");
	}
	rig_stop(&g);

	test_vmm_waiting(&t);
	test_doorbell(&t);
	test_dm_sleep_signals(&t);

	{
		struct ioreq_chan c;
		int fds[5] = {-1, -1, -1, -1, -1};
		tap_ok(&t, ioreq_chan_attach(&c, fds, 4) == -EPROTO,
		       "attach refuses a descriptor count that is no channel");
	}
	return tap_done(&t);
}
