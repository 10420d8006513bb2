/* The virtual clock and its timer list (see vclock.h). */
#include "dev/vclock.h"

#include <stddef.h>

void vclock_init(struct vclock *c, uint64_t start_ns)
{
	c->now = start_ns;
	c->armed = NULL;
}

void vtimer_init(struct vtimer *t, void (*fire)(void *opaque), void *opaque)
{
	t->deadline = VCLOCK_NEVER;
	t->fire = fire;
	t->opaque = opaque;
	t->next = NULL;
	t->tick = false;
}

void vtimer_cancel(struct vclock *c, struct vtimer *t)
{
	struct vtimer **pp;
	if (t->deadline == VCLOCK_NEVER)
		return;
	for (pp = &c->armed; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->deadline = VCLOCK_NEVER;
	t->next = NULL;
}

void vtimer_arm(struct vclock *c, struct vtimer *t, uint64_t deadline)
{
	struct vtimer **pp;
	vtimer_cancel(c, t);
	t->tick = false;
	if (deadline == VCLOCK_NEVER)
		return;
	t->deadline = deadline;
	/* Equal deadlines fire in the order they were armed. */
	for (pp = &c->armed; *pp && (*pp)->deadline <= deadline; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
}

void vtimer_restore(struct vclock *c, struct vtimer *t)
{
	uint64_t deadline = t->deadline;
	/* Not VCLOCK_NEVER, so that cancel unlinks it if it is linked. */
	t->deadline = 0;
	vtimer_cancel(c, t);
	vtimer_arm(c, t, deadline);
}

uint64_t vclock_next_deadline(const struct vclock *c)
{
	return c->armed ? c->armed->deadline : VCLOCK_NEVER;
}

uint64_t vclock_next_wake(const struct vclock *c, uint64_t tick_slack)
{
	uint64_t wake = VCLOCK_NEVER;
	/* Sorted by deadline: once a deadline is past the earliest wake
	 * found, nothing after it wakes earlier. */
	for (const struct vtimer *t = c->armed; t && t->deadline < wake; t = t->next) {
		uint64_t at = t->deadline;
		if (t->tick)
			at = at > VCLOCK_NEVER - tick_slack ? VCLOCK_NEVER : at + tick_slack;
		if (at < wake)
			wake = at;
	}
	return wake;
}

void vclock_advance_to(struct vclock *c, uint64_t ns)
{
	while (c->armed && c->armed->deadline <= ns) {
		struct vtimer *t = c->armed;
		c->armed = t->next;
		t->next = NULL;
		if (t->deadline > c->now)
			c->now = t->deadline;
		t->deadline = VCLOCK_NEVER;
		t->fire(t->opaque);
	}
	if (ns > c->now)
		c->now = ns;
}

/* How far a tick's deadline may be from the grid: the guest computes it
 * from its clock a few instructions before it writes it, so each is late
 * by the host time those instructions took (under 1 us for 99% of an
 * idle Linux guest's ticks). A deadline at a random time lands this
 * close to a 4 ms grid once in 400. */
#define TICK_GRID_TOLERANCE_NS 5000
#define TICK_GRID_LEARN 3
#define TICK_PERIOD_MIN_NS 1000000
#define TICK_PERIOD_MAX_NS 100000000

static bool tick_near(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) <= TICK_GRID_TOLERANCE_NS;
}

bool tick_grid_follows(struct tick_grid *g, uint64_t deadline)
{
	bool on = false;
	uint64_t gap = deadline > g->prev ? deadline - g->prev : 0;

	if (g->period && deadline > g->last) {
		uint64_t since = deadline - g->last;
		uint64_t k = (since + g->period / 2) / g->period;
		if (k >= 1 && tick_near(since, k * g->period)) {
			/* A one-period step refines the period against the
			 * jitter of the one gap it was learnt from. */
			if (k == 1)
				g->period = (g->period * 7 + since) / 8;
			g->last = deadline;
			on = true;
		}
	}
	if (gap >= TICK_PERIOD_MIN_NS && gap <= TICK_PERIOD_MAX_NS && tick_near(gap, g->gap))
		g->same_gaps++;
	else
		g->same_gaps = 0;
	g->gap = gap;
	g->prev = deadline;
	if (!on && g->same_gaps >= TICK_GRID_LEARN) {
		g->period = gap;
		g->last = deadline;
		on = true;
	}
	return on;
}

uint64_t vclock_ns_to_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ns * hz / 1000000000u);
}

uint64_t vclock_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	/* Rounded up: the tick has happened by the returned time. */
	return (uint64_t)(((unsigned __int128)ticks * 1000000000u + hz - 1) / hz);
}
