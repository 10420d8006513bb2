/* The virtual clock of one VM (DESIGN.md, "Time"): nanoseconds since the
 * VM started, and timers that fire when it passes their deadline. Every
 * time source of the platform (TSC, PIT, RTC, LAPIC timer, ACPI PM timer,
 * HPET) derives from this one clock, so they always agree.
 *
 * The clock does not advance by itself: its owner (the vCPU loop) moves it
 * with vclock_advance_to(), from the host's monotonic clock in real-time
 * mode or from retired instructions in deterministic mode, and calls due
 * timers there. Devices only read it and arm timers. Not thread-safe:
 * used from the thread that runs the platform. */
#ifndef V2E_DEV_VCLOCK_H
#define V2E_DEV_VCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define VCLOCK_NEVER UINT64_MAX

struct vtimer {
	uint64_t deadline; /* VCLOCK_NEVER when not armed */
	void (*fire)(void *opaque);
	void *opaque;
	struct vtimer *next; /* armed timers, sorted by deadline */
	/* Set by the device after vtimer_arm(), for that arming only: the
	 * deadline is a guest's periodic tick, which a sleeping vCPU may
	 * take late (vclock_next_wake()). */
	bool tick;
};

struct vclock {
	uint64_t now;
	struct vtimer *armed;
};

void vclock_init(struct vclock *c, uint64_t start_ns);
static inline uint64_t vclock_now(const struct vclock *c)
{
	return c->now;
}

void vtimer_init(struct vtimer *t, void (*fire)(void *opaque), void *opaque);
/* Arms (or re-arms) the timer for an absolute deadline. A deadline at or
 * before now fires at the next vclock_advance_to(). */
void vtimer_arm(struct vclock *c, struct vtimer *t, uint64_t deadline);
void vtimer_cancel(struct vclock *c, struct vtimer *t);
static inline bool vtimer_armed(const struct vtimer *t)
{
	return t->deadline != VCLOCK_NEVER;
}

/* After a state load wrote t->deadline directly (a saved deadline):
 * links the timer for that deadline, wherever it was linked before, or
 * leaves it unarmed for VCLOCK_NEVER. */
void vtimer_restore(struct vclock *c, struct vtimer *t);

/* The earliest armed deadline, or VCLOCK_NEVER. */
uint64_t vclock_next_deadline(const struct vclock *c);

/* When a sleeping vCPU must wake: the earliest armed deadline, with
 * `tick_slack` ns added to each tick's (VCLOCK_NEVER if none). */
uint64_t vclock_next_wake(const struct vclock *c, uint64_t tick_slack);

/* Moves the clock forward to `ns` (never backwards), firing every timer
 * whose deadline is passed, in deadline order, each with the clock set
 * to its own deadline so a periodic device can re-arm from it without
 * drift. A timer may re-arm itself or others from its callback. */
void vclock_advance_to(struct vclock *c, uint64_t ns);

/* A guest's periodic tick, as the deadlines it gives a one-shot timer
 * show it: a kernel with a periodic tick and high-resolution timers
 * (Linux's HZ_PERIODIC with hrtimers) puts each tick a whole number of
 * periods after the last, where other deadlines (a program's nanosleep)
 * fall anywhere. A tick taken late costs such a guest nothing but the
 * lateness: it catches its jiffies up from its clock source when the
 * interrupt comes. Host-side bookkeeping, not device state: a restored
 * device learns the period again. */
struct tick_grid {
	uint64_t period;    /* 0 until learnt */
	uint64_t last;      /* the last deadline on the grid */
	uint64_t prev, gap; /* the last deadline seen, and its distance from the one before */
	unsigned same_gaps; /* equal gaps in a row */
};

/* Records a deadline the device armed, and says whether it is on the
 * grid (a tick). The period is learnt from four equal gaps in a row
 * (five deadlines), between 1 and 100 ms. */
bool tick_grid_follows(struct tick_grid *g, uint64_t deadline);

/* Conversions for devices with an input clock in Hz (PIT 1193182 Hz, RTC
 * 32768 Hz, UART baud): whole ticks elapsed by `ns`, and the time of tick
 * number `ticks`. Exact in 128-bit arithmetic, so they never drift. */
uint64_t vclock_ns_to_ticks(uint64_t ns, uint64_t hz);
uint64_t vclock_ticks_to_ns(uint64_t ticks, uint64_t hz);

#endif
