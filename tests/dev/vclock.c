/* The virtual clock: timers fire in deadline order with the clock at
 * their deadline, re-arming from a callback, cancel, and exact tick
 * conversions. */
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
	return tap_done(&t);
}
