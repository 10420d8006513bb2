/* The ioreq channel (see chan.h and the protocol in ioreq.h). */
#include "ioreq/chan.h"
#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A spin-wait step without PAUSE: under a hypervisor (the Firecracker VMs
 * v2e is built and measured on, any cloud host), PAUSE in a tight loop
 * is what pause-loop exiting watches for: the host takes the spinning
 * vCPU away, and the reply it waits for comes a scheduling slice later.
 * bench/disk's boot (SeaBIOS reading the kernel by PIO) took 8.4-10.9 s
 * to load vmlinuz with PAUSE and 3.2 s without, on an idle machine. */
static void cpu_relax(void)
{
	__asm__ volatile("" ::: "memory");
}

static void signal_fd(int fd)
{
	uint64_t one = 1;
	ssize_t r;
	do
		r = write(fd, &one, sizeof(one));
	while (r < 0 && errno == EINTR);
}

static void clear_fd(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r;
}

static void chan_reset(struct ioreq_chan *c)
{
	memset(c, 0, sizeof(*c));
	c->shm_fd = c->ev_fd = c->buf_fd = -1;
	c->rung_deadline = IOREQ_NEVER;
	for (unsigned v = 0; v < IOREQ_MAX_VCPUS; v++)
		c->req_fd[v] = c->resp_fd[v] = -1;
}

int ioreq_chan_create(struct ioreq_chan *c, unsigned n_vcpus)
{
	void *p;
	int r;

	chan_reset(c);
	if (n_vcpus == 0 || n_vcpus > IOREQ_MAX_VCPUS)
		return -EINVAL;
	c->n_vcpus = n_vcpus;
	c->shm_fd = memfd_create("v2e-ioreq", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->shm_fd < 0)
		return -errno;
	/* Sealed at its size, so a dm can neither shrink it under the vmm
	 * (SIGBUS) nor grow it. */
	if (ftruncate(c->shm_fd, IOREQ_SHARED_SIZE) < 0 ||
	    fcntl(c->shm_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail_errno;
	p = mmap(NULL, IOREQ_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 c->shm_fd, 0);
	if (p == MAP_FAILED)
		goto fail_errno;
	c->sh = p;
	c->sh->abi_version = IOREQ_ABI_VERSION;
	c->sh->n_vcpus = n_vcpus;
	c->sh->dm_deadline_ns = IOREQ_NEVER;
	c->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->buf_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->ev_fd < 0 || c->buf_fd < 0)
		goto fail_errno;
	for (unsigned v = 0; v < n_vcpus; v++) {
		c->req_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		c->resp_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->req_fd[v] < 0 || c->resp_fd[v] < 0)
			goto fail_errno;
	}
	return 0;

fail_errno:
	r = -errno;
	ioreq_chan_close(c);
	return r;
}

int ioreq_chan_attach(struct ioreq_chan *c, const int *fds, unsigned n_fds)
{
	struct stat st;
	unsigned n_vcpus;
	void *p;

	chan_reset(c);
	if (n_fds < IOREQ_CHAN_NFDS(1) || (n_fds - 3) % 2)
		return -EPROTO;
	n_vcpus = (n_fds - 3) / 2;
	if (n_vcpus > IOREQ_MAX_VCPUS)
		return -EPROTO;
	c->n_vcpus = n_vcpus;
	c->shm_fd = fds[IOREQ_CHAN_FD_SHM];
	c->ev_fd = fds[IOREQ_CHAN_FD_EV];
	c->buf_fd = fds[IOREQ_CHAN_FD_BUF];
	for (unsigned v = 0; v < n_vcpus; v++) {
		c->req_fd[v] = fds[IOREQ_CHAN_FD_REQ(v)];
		c->resp_fd[v] = fds[IOREQ_CHAN_FD_RESP(v)];
	}
	if (fstat(c->shm_fd, &st) < 0 || st.st_size != IOREQ_SHARED_SIZE)
		return -EPROTO;
	p = mmap(NULL, IOREQ_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 c->shm_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	c->sh = p;
	if (c->sh->abi_version != IOREQ_ABI_VERSION || c->sh->n_vcpus != n_vcpus)
		return -EPROTO;
	c->buf_read = __atomic_load_n(&c->sh->buf.read_idx, __ATOMIC_ACQUIRE);
	c->ev_write = __atomic_load_n(&c->sh->ev.write_idx, __ATOMIC_ACQUIRE);
	return 0;
}

void ioreq_chan_close(struct ioreq_chan *c)
{
	if (c->sh)
		munmap(c->sh, IOREQ_SHARED_SIZE);
	if (c->shm_fd >= 0)
		close(c->shm_fd);
	if (c->ev_fd >= 0)
		close(c->ev_fd);
	if (c->buf_fd >= 0)
		close(c->buf_fd);
	for (unsigned v = 0; v < IOREQ_MAX_VCPUS; v++) {
		if (c->req_fd[v] >= 0)
			close(c->req_fd[v]);
		if (c->resp_fd[v] >= 0)
			close(c->resp_fd[v]);
	}
	chan_reset(c);
}

unsigned ioreq_chan_fds(const struct ioreq_chan *c, int *fds)
{
	fds[IOREQ_CHAN_FD_SHM] = c->shm_fd;
	fds[IOREQ_CHAN_FD_EV] = c->ev_fd;
	fds[IOREQ_CHAN_FD_BUF] = c->buf_fd;
	for (unsigned v = 0; v < c->n_vcpus; v++) {
		fds[IOREQ_CHAN_FD_REQ(v)] = c->req_fd[v];
		fds[IOREQ_CHAN_FD_RESP(v)] = c->resp_fd[v];
	}
	return IOREQ_CHAN_NFDS(c->n_vcpus);
}

/* ---- vmm end ---- */

/* Wakes a sleeping dm through `fd`, once per sleep: whichever descriptor
 * wakes it, it looks at every slot and the ring before it sleeps again. */
static void wake_dm(struct ioreq_chan *c, int fd)
{
	uint32_t sleep = __atomic_load_n(&c->sh->dm_sleeping, __ATOMIC_SEQ_CST);
	if (sleep && sleep != c->signalled_sleep) {
		c->signalled_sleep = sleep;
		signal_fd(fd);
	}
}

static int fail(const struct ioreq_wait *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const struct ioreq_wait *w, int err, const char *fmt, ...)
{
	va_list ap;
	if (w->err && w->errlen) {
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Sleeps until something can have changed: the slot's response signal
 * (if resp_fd >= 0), an event signal, the dm's death, or `max_ns`.
 * Returns 0, or -EPIPE when the dm is gone. */
static int wait_some(struct ioreq_chan *c, int resp_fd, const struct ioreq_wait *w,
		     uint64_t max_ns)
{
	struct pollfd p[3];
	struct timespec ts = {(time_t)(max_ns / 1000000000u), (long)(max_ns % 1000000000u)};
	nfds_t n = 0;
	int r;

	p[n++] = (struct pollfd){c->ev_fd, POLLIN, 0};
	if (w->gone_fd >= 0)
		p[n++] = (struct pollfd){w->gone_fd, POLLIN, 0};
	if (resp_fd >= 0)
		p[n++] = (struct pollfd){resp_fd, POLLIN, 0};
	r = ppoll(p, n, &ts, NULL);
	if (r <= 0)
		return 0;
	if (p[0].revents & POLLIN)
		clear_fd(c->ev_fd);
	if (w->gone_fd >= 0 && p[1].revents)
		return -EPIPE;
	if (resp_fd >= 0 && (p[n - 1].revents & POLLIN))
		clear_fd(resp_fd);
	return 0;
}

static void drain(const struct ioreq_wait *w)
{
	if (w->drain)
		w->drain(w->opaque);
}

static const char *type_name(unsigned t)
{
	static const char *const names[IOREQ_TYPE_COUNT] = {"port", "MMIO", "PCI config", "timer"};
	return t < IOREQ_TYPE_COUNT ? names[t] : "?";
}

int ioreq_vmm_call(struct ioreq_chan *c, unsigned vcpu, struct ioreq *req,
		   const struct ioreq_wait *w)
{
	struct ioreq *s = &c->sh->slot[vcpu];
	uint64_t start, now;
	unsigned spins = 0;
	bool spinning = true;
	uint8_t st;

	st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	if (st != IOREQ_STATE_NONE)
		return fail(w, -EPROTO, "slot %u in state %u before a request "
			    "(the device model wrote to it)", vcpu, st);
	req->seq = ++c->seq;
	req->spin = 1;
	req->state = IOREQ_STATE_NONE;
	memcpy(s, req, offsetof(struct ioreq, state));
	__atomic_store_n(&s->state, IOREQ_STATE_READY, __ATOMIC_SEQ_CST);
	wake_dm(c, c->req_fd[vcpu]);

	start = now = mono_ns();
	for (;;) {
		st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
		if (st == IOREQ_STATE_RESP_READY)
			break;
		if (st != IOREQ_STATE_READY && st != IOREQ_STATE_INPROCESS)
			return fail(w, -EPROTO, "request slot %u moved to state %u",
				    vcpu, st);
		if (spinning) {
			cpu_relax();
			if (++spins % 64)
				continue;
			drain(w);
			now = mono_ns();
			if (now - start < w->spin_ns)
				continue;
			/* Stop spinning: from here the dm must signal. Re-read
			 * the state after saying so (the dm reads `spin` after
			 * storing RESP_READY; one of us sees the other). */
			spinning = false;
			__atomic_store_n(&s->spin, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		drain(w);
		now = mono_ns();
		if (now - start >= w->timeout_ns)
			return fail(w, -ETIMEDOUT,
				    "no answer to a %s %s of %#llx within %llu ms",
				    type_name(req->type),
				    req->dir == IOREQ_DIR_READ ? "read" : "write",
				    (unsigned long long)req->addr,
				    (unsigned long long)(w->timeout_ns / 1000000));
		if (wait_some(c, c->resp_fd[vcpu], w, w->timeout_ns - (now - start)) < 0)
			return fail(w, -EPIPE, "the device model went away during a "
				    "%s access to %#llx", type_name(req->type),
				    (unsigned long long)req->addr);
	}
	/* The answer is only `data`; every other field must be as sent. */
	if (s->addr != req->addr || s->size != req->size || s->dir != req->dir ||
	    s->df != req->df || s->data_is_ptr != req->data_is_ptr ||
	    s->type != req->type || s->count != req->count || s->seq != req->seq ||
	    s->now_ns != req->now_ns)
		return fail(w, -EPROTO, "the answer in slot %u does not match the "
			    "request (seq %u, got seq %u): corrupt device model",
			    vcpu, req->seq, s->seq);
	if (req->dir == IOREQ_DIR_READ && !req->data_is_ptr)
		req->data = s->data & (req->size >= 8 ? ~0ull : (1ull << (req->size * 8)) - 1);
	__atomic_store_n(&s->state, IOREQ_STATE_NONE, __ATOMIC_RELEASE);
	return 0;
}

/* The vmm's half of the vmm_waiting handshake (ioreq.h): says it waits,
 * then looks at the index the dm moves when it has something for it;
 * true while that still holds `seen` (sleep: the dm will signal). The
 * caller clears the flag with ioreq_vmm_wait_end() either way. */
static bool vmm_waiting(struct ioreq_chan *c, const uint32_t *idx, uint32_t seen)
{
	__atomic_store_n(&c->sh->vmm_waiting, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(idx, __ATOMIC_SEQ_CST) == seen;
}

/* Waits, draining, until the dm has consumed buffered writes down to
 * `leave` outstanding ones. */
static int buffered_wait(struct ioreq_chan *c, const struct ioreq_wait *w,
			 uint32_t leave)
{
	uint64_t start = mono_ns();
	unsigned spins = 0;
	bool gone;

	for (;;) {
		uint32_t r = __atomic_load_n(&c->sh->buf.read_idx, __ATOMIC_ACQUIRE);
		uint32_t out = c->buf_write - r;
		uint64_t now;
		if (out > IOREQ_BUF_SLOTS)
			return fail(w, -EPROTO, "buffered ring read index %u is past "
				    "the write index %u", r, c->buf_write);
		if (out <= leave)
			return 0;
		/* A dm that is up takes them within microseconds (it may be
		 * starting the disk request the last one asked for): spin as
		 * for an answer before sleeping. */
		if (++spins % 64) {
			cpu_relax();
			continue;
		}
		drain(w);
		now = mono_ns();
		if (now - start < w->spin_ns)
			continue;
		if (now - start >= w->timeout_ns)
			return fail(w, -ETIMEDOUT, "the device model did not take its "
				    "buffered writes within %llu ms",
				    (unsigned long long)(w->timeout_ns / 1000000));
		/* The writes signalled a sleeping dm already (once per sleep);
		 * one that slept since needs it now. */
		wake_dm(c, c->buf_fd);
		/* The dm signals what it serves while we say we wait. */
		gone = vmm_waiting(c, &c->sh->buf.read_idx, r) &&
		       wait_some(c, -1, w, 50000) < 0;
		ioreq_vmm_wait_end(c);
		if (gone)
			return fail(w, -EPIPE, "the device model went away with "
				    "buffered writes pending");
	}
}

int ioreq_vmm_buffered(struct ioreq_chan *c, const struct ioreq_buffered *b,
		       const struct ioreq_wait *w)
{
	int r = buffered_wait(c, w, IOREQ_BUF_SLOTS - 1);
	if (r < 0)
		return r;
	c->sh->buf.slot[c->buf_write % IOREQ_BUF_SLOTS] = *b;
	c->buf_write++;
	__atomic_store_n(&c->sh->buf.write_idx, c->buf_write, __ATOMIC_SEQ_CST);
	wake_dm(c, c->buf_fd);
	return 0;
}

int ioreq_vmm_buffered_flush(struct ioreq_chan *c, const struct ioreq_wait *w)
{
	return buffered_wait(c, w, 0);
}

int ioreq_vmm_next_event(struct ioreq_chan *c, struct ioreq_event *e)
{
	uint32_t wr = __atomic_load_n(&c->sh->ev.write_idx, __ATOMIC_ACQUIRE);
	if (wr == c->ev_read)
		return 0;
	if (wr - c->ev_read > IOREQ_EV_SLOTS)
		return -EPROTO;
	*e = c->sh->ev.slot[c->ev_read % IOREQ_EV_SLOTS];
	c->ev_read++;
	__atomic_store_n(&c->sh->ev.read_idx, c->ev_read, __ATOMIC_RELEASE);
	return 1;
}

void ioreq_vmm_events_ack(struct ioreq_chan *c)
{
	clear_fd(c->ev_fd);
}

bool ioreq_vmm_wait_begin(struct ioreq_chan *c)
{
	if (vmm_waiting(c, &c->sh->ev.write_idx, c->ev_read))
		return true;
	ioreq_vmm_wait_end(c);
	return false;
}

void ioreq_vmm_wait_end(struct ioreq_chan *c)
{
	__atomic_store_n(&c->sh->vmm_waiting, 0, __ATOMIC_SEQ_CST);
}

const volatile uint32_t *ioreq_vmm_doorbell(const struct ioreq_chan *c)
{
	return &c->sh->vmm_doorbell;
}

void ioreq_vmm_doorbell_ack(struct ioreq_chan *c)
{
	/* Cleared before the ring's index is read (both sequentially
	 * consistent): an event the dm queues after that read rings again. */
	if (__atomic_load_n(&c->sh->vmm_doorbell, __ATOMIC_RELAXED))
		__atomic_store_n(&c->sh->vmm_doorbell, 0, __ATOMIC_SEQ_CST);
}

/* ---- dm end ---- */

bool ioreq_dm_take(struct ioreq_chan *c, unsigned vcpu, struct ioreq *req)
{
	struct ioreq *s = &c->sh->slot[vcpu];
	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != IOREQ_STATE_READY)
		return false;
	memcpy(req, s, sizeof(*req));
	__atomic_store_n(&s->state, IOREQ_STATE_INPROCESS, __ATOMIC_RELAXED);
	return true;
}

void ioreq_dm_reply(struct ioreq_chan *c, unsigned vcpu, uint64_t data)
{
	struct ioreq *s = &c->sh->slot[vcpu];
	s->data = data;
	__atomic_store_n(&s->state, IOREQ_STATE_RESP_READY, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&s->spin, __ATOMIC_SEQ_CST))
		signal_fd(c->resp_fd[vcpu]);
}

bool ioreq_dm_take_buffered(struct ioreq_chan *c, struct ioreq_buffered *b)
{
	uint32_t wr = __atomic_load_n(&c->sh->buf.write_idx, __ATOMIC_ACQUIRE);
	if (wr == c->buf_read || wr - c->buf_read > IOREQ_BUF_SLOTS)
		return false;
	*b = c->sh->buf.slot[c->buf_read % IOREQ_BUF_SLOTS];
	c->buf_read++;
	return true;
}

void ioreq_dm_buffered_served(struct ioreq_chan *c)
{
	__atomic_store_n(&c->sh->buf.read_idx, c->buf_read, __ATOMIC_RELEASE);
	ioreq_dm_kick(c); /* a vmm may sleep until they are */
}

int ioreq_dm_event(struct ioreq_chan *c, const struct ioreq_event *e, bool kick,
		   uint64_t timeout_ns)
{
	uint64_t start = 0;

	for (unsigned spins = 0;; spins++) {
		uint32_t rd = __atomic_load_n(&c->sh->ev.read_idx, __ATOMIC_ACQUIRE);
		if (c->ev_write - rd < IOREQ_EV_SLOTS)
			break;
		/* Full: the vmm drains while it waits for us. */
		signal_fd(c->ev_fd);
		if (spins < 1000) {
			cpu_relax();
			continue;
		}
		if (!start)
			start = mono_ns();
		else if (mono_ns() - start > timeout_ns)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){0, 20000}, NULL);
	}
	c->sh->ev.slot[c->ev_write % IOREQ_EV_SLOTS] = *e;
	c->ev_write++;
	__atomic_store_n(&c->sh->ev.write_idx, c->ev_write, __ATOMIC_RELEASE);
	if (kick)
		ioreq_dm_kick(c);
	return 0;
}

bool ioreq_dm_sleep_begin(struct ioreq_chan *c)
{
	if (++c->sleeps == 0)
		c->sleeps = 1;
	__atomic_store_n(&c->sh->dm_sleeping, c->sleeps, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->sh->buf.write_idx, __ATOMIC_SEQ_CST) != c->buf_read)
		goto busy;
	for (unsigned v = 0; v < c->n_vcpus; v++)
		if (__atomic_load_n(&c->sh->slot[v].state, __ATOMIC_SEQ_CST) ==
		    IOREQ_STATE_READY)
			goto busy;
	return true;
busy:
	__atomic_store_n(&c->sh->dm_sleeping, 0, __ATOMIC_SEQ_CST);
	return false;
}

void ioreq_dm_sleep_end(struct ioreq_chan *c)
{
	__atomic_store_n(&c->sh->dm_sleeping, 0, __ATOMIC_SEQ_CST);
}

void ioreq_dm_kick(struct ioreq_chan *c)
{
	uint64_t deadline = __atomic_load_n(&c->sh->dm_deadline_ns, __ATOMIC_RELAXED);
	bool earlier = deadline < c->rung_deadline;

	c->rung_deadline = deadline;
	/* What was stored before (an event, the deadline) is seen before the
	 * flag is read: the vmm stores the flag, then reads those. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->sh->vmm_waiting, __ATOMIC_RELAXED))
		signal_fd(c->ev_fd);
	else if (earlier ||
		 c->ev_write != __atomic_load_n(&c->sh->ev.read_idx, __ATOMIC_SEQ_CST))
		__atomic_store_n(&c->sh->vmm_doorbell, 1, __ATOMIC_SEQ_CST);
}
