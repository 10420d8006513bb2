/* The virtual clock: timers fire in deadline order with the clock at
 * their deadline, re-arming from a callback, cancel, exact tick
 * conversions, a sleeping vCPU's wake-up with a tick's slack, and the
 * tick grid a periodic kernel's one-shot deadlines show. */
#include "dev/vclock.h"
#include "tests/tap.h"

struct rec {
	struct vclock *c;
	int log[16];
	uint64_t at[16];
	int n;
	int rearm; /* times timer 1 re-arms itself, 1 ms apart */
	struct vtimer t1;
};

struct ev {
	struct rec *r;
	int id;
};

static void fire_ev(void *opaque)
{
	struct ev *e = opaque;
	struct rec *r = e->r;
	if (r->n < 16) {
		r->log[r->n] = e->id;
		r->at[r->n] = vclock_now(r->c);
		r->n++;
	}
	if (e->id == 1 && r->rearm > 0) {
		r->rearm--;
		vtimer_arm(r->c, &r->t1, vclock_now(r->c) + 1000000);
	}
}

static void nop(void *opaque)
{
	(void)opaque;
}

/* Only a timer marked as a tick may wake late, and an earlier or
 * unmarked deadline still bounds the wake-up. */
static void test_next_wake(struct tap *t)
{
	struct vclock c;
	struct vtimer tick, other;

	vclock_init(&c, 0);
	vtimer_init(&tick, nop, NULL);
	vtimer_init(&other, nop, NULL);
	tap_ok(t, vclock_next_wake(&c, 20000000) == VCLOCK_NEVER, "nothing armed: never");
	vtimer_arm(&c, &tick, 4000000);
	tap_ok(t, vclock_next_wake(&c, 20000000) == 4000000, "an unmarked deadline keeps its time");
	tick.tick = true;
	tap_ok(t, vclock_next_wake(&c, 20000000) == 24000000, "a tick wakes up to the slack late");
	tap_ok(t, vclock_next_deadline(&c) == 4000000, "the deadline itself is unchanged");
	vtimer_arm(&c, &other, 9000000);
	tap_ok(t, vclock_next_wake(&c, 20000000) == 9000000, "a later unmarked deadline bounds it");
	vtimer_arm(&c, &tick, 30000000);
	tap_ok(t, !tick.tick, "arming again clears the mark");
	tick.tick = true;
	tap_ok(t, vclock_next_wake(&c, 20000000) == 9000000, "an earlier unmarked deadline wakes first");
	vtimer_cancel(&c, &other);
	tap_ok(t, vclock_next_wake(&c, VCLOCK_NEVER) == VCLOCK_NEVER, "the sum saturates");
	tap_ok(t, vclock_next_wake(&c, 0) == 30000000, "no slack: the deadline");
}

/* Deadlines 4 ms apart with a little jitter, as Linux's tick gives them;
 * a program's deadline between ticks; a tick taken late (several periods
 * skipped); a new period after the guest changes it. */
static void test_tick_grid(struct tap *t)
{
	struct tick_grid g = {0};
	uint64_t p = 4000000, d = 1000000000;
	static const int jitter[] = {300, -250, 800, -400, 100, 0, -900, 500};
	bool on[8];

	for (int i = 0; i < 8; i++)
		on[i] = tick_grid_follows(&g, d + (uint64_t)i * p + (uint64_t)(int64_t)jitter[i]);
	tap_ok(t, !on[0] && !on[1] && !on[2] && !on[3],
	       "no tick before the period is learnt from equal gaps");
	tap_ok(t, on[4] && on[5] && on[6] && on[7], "then each deadline on the grid is a tick");
	d += 7 * p;
	tap_ok(t, !tick_grid_follows(&g, d + 1733000), "a program's deadline between ticks is not");
	tap_ok(t, tick_grid_follows(&g, d + p + 200), "the next tick after it still is");
	tap_ok(t, tick_grid_follows(&g, d + 7 * p - 300), "so is one five periods on (a late tick)");
	tap_ok(t, !tick_grid_follows(&g, d + 8 * p - 300 + 20000), "20 us off the grid is not");
	d += 7 * p;
	for (int i = 0; i < 8; i++)
		on[i] = tick_grid_follows(&g, d + 1234567 + (uint64_t)i * 10000000);
	tap_ok(t, !on[3] && on[4] && on[7], "a new period (10 ms) is learnt the same way");
	struct tick_grid h = {0};
	uint64_t at = d;
	int ticks = 0;
	/* A program's nanosleep loop: each deadline 1 ms after the last
	 * plus a run time that varies by tens of microseconds. */
	for (int i = 0; i < 40; i++) {
		at += 1000000 + 50000 + (uint64_t)((i * 7919) % 60000);
		ticks += tick_grid_follows(&h, at);
	}
	tap_ok(t, ticks == 0, "uneven deadlines are never ticks (%d)", ticks);
}

int main(void)
{
	struct tap t = {0};
	struct vclock c;
	struct rec r = {0};
	struct ev e1 = {&r, 1}, e2 = {&r, 2}, e3 = {&r, 3};
	struct vtimer t2, t3;

	vclock_init(&c, 0);
	r.c = &c;
	vtimer_init(&r.t1, fire_ev, &e1);
	vtimer_init(&t2, fire_ev, &e2);
	vtimer_init(&t3, fire_ev, &e3);
	vtimer_arm(&c, &t2, 5000);
	vtimer_arm(&c, &r.t1, 3000);
	vtimer_arm(&c, &t3, 9000);
	tap_ok(&t, vclock_next_deadline(&c) == 3000, "earliest deadline first");
	vtimer_cancel(&c, &t3);
	tap_ok(&t, !vtimer_armed(&t3), "cancel disarms");
	r.rearm = 2;
	vclock_advance_to(&c, 2500000);
	tap_ok(&t, r.n == 4, "fired: t1, t2, t1 again, t1 again (%d)", r.n);
	tap_ok(&t, r.log[0] == 1 && r.at[0] == 3000 && r.log[1] == 2 && r.at[1] == 5000,
	       "in deadline order, each at its own deadline");
	tap_ok(&t, r.at[2] == 1003000 && r.at[3] == 2003000,
	       "a periodic timer re-armed from its callback does not drift");
	tap_ok(&t, vclock_now(&c) == 2500000, "clock ends at the target");
	vclock_advance_to(&c, 1000);
	tap_ok(&t, vclock_now(&c) == 2500000, "never goes backwards");
	tap_ok(&t, vclock_ns_to_ticks(1000000000, 1193182) == 1193182 &&
		       vclock_ns_to_ticks(vclock_ticks_to_ns(12345, 1193182), 1193182) == 12345,
	       "tick conversions are exact both ways");
	test_next_wake(&t);
	test_tick_grid(&t);
	return tap_done(&t);
}
