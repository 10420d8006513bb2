/* The 8254 and port 0x61: each mode's OUT and counts at chosen virtual
 * times, reloads while counting, latch and read-back, BCD, the read/write
 * modes, GATE 2 through port 0x61 with OUT2, IRQ 0 edges at exact times
 * without drift, the refresh toggle, timers only when needed, hostile
 * writes. A count written at tick w loads on pulse w + 1 (L below). */
#include "vmm/platform/pit.h"
#include "tests/tap.h"

#define MAXEV 4096
#define STATUS_NULL_FOR_TEST 0x40

struct rec {
	struct vclock *clk;
	unsigned n;
	bool level[MAXEV];
	uint64_t at[MAXEV];
	bool cur;
	unsigned rises;
	uint64_t last_rise;
};

static void rec_irq(void *opaque, unsigned pin, bool level)
{
	struct rec *r = opaque;
	if (level && !r->cur) {
		r->rises++;
		r->last_rise = vclock_now(r->clk);
	}
	r->cur = level;
	if (r->n < MAXEV) {
		r->level[r->n] = level;
		r->at[r->n] = vclock_now(r->clk);
		r->n++;
	}
}

struct env {
	struct vclock clk;
	struct pit pit;
	struct rec rec;
};

static void env_init(struct env *e, uint64_t tick)
{
	struct irq_line l = {rec_irq, &e->rec, 0};
	vclock_init(&e->clk, 0);
	e->rec = (struct rec){0};
	e->rec.clk = &e->clk;
	pit_init(&e->pit, &l, &e->clk);
	vclock_advance_to(&e->clk, vclock_ticks_to_ns(tick, PIT_HZ));
}

static uint64_t ns(uint64_t tick)
{
	return vclock_ticks_to_ns(tick, PIT_HZ);
}

/* Moves the clock to the start of tick `tick` (firing timers on the way). */
static void at(struct env *e, uint64_t tick)
{
	vclock_advance_to(&e->clk, ns(tick));
}

static void out(struct env *e, unsigned port, uint8_t v)
{
	if (port == 0x61)
		pit_port61_ops.write(&e->pit, 0, 1, v);
	else
		pit_ops.write(&e->pit, port - 0x40, 1, v);
}

static uint8_t in(struct env *e, unsigned port)
{
	if (port == 0x61)
		return (uint8_t)pit_port61_ops.read(&e->pit, 0, 1);
	return (uint8_t)pit_ops.read(&e->pit, port - 0x40, 1);
}

static void out16(struct env *e, unsigned port, uint16_t v)
{
	out(e, port, (uint8_t)v);
	out(e, port, (uint8_t)(v >> 8));
}

/* Counter latch, then LSB and MSB. */
static uint16_t latched(struct env *e, unsigned i)
{
	uint16_t v;
	out(e, 0x43, (uint8_t)(i << 6));
	v = in(e, 0x40 + i);
	return (uint16_t)(v | in(e, 0x40 + i) << 8);
}

static uint8_t status(struct env *e, unsigned i)
{
	out(e, 0x43, (uint8_t)(0xe0 | 2u << i));
	return in(e, 0x40 + i);
}

static uint64_t tick_now(struct env *e)
{
	return vclock_ns_to_ticks(vclock_now(&e->clk), PIT_HZ);
}

static bool out_at(struct env *e, unsigned i, uint64_t tick)
{
	at(e, tick);
	return pit_out(&e->pit, i);
}

static void test_mode0(struct tap *t)
{
	struct env e;
	uint64_t w = 1000, L = w + 1;

	env_init(&e, w);
	out(&e, 0x43, 0x30);
	tap_ok(t, (status(&e, 0) & 0xc0) == STATUS_NULL_FOR_TEST,
	       "mode 0 set: OUT low, null count");
	out16(&e, 0x40, 100);
	tap_ok(t, (status(&e, 0) & STATUS_NULL_FOR_TEST) != 0,
	       "null count until the loading pulse");
	at(&e, L);
	tap_ok(t, (status(&e, 0) & STATUS_NULL_FOR_TEST) == 0 && latched(&e, 0) == 100,
	       "loaded on the next pulse: CE = 100, null count clear");
	at(&e, L + 50);
	tap_ok(t, latched(&e, 0) == 50, "CE = 50 after 50 pulses");
	tap_ok(t, !out_at(&e, 0, L + 99) && e.rec.n == 0, "OUT low at CE = 1");
	at(&e, L + 100);
	tap_ok(t, pit_out(&e.pit, 0) && e.rec.n == 1 && e.rec.level[0] &&
		       e.rec.at[0] == ns(L + 100),
	       "OUT and IRQ 0 rise at terminal count, N + 1 pulses after the write");
	at(&e, L + 105);
	tap_ok(t, latched(&e, 0) == 0xfffb && pit_out(&e.pit, 0),
	       "the CE wraps on past 0, OUT stays high");
	tap_ok(t, !vtimer_armed(&e.pit.timer), "no timer after terminal count");

	/* Linux's one-shot: a new count without a control word. */
	w = L + 200;
	at(&e, w);
	out(&e, 0x40, 30);
	tap_ok(t, !pit_out(&e.pit, 0) && e.rec.n == 2 && !e.rec.level[1] &&
		       e.rec.at[1] == ns(w),
	       "first byte: counting stops, OUT (IRQ 0) low at once");
	at(&e, w + 10);
	out(&e, 0x40, 0);
	L = w + 11;
	at(&e, L + 30);
	tap_ok(t, e.rec.n == 3 && e.rec.level[2] && e.rec.at[2] == ns(L + 30),
	       "second byte loads on the next pulse: IRQ 0 edge 30 pulses later");

	/* Reload while counting, without a terminal count first. */
	at(&e, L + 100);
	out16(&e, 0x40, 1000);
	at(&e, L + 600);
	out16(&e, 0x40, 1000);
	at(&e, L + 1700);
	tap_ok(t, e.rec.n == 5 && e.rec.at[4] == ns(L + 600 + 1 + 1000),
	       "a new count restarts the countdown from its write");
}

/* Counter 2 in mode 0 as Linux's and SeaBIOS's calibration loops use
 * it: GATE through port 0x61, OUT2 polled at bit 5. */
static void test_gate2_mode0(struct tap *t)
{
	struct env e;
	uint64_t L = 101;

	env_init(&e, 100);
	out(&e, 0x61, (uint8_t)((in(&e, 0x61) & ~0x02) | 0x01));
	out(&e, 0x43, 0xb0);
	out16(&e, 0x42, 1000);
	tap_ok(t, (in(&e, 0x61) & 0x20) == 0, "mode 0 on counter 2: OUT2 low while counting");
	at(&e, L + 400);
	out(&e, 0x61, 0x00);
	at(&e, L + 5000);
	tap_ok(t, latched(&e, 2) == 600 && (in(&e, 0x61) & 0x20) == 0,
	       "GATE low: counting suspended at 600");
	out(&e, 0x61, 0x01);
	tap_ok(t, !out_at(&e, 2, L + 5000 + 599) && out_at(&e, 2, L + 5000 + 600),
	       "GATE high: resumes, terminal count 600 pulses later");
	tap_ok(t, (in(&e, 0x61) & 0x21) == 0x21, "OUT2 high at port 0x61 bit 5");
	tap_ok(t, e.rec.n == 0 && vclock_next_deadline(&e.clk) == VCLOCK_NEVER,
	       "counter 2 never touches IRQ 0 nor arms a timer");
}

static void test_mode1_5(struct tap *t)
{
	struct env e;
	uint64_t g;

	env_init(&e, 500);
	out(&e, 0x43, 0xb2); /* counter 2, LSB/MSB, mode 1 */
	out16(&e, 0x42, 10);
	at(&e, 600);
	tap_ok(t, pit_out(&e.pit, 2) && (status(&e, 2) & STATUS_NULL_FOR_TEST),
	       "mode 1: OUT high, count waits for a trigger (null count)");
	g = 700;
	at(&e, g);
	out(&e, 0x61, 0x01);
	tap_ok(t, pit_out(&e.pit, 2), "OUT still high on the trigger's tick");
	at(&e, g + 1);
	tap_ok(t, !pit_out(&e.pit, 2) && latched(&e, 2) == 10 &&
		       !(status(&e, 2) & STATUS_NULL_FOR_TEST),
	       "OUT low on the next pulse, CE = 10");
	tap_ok(t, !out_at(&e, 2, g + 10) && out_at(&e, 2, g + 11),
	       "one-shot lasts N pulses");
	tap_ok(t, (in(&e, 0x61) & 0x20) != 0, "OUT2 at port 0x61 bit 5");
	/* Retrigger in the middle, with a new count written before. */
	g = 800;
	at(&e, g);
	out(&e, 0x61, 0x00);
	out(&e, 0x61, 0x01);
	at(&e, g + 5);
	out16(&e, 0x42, 40);
	tap_ok(t, !out_at(&e, 2, g + 10) && out_at(&e, 2, g + 11),
	       "a count written during the one-shot waits for the next trigger");
	at(&e, g + 20);
	out(&e, 0x61, 0x00);
	at(&e, g + 25);
	out(&e, 0x61, 0x01);
	tap_ok(t, !out_at(&e, 2, g + 26 + 39) && out_at(&e, 2, g + 26 + 40),
	       "retrigger: the new count, OUT low for 40 pulses");
	at(&e, g + 26 + 45);
	tap_ok(t, latched(&e, 2) == (uint16_t)(40 - 45), "and the CE wraps on");
	out(&e, 0x61, 0x00);

	/* Mode 5 on counter 2. */
	out(&e, 0x43, 0xba);
	out16(&e, 0x42, 20);
	at(&e, 2000);
	tap_ok(t, out_at(&e, 2, 2100), "mode 5: nothing until GATE rises");
	out(&e, 0x61, 0x01);
	tap_ok(t, out_at(&e, 2, 2100 + 20) && !out_at(&e, 2, 2100 + 21) &&
		       out_at(&e, 2, 2100 + 22),
	       "strobe low for one pulse, N + 1 pulses after the trigger");
	/* Counters 0 and 1 have GATE high: mode 1 never starts. */
	out(&e, 0x43, 0x72);
	out16(&e, 0x41, 5);
	tap_ok(t, out_at(&e, 1, 2300) && latched(&e, 1) == 0,
	       "counter 1 in mode 1: GATE tied high, never triggered");
}

static void test_mode2(struct tap *t)
{
	struct env e;
	uint64_t w = 12345, L = w + 1, n = 1000, L2;
	bool exact = true;
	unsigned rises = 0;

	env_init(&e, w);
	out(&e, 0x43, 0x34);
	out16(&e, 0x40, (uint16_t)n);
	e.rec.n = 0; /* the mode set raised OUT */
	at(&e, L + 10);
	tap_ok(t, latched(&e, 0) == 990 && pit_out(&e.pit, 0), "mode 2: CE = 990, OUT high");
	tap_ok(t, latched(&e, 0) == 990, "latch and read in the same tick agree");
	tap_ok(t, !out_at(&e, 0, L + n - 1) && latched(&e, 0) == 1,
	       "OUT low while the CE holds 1");
	tap_ok(t, out_at(&e, 0, L + n) && latched(&e, 0) == n,
	       "reload: OUT high, CE = N");
	tap_ok(t, e.rec.n == 2 && !e.rec.level[0] && e.rec.at[0] == ns(L + n - 1) &&
		       e.rec.level[1] && e.rec.at[1] == ns(L + n),
	       "IRQ 0 lowered and raised at the exact ticks");
	/* 1000 periods: every edge on time, none missing. */
	e.rec.n = 0;
	at(&e, L + 1001 * n);
	for (unsigned k = 0; k < e.rec.n && k < MAXEV; k++) {
		uint64_t period = k / 2 + 2;
		uint64_t want = e.rec.level[k] ? L + period * n : L + period * n - 1;
		if (e.rec.at[k] != ns(want) || e.rec.level[k] != (k & 1))
			exact = false;
		rises += e.rec.level[k];
	}
	tap_ok(t, e.rec.n == 2000 && rises == 1000 && exact,
	       "1000 periods: 2000 edges, each at L + kN (- 1), no drift (%u)", e.rec.n);
	tap_ok(t, vclock_next_deadline(&e.clk) == ns(L + 1002 * n - 1),
	       "one timer armed, for the next falling edge");
	/* A new count mid-period waits for the end of the period. */
	at(&e, L + 1001 * n + 300);
	out16(&e, 0x40, 500);
	tap_ok(t, (status(&e, 0) & STATUS_NULL_FOR_TEST) != 0, "null count until then");
	tap_ok(t, latched(&e, 0) == n - 300, "the current period goes on");
	L2 = L + 1002 * n;
	e.rec.n = 0;
	at(&e, L2 + 1000);
	tap_ok(t, e.rec.n == 6 && e.rec.at[1] == ns(L2) && e.rec.at[3] == ns(L2 + 500) &&
		       e.rec.at[5] == ns(L2 + 1000),
	       "the new count takes over at the end of the period");
	tap_ok(t, (status(&e, 0) & STATUS_NULL_FOR_TEST) == 0, "null count clear");
	/* Count 0 is 65536. */
	out(&e, 0x43, 0x34);
	out16(&e, 0x40, 0);
	w = L2 + 1000;
	e.rec.n = 0;
	at(&e, w + 1 + 65536);
	tap_ok(t, e.rec.n == 2 && e.rec.at[1] == ns(w + 1 + 65536),
	       "count 0: a period of 65536");
	tap_ok(t, latched(&e, 0) == 0, "CE reads 0 (65536) on reload");

	/* GATE on counter 2 in mode 2. */
	out(&e, 0x61, 0x01);
	out(&e, 0x43, 0xb4);
	w = tick_now(&e) + 100;
	at(&e, w);
	out16(&e, 0x42, 100);
	at(&e, w + 1 + 150);
	tap_ok(t, latched(&e, 2) == 50, "counter 2 in mode 2 with GATE high");
	out(&e, 0x61, 0x00);
	tap_ok(t, out_at(&e, 2, w + 1 + 199) && latched(&e, 2) == 50,
	       "GATE low: stopped, OUT forced high");
	out(&e, 0x61, 0x01);
	tap_ok(t, latched(&e, 2) == 50 && out_at(&e, 2, w + 200 + 1) &&
		       latched(&e, 2) == 100 && !out_at(&e, 2, w + 200 + 100),
	       "GATE rising: reloaded on the next pulse, a full period again");
}

static void test_mode3(struct tap *t)
{
	struct env e;
	uint64_t w = 777, L = w + 1, n = 1193, L2;
	bool exact = true;
	static const uint16_t odd_ce[] = {6, 4, 2, 0, 6, 4, 2, 6};
	static const bool odd_out[] = {1, 1, 1, 1, 0, 0, 0, 1};
	bool odd_ok = true;

	env_init(&e, w);
	out(&e, 0x43, 0x36);
	out16(&e, 0x40, 1000);
	e.rec.n = 0; /* the mode set raised OUT */
	tap_ok(t, out_at(&e, 0, L) && latched(&e, 0) == 1000, "mode 3: CE = 1000 on load");
	tap_ok(t, out_at(&e, 0, L + 1) && latched(&e, 0) == 998, "down by two");
	tap_ok(t, out_at(&e, 0, L + 499) && latched(&e, 0) == 2, "high for 500 pulses");
	tap_ok(t, !out_at(&e, 0, L + 500) && latched(&e, 0) == 1000, "low half reloads");
	tap_ok(t, out_at(&e, 0, L + 1000), "high again after 1000");
	tap_ok(t, e.rec.n == 2 && e.rec.at[0] == ns(L + 500) && e.rec.at[1] == ns(L + 1000),
	       "IRQ 0 edges at L + 500 and L + 1000");

	/* A new count in the high half is loaded at the end of the half. */
	at(&e, L + 1100);
	out16(&e, 0x40, 200);
	e.rec.n = 0;
	at(&e, L + 1800 + 1);
	tap_ok(t, e.rec.n == 4 && e.rec.at[0] == ns(L + 1500) && e.rec.at[1] == ns(L + 1600) &&
		       e.rec.at[2] == ns(L + 1700) && e.rec.at[3] == ns(L + 1800),
	       "new count after the current half-cycle: low 100, high 100, ...");

	/* Odd count: high (N+1)/2, low (N-1)/2. */
	out(&e, 0x43, 0x36);
	w = 5000;
	at(&e, w);
	out16(&e, 0x40, 7);
	for (unsigned k = 0; k < 8; k++) {
		at(&e, w + 1 + k);
		if (latched(&e, 0) != odd_ce[k] || pit_out(&e.pit, 0) != odd_out[k])
			odd_ok = false;
	}
	tap_ok(t, odd_ok, "count 7: CE 6 4 2 0 | 6 4 2, OUT high 4, low 3");

	/* About 1 kHz (N = 1193) for 1000 periods: every rise exactly at
	 * L + kN. */
	out(&e, 0x43, 0x36);
	w = 10000;
	at(&e, w);
	out16(&e, 0x40, (uint16_t)n);
	L2 = w + 1;
	e.rec.n = 0;
	at(&e, L2 + 1000 * n);
	for (unsigned k = 0; k < e.rec.n && k < MAXEV; k++) {
		uint64_t want = e.rec.level[k] ? L2 + (k / 2 + 1) * n : L2 + (k / 2) * n + 597;
		if (e.rec.at[k] != ns(want))
			exact = false;
	}
	tap_ok(t, e.rec.n == 2000 && exact,
	       "1000 square-wave periods: edges at L + kN + 597 and L + (k+1)N, no drift");
	tap_ok(t, e.rec.at[1999] == ns(L2 + 1000 * n),
	       "the 1000th rise at exactly L + 1000 N");

	/* Speaker tone on counter 2, seen at port 0x61 bit 5. */
	out(&e, 0x61, 0x03);
	out(&e, 0x43, 0xb6);
	w = 3000000;
	at(&e, w);
	out16(&e, 0x42, 100);
	tap_ok(t, (in(&e, 0x61) & 0x23) == 0x23, "port 0x61: gate, speaker, OUT2 high");
	at(&e, w + 1 + 50);
	tap_ok(t, (in(&e, 0x61) & 0x20) == 0, "OUT2 low in the second half");
	out(&e, 0x61, 0x02);
	tap_ok(t, (in(&e, 0x61) & 0x20) != 0, "GATE2 low forces OUT2 high");
}

static void test_mode4(struct tap *t)
{
	struct env e;
	uint64_t w = 40, L = w + 1;

	env_init(&e, w);
	out(&e, 0x43, 0x38);
	tap_ok(t, pit_out(&e.pit, 0), "mode 4: OUT high after the mode set");
	out16(&e, 0x40, 50);
	at(&e, L + 60);
	tap_ok(t, e.rec.n == 3 && !e.rec.level[1] && e.rec.at[1] == ns(L + 50) &&
		       e.rec.level[2] && e.rec.at[2] == ns(L + 51),
	       "strobe: IRQ 0 low for exactly the pulse at CE = 0");
	tap_ok(t, latched(&e, 0) == (uint16_t)(50 - 60), "CE wraps on");
	/* Software retrigger: a new count restarts. */
	out16(&e, 0x40, 20);
	at(&e, L + 100);
	out16(&e, 0x40, 20);
	e.rec.n = 0;
	at(&e, L + 200);
	tap_ok(t, e.rec.n == 2 && e.rec.at[0] == ns(L + 101 + 20),
	       "a new count written during counting restarts it");
	/* GATE on counter 2 suspends mode 4. */
	out(&e, 0x61, 0x00);
	out(&e, 0x43, 0xb8);
	out16(&e, 0x42, 10);
	at(&e, L + 300);
	tap_ok(t, latched(&e, 2) == 10, "GATE low: loaded but not counting");
	out(&e, 0x61, 0x01);
	tap_ok(t, out_at(&e, 2, L + 309) && !out_at(&e, 2, L + 310) &&
		       out_at(&e, 2, L + 311),
	       "GATE high: counts, strobe 10 pulses later");
}

static void test_latch_readback(struct tap *t)
{
	struct env e;
	uint8_t s;
	uint16_t a, b;

	env_init(&e, 100);
	out(&e, 0x43, 0x34);
	out16(&e, 0x40, 10000);
	out(&e, 0x43, 0x74);
	out16(&e, 0x41, 30000);
	at(&e, 101 + 1000);
	out(&e, 0x43, 0x00);
	at(&e, 101 + 2000);
	out(&e, 0x43, 0x00); /* ignored: counter 0 already latched */
	out(&e, 0x43, 0x40); /* counter 1 */
	at(&e, 101 + 3000);
	a = in(&e, 0x40);
	a |= (uint16_t)(in(&e, 0x40) << 8);
	b = in(&e, 0x41);
	b |= (uint16_t)(in(&e, 0x41) << 8);
	tap_ok(t, a == 9000, "latched value held (%u), second latch ignored", a);
	tap_ok(t, b == 28000, "counter 1 latched independently (%u)", b);
	a = in(&e, 0x40);
	a |= (uint16_t)(in(&e, 0x40) << 8);
	tap_ok(t, a == 7000, "after the latch is read, reads are live (%u)", a);

	/* Read-back: status and count of counter 0, status comes first. */
	out(&e, 0x43, 0xc2);
	at(&e, 101 + 3500);
	s = in(&e, 0x40);
	a = in(&e, 0x40);
	a |= (uint16_t)(in(&e, 0x40) << 8);
	tap_ok(t, s == 0xb4, "status: OUT high, count loaded, RW 3, mode 2, binary (%#x)", s);
	tap_ok(t, a == 7000, "then the count latched with it");
	/* Count latched before status: status still first. */
	out(&e, 0x43, 0xd2);
	out(&e, 0x43, 0xe2);
	s = in(&e, 0x40);
	a = in(&e, 0x40);
	a |= (uint16_t)(in(&e, 0x40) << 8);
	tap_ok(t, s == 0xb4 && a == 6500, "count then status latched: status read first");
	/* Several counters at once, and repeated status latches. */
	out(&e, 0x43, 0x40);      /* counter 1 latch, read at once */
	in(&e, 0x41);
	in(&e, 0x41);
	out(&e, 0x43, 0x38);      /* counter 0: mode 4 */
	out(&e, 0x43, 0xce);      /* read-back count+status of 0, 1, 2 */
	out(&e, 0x43, 0xee);      /* status again: ignored, already latched */
	at(&e, 101 + 4000);
	s = in(&e, 0x40);
	tap_ok(t, s == (0x80 | 0x40 | 0x38), "counter 0 after a mode set: null count (%#x)", s);
	s = in(&e, 0x41);
	tap_ok(t, s == 0xb4, "counter 1 status (%#x)", s);
	b = in(&e, 0x41);
	b |= (uint16_t)(in(&e, 0x41) << 8);
	tap_ok(t, b == 26500, "counter 1 count from the same read-back (%u)", b);
	s = in(&e, 0x42);
	tap_ok(t, s == 0x70, "counter 2 at power-on: mode 0, OUT low, no count (%#x)", s);
}

static void test_bcd_rw(struct tap *t)
{
	struct env e;
	uint64_t w;
	uint8_t lo, hi;

	env_init(&e, 10);
	out(&e, 0x43, 0x35); /* mode 2, BCD */
	out16(&e, 0x40, 0x1000);
	at(&e, 11 + 1);
	tap_ok(t, latched(&e, 0) == 0x0999, "BCD: 1000 - 1 reads 0999");
	at(&e, 11 + 999);
	tap_ok(t, latched(&e, 0) == 0x0001, "BCD: reads 0001 at the end of the period");
	at(&e, 11 + 1000);
	tap_ok(t, latched(&e, 0) == 0x1000 && e.rec.rises == 2,
	       "BCD: a period of 1000 pulses (one rise at the mode set, one at the reload)");
	out(&e, 0x43, 0x31); /* mode 0, BCD, count 0 = 10000 */
	out16(&e, 0x40, 0);
	at(&e, 1012);
	tap_ok(t, latched(&e, 0) == 0, "BCD count 0 loads as 10000 (reads 0000)");
	at(&e, 1013);
	tap_ok(t, latched(&e, 0) == 0x9999, "then 9999");
	at(&e, 1012 + 9999);
	tap_ok(t, !pit_out(&e.pit, 0), "OUT low one pulse before 10000");
	at(&e, 1012 + 10000);
	tap_ok(t, pit_out(&e.pit, 0) && latched(&e, 0) == 0, "terminal count after 10000");
	at(&e, 1012 + 10001);
	tap_ok(t, latched(&e, 0) == 0x9999, "BCD wraps to 9999");

	/* LSB-only and MSB-only read/write modes. */
	out(&e, 0x43, 0x10); /* counter 0, LSB only, mode 0 */
	w = tick_now(&e);
	out(&e, 0x40, 200);
	at(&e, w + 1 + 50);
	out(&e, 0x43, 0x00);
	tap_ok(t, in(&e, 0x40) == 150 && !e.pit.c[0].count_latched,
	       "LSB only: one write is the count, one read empties the latch");
	at(&e, w + 1 + 60);
	tap_ok(t, in(&e, 0x40) == 140, "LSB only: live read");
	out(&e, 0x43, 0x20); /* MSB only, mode 0 */
	w = tick_now(&e);
	out(&e, 0x40, 0x12);
	at(&e, w + 1 + 0x100);
	tap_ok(t, e.pit.c[0].n == 0x1200 && in(&e, 0x40) == 0x11,
	       "MSB only: count 0x1200, 256 pulses later the MSB reads 0x11");

	/* Separate read and write flip-flops: read LSB, write LSB, read
	 * MSB, write MSB (the datasheet's example). */
	out(&e, 0x43, 0x30);
	w = tick_now(&e);
	out16(&e, 0x40, 0x1234);
	at(&e, w + 1 + 0x34);
	lo = in(&e, 0x40);
	out(&e, 0x40, 0x10);
	at(&e, w + 1 + 0x40);
	hi = in(&e, 0x40);
	out(&e, 0x40, 0x00);
	tap_ok(t, lo == 0x00 && hi == 0x12, "interleaved: read 0x1200 while the first byte stopped counting");
	w = tick_now(&e);
	at(&e, w + 1 + 4);
	tap_ok(t, latched(&e, 0) == 0x0c, "new count 0x10 loaded from the interleaved writes");
	/* A latch read half way: LSB of the latch, then the latch's MSB
	 * even though time moved on. */
	out(&e, 0x43, 0x34);
	w = tick_now(&e);
	out16(&e, 0x40, 0x3000);
	at(&e, w + 1 + 0x100);
	out(&e, 0x43, 0x00);
	lo = in(&e, 0x40);
	at(&e, w + 1 + 0x300);
	hi = in(&e, 0x40);
	tap_ok(t, lo == 0x00 && hi == 0x2f, "latched LSB and MSB belong together");
}

static void test_refresh(struct tap *t)
{
	struct env e;
	unsigned changes = 0;
	uint8_t prev, v;
	bool stable = true;

	env_init(&e, 1000);
	prev = in(&e, 0x61) & 0x10;
	for (uint64_t k = 1; k <= PIT_HZ / 1000; k++) {
		at(&e, 1000 + k);
		v = in(&e, 0x61) & 0x10;
		if (v != (in(&e, 0x61) & 0x10))
			stable = false;
		changes += v != prev;
		prev = v;
	}
	tap_ok(t, changes >= 65 && changes <= 67,
	       "port 0x61 bit 4 toggles about 66 times a millisecond (%u)", changes);
	tap_ok(t, stable, "and only with the virtual clock");
	out(&e, 0x61, 0xff);
	tap_ok(t, (in(&e, 0x61) & 0xcf) == 0x0f, "bits 0-3 stored, 6-7 read 0");
}

static void test_idle(struct tap *t)
{
	struct env e;

	env_init(&e, 0);
	tap_ok(t, vclock_next_deadline(&e.clk) == VCLOCK_NEVER, "power-on: no timer");
	out(&e, 0x43, 0x34);
	tap_ok(t, vclock_next_deadline(&e.clk) == VCLOCK_NEVER, "mode set, no count: no timer");
	out(&e, 0x43, 0x74);
	out16(&e, 0x41, 18);
	out(&e, 0x61, 0x01);
	out(&e, 0x43, 0xb6);
	out16(&e, 0x42, 1000);
	tap_ok(t, vclock_next_deadline(&e.clk) == VCLOCK_NEVER,
	       "counters 1 and 2 running: still no timer (no IRQ on them)");
	out16(&e, 0x40, 5000);
	tap_ok(t, vclock_next_deadline(&e.clk) == ns(1 + 4999),
	       "counter 0 in mode 2: one timer, for its next edge");
	out(&e, 0x43, 0x30);
	tap_ok(t, vclock_next_deadline(&e.clk) == VCLOCK_NEVER,
	       "a mode set stops it: timer cancelled");
	out(&e, 0x43, 0x34);
	out16(&e, 0x40, 1); /* illegal in mode 2 */
	out(&e, 0x43, 0x36);
	out16(&e, 0x40, 1); /* illegal in mode 3 */
	at(&e, 100);
	tap_ok(t, vclock_next_deadline(&e.clk) == VCLOCK_NEVER && pit_out(&e.pit, 0),
	       "count 1 in modes 2/3: OUT steady high, no timer");
}

static void test_hostile(struct tap *t)
{
	static const unsigned ports[] = {0x40, 0x41, 0x42, 0x43, 0x61};
	struct env e;
	uint32_t x = 12345;
	bool sane = true;

	env_init(&e, 0);
	for (unsigned i = 0; i < 5; i++) {
		for (unsigned v = 0; v < 256; v++) {
			out(&e, ports[i], (uint8_t)v);
			for (unsigned j = 0; j < 5; j++)
				in(&e, ports[j]);
			at(&e, tick_now(&e) + (v % 7));
		}
	}
	for (unsigned k = 0; k < 20000; k++) {
		x = x * 1103515245u + 12345u;
		if (x & 0x10000)
			out(&e, ports[(x >> 20) % 5], (uint8_t)(x >> 8));
		else
			in(&e, ports[(x >> 20) % 5]);
		at(&e, tick_now(&e) + ((x >> 28) & 3));
		if (vclock_next_deadline(&e.clk) != VCLOCK_NEVER &&
		    vclock_next_deadline(&e.clk) <= vclock_now(&e.clk))
			sane = false;
	}
	tap_ok(t, sane, "every byte to every port, then random traffic: no timer in the past");
	out(&e, 0x43, 0x34);
	out16(&e, 0x40, 100);
	e.rec.n = 0;
	at(&e, tick_now(&e) + 1000);
	tap_ok(t, e.rec.n == 19, "mode 2 works again afterwards: 10 falls, 9 rises in 1000 ticks (%u)",
	       e.rec.n);
}

int main(void)
{
	struct tap t = {0};
	test_mode0(&t);
	test_gate2_mode0(&t);
	test_mode1_5(&t);
	test_mode2(&t);
	test_mode3(&t);
	test_mode4(&t);
	test_latch_readback(&t);
	test_bcd_rw(&t);
	test_refresh(&t);
	test_idle(&t);
	test_hostile(&t);
	return tap_done(&t);
}
