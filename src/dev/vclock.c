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

uint64_t vclock_ns_to_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ns * hz / 1000000000u);
}

uint64_t vclock_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	/* Rounded up: the tick has happened by the returned time. */
	return (uint64_t)(((unsigned __int128)ticks * 1000000000u + hz - 1) / hz);
}
