/* Halt polling (KVM's halt_poll_ns idea): a vCPU that halts while a
 * device model is about to answer (a disk request in flight, 30-60 us on
 * the IDE path) looks at the dms' doorbells for a while before it
 * sleeps, so the answer costs no wake-up of the vmm. The window follows
 * the halts: one ended by a dm within HALT_POLL_MAX_NS widens it (from
 * HALT_POLL_START_NS, doubling), one that lasted longer, or that
 * something else ended, halves it (to 0 below the start), so an idle
 * guest waiting for its tick soon polls not at all. */
#ifndef V2E_VMM_HALT_POLL_H
#define V2E_VMM_HALT_POLL_H

#include <stdbool.h>
#include <stdint.h>

#define HALT_POLL_START_NS 10000u
#define HALT_POLL_MAX_NS 200000u

/* The window after a halt of `halt_ns` under window `window`, ended by a
 * dm's event (`by_dm`) or not. A halt the poll caught keeps it. */
static inline uint64_t halt_poll_window(uint64_t window, uint64_t halt_ns,
					bool by_dm)
{
	if (halt_ns <= window)
		return window;
	if (by_dm && halt_ns < HALT_POLL_MAX_NS) {
		window = window < HALT_POLL_START_NS ? HALT_POLL_START_NS : window * 2;
		return window < HALT_POLL_MAX_NS ? window : HALT_POLL_MAX_NS;
	}
	return window / 2 < HALT_POLL_START_NS ? 0 : window / 2;
}

#endif
