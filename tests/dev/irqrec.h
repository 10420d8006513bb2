/* An interrupt-line recorder for device tests: an irq_line whose
 * listener keeps the level, counts rising and falling edges, and logs
 * each call with the virtual time it came at (when given a clock). */
#ifndef V2E_TESTS_DEV_IRQREC_H
#define V2E_TESTS_DEV_IRQREC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dev/device.h"
#include "dev/vclock.h"

#define IRQREC_MAX 512

struct irqrec_event {
	uint64_t at; /* virtual ns, 0 without a clock */
	unsigned pin;
	bool level;
};

struct irqrec {
	const struct vclock *clock; /* optional: times the events */
	bool level;                 /* as last driven */
	unsigned rises, falls;      /* level changes */
	unsigned calls;             /* every set_level, changes or not */
	unsigned n;                 /* events logged, at most IRQREC_MAX */
	struct irqrec_event ev[IRQREC_MAX];
};

/* The irq_line set_level: opaque is the struct irqrec. */
static inline void irqrec_set(void *opaque, unsigned pin, bool level)
{
	struct irqrec *q = opaque;
	if (level && !q->level)
		q->rises++;
	if (!level && q->level)
		q->falls++;
	q->level = level;
	q->calls++;
	if (q->n < IRQREC_MAX) {
		q->ev[q->n].at = q->clock ? vclock_now(q->clock) : 0;
		q->ev[q->n].pin = pin;
		q->ev[q->n].level = level;
		q->n++;
	}
}

static inline void irqrec_init(struct irqrec *q, const struct vclock *clock)
{
	memset(q, 0, sizeof(*q));
	q->clock = clock;
}

/* Forgets the counts and the log, keeping the level and the clock. */
static inline void irqrec_clear(struct irqrec *q)
{
	q->rises = q->falls = q->calls = q->n = 0;
}

static inline struct irq_line irqrec_line(struct irqrec *q, unsigned pin)
{
	return (struct irq_line){irqrec_set, q, pin};
}

/* Same level, same edges and the same calls at the same times. */
static inline bool irqrec_same(const struct irqrec *a, const struct irqrec *b)
{
	if (a->level != b->level || a->rises != b->rises ||
	    a->falls != b->falls || a->calls != b->calls || a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (a->ev[i].at != b->ev[i].at || a->ev[i].pin != b->ev[i].pin ||
		    a->ev[i].level != b->ev[i].level)
			return false;
	return true;
}

#endif
