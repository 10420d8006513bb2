/* Both ends of one ioreq channel (ioreq.h): the shared area and the event
 * channels (eventfds) between the vmm and one device-model process. The
 * vmm creates the channel and hands its descriptors over the control
 * socket; the dm attaches to them. Neither end trusts the other's writes
 * to the shared area: the vmm keeps its own copy of every index and
 * request, the dm bounds everything it reads. */
#ifndef V2E_IOREQ_CHAN_H
#define V2E_IOREQ_CHAN_H

#include <stdbool.h>
#include <stdint.h>

#include "ioreq/ioreq.h"
#include "lib/compiler.h"

/* Descriptors in the order ioreq_chan_fds() lists them and attach takes. */
#define IOREQ_CHAN_FD_SHM 0
#define IOREQ_CHAN_FD_EV 1  /* dm -> vmm: events (async ones) */
#define IOREQ_CHAN_FD_BUF 2 /* vmm -> dm: buffered writes */
#define IOREQ_CHAN_FD_REQ(v) (3 + 2 * (v))  /* vmm -> dm: slot v ready */
#define IOREQ_CHAN_FD_RESP(v) (4 + 2 * (v)) /* dm -> vmm: slot v answered */
#define IOREQ_CHAN_NFDS(n_vcpus) (3 + 2 * (n_vcpus))

struct ioreq_chan {
	struct ioreq_shared *sh;
	int shm_fd, ev_fd, buf_fd;
	int req_fd[IOREQ_MAX_VCPUS], resp_fd[IOREQ_MAX_VCPUS];
	unsigned n_vcpus;
	/* vmm end: its own truth, whatever the shared copies say */
	uint32_t seq;
	uint32_t ev_read;
	uint32_t buf_write;
	uint32_t signalled_sleep; /* the dm's sleep last signalled */
	/* dm end */
	uint32_t buf_read;
	uint32_t ev_write;
	uint32_t sleeps;          /* numbers the sleeps (dm_sleeping) */
	uint64_t rung_deadline;   /* the deadline as of the last kick */
};

/* vmm: a new shared area and event channels. 0 or -errno. */
int ioreq_chan_create(struct ioreq_chan *c, unsigned n_vcpus) must_check;
/* dm: attach to the descriptors received (takes ownership). 0 or -errno;
 * -EPROTO when they do not describe a channel of this ABI. */
int ioreq_chan_attach(struct ioreq_chan *c, const int *fds, unsigned n_fds)
	must_check;
void ioreq_chan_close(struct ioreq_chan *c);
/* The descriptors to send, in order; returns how many. */
unsigned ioreq_chan_fds(const struct ioreq_chan *c, int *fds);

/* ---- vmm end ---- */

/* How the vmm waits for a dm. `gone_fd` becomes readable (or hangs up)
 * when the dm is dead (its control socket). `drain` runs while waiting,
 * so events the dm queues reach the board and a full event ring never
 * blocks the dm. */
struct ioreq_wait {
	uint64_t timeout_ns;
	uint64_t spin_ns;
	int gone_fd;
	void (*drain)(void *opaque);
	void *opaque;
	char *err;
	size_t errlen;
};

/* Sends `req` (state, seq and spin are set here) on slot `vcpu` and waits
 * for the answer; on success req->data holds it (reads: masked to
 * req->size bytes unless data_is_ptr). Returns 0; -ETIMEDOUT, -EPIPE (the
 * dm is gone) or -EPROTO (the dm broke the protocol), with w->err saying
 * what happened. */
int ioreq_vmm_call(struct ioreq_chan *c, unsigned vcpu, struct ioreq *req,
		   const struct ioreq_wait *w) must_check;

/* Queues a write that needs no reply; waits (draining) while the ring is
 * full. 0 or an error as ioreq_vmm_call. */
int ioreq_vmm_buffered(struct ioreq_chan *c, const struct ioreq_buffered *b,
		       const struct ioreq_wait *w) must_check;
/* Waits until the dm has consumed every buffered write. */
int ioreq_vmm_buffered_flush(struct ioreq_chan *c, const struct ioreq_wait *w)
	must_check;
static inline bool ioreq_vmm_buffered_pending(const struct ioreq_chan *c)
{
	return __atomic_load_n(&c->sh->buf.read_idx, __ATOMIC_ACQUIRE) != c->buf_write;
}

/* The next event from the dm: 1 (into *e), 0 if none, -EPROTO if the
 * dm's ring index is impossible. The event's fields are the dm's: the
 * caller checks them. */
int ioreq_vmm_next_event(struct ioreq_chan *c, struct ioreq_event *e) must_check;
/* Takes the events signal after a sleep it ended: the eventfd stays
 * readable until read, and every later sleep would end at once. Call it
 * before draining the ring, so an event queued meanwhile is not missed. */
void ioreq_vmm_events_ack(struct ioreq_chan *c);
/* Around a sleep that only an event may end early (a halted vCPU): the
 * dm signals events only then. False: an event is already queued, drain
 * it instead of sleeping. */
bool ioreq_vmm_wait_begin(struct ioreq_chan *c) must_check;
/* The doorbell a running vCPU watches (ioreq.h, vmm_doorbell). */
const volatile uint32_t *ioreq_vmm_doorbell(const struct ioreq_chan *c);
/* Before draining the ring: a doorbell rung after it is for later events. */
void ioreq_vmm_doorbell_ack(struct ioreq_chan *c);
void ioreq_vmm_wait_end(struct ioreq_chan *c);

/* ---- dm end ---- */

/* Takes the request in slot `vcpu` if there is one (READY -> INPROCESS);
 * the copy in *req is what the dm serves. */
bool ioreq_dm_take(struct ioreq_chan *c, unsigned vcpu, struct ioreq *req);
/* Answers it: data (reads) then RESP_READY, and the signal unless the
 * vmm is spinning. */
void ioreq_dm_reply(struct ioreq_chan *c, unsigned vcpu, uint64_t data);
/* The next buffered write, if any. */
bool ioreq_dm_take_buffered(struct ioreq_chan *c, struct ioreq_buffered *b);
/* Tells the vmm that every write taken so far is served: once per batch,
 * not per write (one cache-line transfer), and after what they changed
 * is published (published reads rely on it). Signals a vmm that sleeps
 * until they are. */
void ioreq_dm_buffered_served(struct ioreq_chan *c);
/* Queues an event for the vmm, waiting while the ring is full (up to
 * timeout_ns; -ETIMEDOUT then). `kick` signals the vmm's events eventfd
 * if the vmm sleeps (for events that do not come with a reply). */
int ioreq_dm_event(struct ioreq_chan *c, const struct ioreq_event *e,
		   bool kick, uint64_t timeout_ns) must_check;

/* Before sleeping: says so in the shared area and checks for work once
 * more. True: sleep (poll the request and buffered eventfds), then call
 * ioreq_dm_sleep_end. False: work arrived, serve it. */
bool ioreq_dm_sleep_begin(struct ioreq_chan *c);
void ioreq_dm_sleep_end(struct ioreq_chan *c);

/* Tells the vmm that something it reads outside a reply changed: events
 * queued, the dm's timer deadline after host input. A sleeping vmm gets
 * the events eventfd; a running one the doorbell, when events wait for it
 * or the deadline came earlier (buffered writes served alone need
 * neither: the vmm looks at the burst's end). */
void ioreq_dm_kick(struct ioreq_chan *c);

#endif
