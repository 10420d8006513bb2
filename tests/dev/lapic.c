/* The local APIC: fixed interrupts through IRR/ISR with TPR/PPR, EOI and
 * its broadcast for level-triggered vectors, the spurious vector, LVT
 * masking and the software disable, LINT0 in ExtINT, fixed and level
 * modes, LINT1 NMI, self IPIs and destinations, ESR, and the timer in
 * one-shot and periodic modes with every divider, its current count, and
 * its vtimer only while needed. */
#include "vmm/platform/lapic.h"
#include "tests/tap.h"

#include <string.h>

struct env {
	struct vclock clk;
	struct lapic l;
	bool intr;
	unsigned nmis;
	unsigned eois, eoi_vec;
	unsigned extint_acks;
	uint8_t extint_vec;
};

static void set_intr(void *opaque, unsigned pin, bool level)
{
	struct env *e = opaque;
	e->intr = level;
}

static void set_nmi(void *opaque, unsigned pin, bool level)
{
	struct env *e = opaque;
	if (level)
		e->nmis++;
}

static void on_eoi(void *opaque, uint8_t v)
{
	struct env *e = opaque;
	e->eois++;
	e->eoi_vec = v;
}

static uint8_t on_extint(void *opaque)
{
	struct env *e = opaque;
	e->extint_acks++;
	return e->extint_vec;
}

static void env_init(struct env *e)
{
	struct irq_line intr = {set_intr, e, 0}, nmi = {set_nmi, e, 0};
	memset(e, 0, sizeof(*e));
	vclock_init(&e->clk, 0);
	lapic_init(&e->l, 0, &e->clk, &intr, &nmi, on_eoi, e, on_extint, e);
	e->extint_vec = 0x08;
}

static uint32_t rd(struct env *e, unsigned reg)
{
	return (uint32_t)lapic_ops.read(&e->l, reg, 4);
}

static void wr(struct env *e, unsigned reg, uint32_t v)
{
	lapic_ops.write(&e->l, reg, 4, v);
}

static bool bit(struct env *e, unsigned base, unsigned vec)
{
	return (rd(e, base + (vec / 32) * 16) >> (vec % 32)) & 1;
}

/* Software-enabled with spurious vector 0xff, LINT0 masked (as Linux
 * leaves it once the IOAPIC is in use). */
static void enable(struct env *e)
{
	wr(e, LAPIC_SVR, 0x1ff);
	wr(e, LAPIC_LVT_LINT0, LAPIC_LVT_MASKED | (APIC_DM_EXTINT << 8));
}

static void fixed(struct env *e, uint8_t vec, bool level)
{
	struct apic_msg m = {vec, APIC_DM_FIXED, 0, false, level};
	lapic_deliver(&e->l, &m);
}

static void test_power_on(struct tap *t)
{
	struct env e;
	env_init(&e);
	tap_ok(t, rd(&e, LAPIC_VERSION) == 0x00050014, "version 0x14, max LVT 5 (%#x)",
	       rd(&e, LAPIC_VERSION));
	tap_ok(t, rd(&e, LAPIC_ID) == 0 && rd(&e, LAPIC_SVR) == 0xff &&
		  rd(&e, LAPIC_DFR) == 0xffffffffu,
	       "power-on: ID 0, SVR 0xff (software-disabled), DFR flat");
	tap_ok(t, rd(&e, LAPIC_LVT_LINT0) == 0x700 && rd(&e, LAPIC_LVT_LINT1) == 0x400 &&
		  rd(&e, LAPIC_LVT_TIMER) == LAPIC_LVT_MASKED &&
		  rd(&e, LAPIC_LVT_ERROR) == LAPIC_LVT_MASKED,
	       "virtual-wire mode: LINT0 ExtINT, LINT1 NMI, the rest masked");
	/* The 8259A's INT through LINT0 while software-disabled. */
	lapic_set_lint(&e.l, 0, true);
	tap_ok(t, e.intr, "ExtINT: the 8259A's INT raises INTR while the APIC is disabled");
	tap_ok(t, lapic_intack(&e.l) == 0x08 && e.extint_acks == 1,
	       "the acknowledge asks the 8259A for the vector");
	lapic_set_lint(&e.l, 0, false);
	tap_ok(t, !e.intr, "INTR follows the INT level down");
	/* Fixed interrupts wait for the software enable. */
	fixed(&e, 0x40, false);
	tap_ok(t, !e.intr && bit(&e, LAPIC_IRR, 0x40),
	       "software-disabled: the vector waits in IRR, INTR stays low");
	wr(&e, LAPIC_SVR, 0x1ff);
	tap_ok(t, e.intr, "enabling the APIC delivers it");
}

static void test_priority(struct tap *t)
{
	struct env e;
	env_init(&e);
	enable(&e);

	fixed(&e, 0x31, false);
	tap_ok(t, e.intr && bit(&e, LAPIC_IRR, 0x31), "fixed vector 0x31: IRR, INTR");
	tap_ok(t, lapic_intack(&e.l) == 0x31 && !bit(&e, LAPIC_IRR, 0x31) &&
		  bit(&e, LAPIC_ISR, 0x31) && !e.intr,
	       "acknowledge: IRR -> ISR, INTR low");
	tap_ok(t, rd(&e, LAPIC_PPR) == 0x30, "PPR is the in-service class (%#x)",
	       rd(&e, LAPIC_PPR));
	fixed(&e, 0x35, false);
	tap_ok(t, !e.intr, "a vector of the same class waits for the EOI");
	fixed(&e, 0x52, false);
	tap_ok(t, e.intr, "a higher class nests");
	tap_ok(t, lapic_intack(&e.l) == 0x52, "and is taken first");
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, !bit(&e, LAPIC_ISR, 0x52) && bit(&e, LAPIC_ISR, 0x31) && !e.intr,
	       "EOI ends the highest in service only");
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, e.intr && rd(&e, LAPIC_PPR) == 0, "the second EOI lets 0x35 through");
	wr(&e, LAPIC_TPR, 0x40);
	tap_ok(t, !e.intr && rd(&e, LAPIC_PPR) == 0x40, "TPR 0x40 holds class 3 back");
	wr(&e, LAPIC_TPR, 0x2f);
	tap_ok(t, e.intr && rd(&e, LAPIC_PPR) == 0x2f, "TPR 0x2f lets it go (PPR %#x)",
	       rd(&e, LAPIC_PPR));
	tap_ok(t, lapic_intack(&e.l) == 0x35, "0x35 taken");
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, e.eois == 0, "edge-triggered EOIs are not broadcast");

	/* Spurious: INTR raised, then the request went away. */
	wr(&e, LAPIC_TPR, 0);
	fixed(&e, 0x60, false);
	wr(&e, LAPIC_TPR, 0x70);
	tap_ok(t, lapic_intack(&e.l) == 0xff && !bit(&e, LAPIC_ISR, 0x60) &&
		  bit(&e, LAPIC_IRR, 0x60),
	       "nothing deliverable: the spurious vector, ISR and IRR unchanged");
	wr(&e, LAPIC_SVR, 0x1e7);
	tap_ok(t, lapic_intack(&e.l) == 0xe7, "the spurious vector is SVR's");

	/* Illegal vectors */
	env_init(&e);
	enable(&e);
	fixed(&e, 0x05, false);
	wr(&e, LAPIC_ESR, 0);
	tap_ok(t, !e.intr && rd(&e, LAPIC_ESR) == LAPIC_ESR_RECV_ILLEGAL,
	       "vector 5 is refused with ESR 'received illegal vector'");
	wr(&e, LAPIC_ESR, 0);
	tap_ok(t, rd(&e, LAPIC_ESR) == 0, "an ESR write latches the errors since");
	wr(&e, LAPIC_LVT_ERROR, 0xfe);
	wr(&e, LAPIC_ICR_LO, 0x40003); /* self, fixed, vector 3 */
	tap_ok(t, e.intr && lapic_intack(&e.l) == 0xfe,
	       "a send error raises the error LVT's vector");
	wr(&e, LAPIC_ESR, 0);
	tap_ok(t, rd(&e, LAPIC_ESR) == LAPIC_ESR_SEND_ILLEGAL, "ESR: send illegal vector");
}

static void test_level(struct tap *t)
{
	struct env e;
	env_init(&e);
	enable(&e);
	fixed(&e, 0x41, true);
	tap_ok(t, bit(&e, LAPIC_TMR, 0x41), "level-triggered: TMR set");
	lapic_intack(&e.l);
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, e.eois == 1 && e.eoi_vec == 0x41 && !bit(&e, LAPIC_TMR, 0x41),
	       "its EOI is broadcast with the vector");
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, e.eois == 1, "an EOI with nothing in service does nothing");
}

static void test_lint(struct tap *t)
{
	struct env e;
	env_init(&e);
	enable(&e);

	lapic_set_lint(&e.l, 0, true);
	tap_ok(t, !e.intr, "LINT0 masked: the 8259A is not heard");
	wr(&e, LAPIC_LVT_LINT0, APIC_DM_EXTINT << 8);
	tap_ok(t, e.intr, "unmasked ExtINT: INTR follows the level");
	fixed(&e, 0x80, false);
	tap_ok(t, lapic_intack(&e.l) == 0x80 && e.extint_acks == 0,
	       "a fixed vector is taken before the 8259A's");
	tap_ok(t, lapic_intack(&e.l) == 0x08 && e.extint_acks == 1, "then the ExtINT");
	wr(&e, LAPIC_EOI, 0);
	lapic_set_lint(&e.l, 0, false);

	/* Fixed edge mode (Linux's "virtual wire IRQ" timer check) */
	wr(&e, LAPIC_LVT_LINT0, 0x30);
	lapic_set_lint(&e.l, 0, true);
	tap_ok(t, e.intr && lapic_intack(&e.l) == 0x30, "LINT0 fixed edge: vector 0x30");
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, !e.intr, "one edge, one interrupt");
	lapic_set_lint(&e.l, 0, false);

	/* Fixed level mode with Remote IRR */
	wr(&e, LAPIC_LVT_LINT0, LAPIC_LVT_LEVEL | 0x33);
	lapic_set_lint(&e.l, 0, true);
	tap_ok(t, (rd(&e, LAPIC_LVT_LINT0) & LAPIC_LVT_REMOTE_IRR) && bit(&e, LAPIC_TMR, 0x33),
	       "LINT0 fixed level: Remote IRR and TMR set");
	lapic_intack(&e.l);
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, bit(&e, LAPIC_IRR, 0x33) && e.intr,
	       "EOI with the line still high: delivered again");
	lapic_intack(&e.l);
	lapic_set_lint(&e.l, 0, false);
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, !(rd(&e, LAPIC_LVT_LINT0) & LAPIC_LVT_REMOTE_IRR) && !e.intr,
	       "EOI with the line low: Remote IRR clear, nothing more");

	/* LINT1 NMI */
	lapic_set_lint(&e.l, 1, true);
	lapic_set_lint(&e.l, 1, true);
	tap_ok(t, e.nmis == 1, "LINT1 in NMI mode: one NMI per rising edge (%u)", e.nmis);
	lapic_set_lint(&e.l, 1, false);
	wr(&e, LAPIC_LVT_LINT1, LAPIC_LVT_MASKED | 0x400);
	lapic_set_lint(&e.l, 1, true);
	tap_ok(t, e.nmis == 1, "masked LINT1: no NMI");

	/* Software disable masks every LVT */
	wr(&e, LAPIC_SVR, 0xff);
	tap_ok(t, (rd(&e, LAPIC_LVT_LINT0) & LAPIC_LVT_MASKED) &&
		  (rd(&e, LAPIC_LVT_TIMER) & LAPIC_LVT_MASKED),
	       "a software disable sets every LVT mask");
	wr(&e, LAPIC_LVT_LINT0, 0x700);
	tap_ok(t, rd(&e, LAPIC_LVT_LINT0) & LAPIC_LVT_MASKED,
	       "and masks cannot be cleared while disabled");
}

static void test_ipi(struct tap *t)
{
	struct env e;
	struct apic_msg m;
	env_init(&e);
	enable(&e);

	wr(&e, LAPIC_ICR_HI, 0);
	wr(&e, LAPIC_ICR_LO, 0x000000f1); /* physical dest 0, fixed */
	tap_ok(t, bit(&e, LAPIC_IRR, 0xf1), "IPI to its own physical ID arrives");
	tap_ok(t, !(rd(&e, LAPIC_ICR_LO) & 0x1000), "delivery status idle at once");
	wr(&e, LAPIC_ICR_HI, 0x03000000);
	wr(&e, LAPIC_ICR_LO, 0x000000f2);
	tap_ok(t, !bit(&e, LAPIC_IRR, 0xf2), "IPI to another ID does not");
	wr(&e, LAPIC_ICR_LO, 0x000c00f3);
	tap_ok(t, !bit(&e, LAPIC_IRR, 0xf3), "all-excluding-self does not");
	wr(&e, LAPIC_ICR_LO, 0x000800f4);
	tap_ok(t, bit(&e, LAPIC_IRR, 0xf4), "all-including-self does");
	wr(&e, LAPIC_ICR_LO, 0x00040400);
	tap_ok(t, e.nmis == 1, "self NMI");

	/* Logical destinations */
	wr(&e, LAPIC_LDR, 0x01000000);
	m = (struct apic_msg){0x90, APIC_DM_FIXED, 0x01, true, false};
	lapic_deliver(&e.l, &m);
	tap_ok(t, bit(&e, LAPIC_IRR, 0x90), "flat logical: bit 0 of the destination matches");
	m.vector = 0x91;
	m.dest = 0x02;
	lapic_deliver(&e.l, &m);
	tap_ok(t, !bit(&e, LAPIC_IRR, 0x91), "flat logical: bit 1 does not");
	wr(&e, LAPIC_DFR, 0x0fffffff);
	wr(&e, LAPIC_LDR, 0x21000000);
	m.vector = 0x92;
	m.dest = 0x21;
	lapic_deliver(&e.l, &m);
	m.vector = 0x93;
	m.dest = 0x31;
	lapic_deliver(&e.l, &m);
	tap_ok(t, bit(&e, LAPIC_IRR, 0x92) && !bit(&e, LAPIC_IRR, 0x93),
	       "cluster logical: cluster and member must match");
	m = (struct apic_msg){0x94, APIC_DM_LOWEST, 0xff, false, false};
	lapic_deliver(&e.l, &m);
	tap_ok(t, bit(&e, LAPIC_IRR, 0x94), "lowest priority broadcast arrives");
	m = (struct apic_msg){0, APIC_DM_EXTINT, 0, false, false};
	lapic_deliver(&e.l, &m);
	while (lapic_intack(&e.l) != 0x08 && e.extint_acks == 0)
		wr(&e, LAPIC_EOI, 0);
	tap_ok(t, e.extint_acks == 1, "an ExtINT message is answered by the 8259A");
}

static void test_timer(struct tap *t)
{
	struct env e;
	static const struct {
		uint32_t dcr;
		unsigned div;
	} divs[] = {{0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32},
		    {0x9, 64}, {0xa, 128}, {0xb, 1}};
	bool ok = true;

	for (unsigned i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
		env_init(&e);
		enable(&e);
		wr(&e, LAPIC_TIMER_DCR, divs[i].dcr);
		wr(&e, LAPIC_LVT_TIMER, 0xec);
		wr(&e, LAPIC_TIMER_ICR, 1000);
		vclock_advance_to(&e.clk, 250ull * divs[i].div);
		if (rd(&e, LAPIC_TIMER_CCR) != 750)
			ok = false;
		vclock_advance_to(&e.clk, 1000ull * divs[i].div - 1);
		if (e.intr)
			ok = false;
		vclock_advance_to(&e.clk, 1000ull * divs[i].div);
		if (!e.intr || rd(&e, LAPIC_TIMER_CCR) != 0)
			ok = false;
	}
	tap_ok(t, ok, "one-shot: every divider counts at 1 GHz / divider and fires at 0");

	env_init(&e);
	enable(&e);
	wr(&e, LAPIC_TIMER_DCR, 0xb);
	wr(&e, LAPIC_LVT_TIMER, 0xec);
	wr(&e, LAPIC_TIMER_ICR, 500);
	vclock_advance_to(&e.clk, 10000);
	tap_ok(t, lapic_intack(&e.l) == 0xec && !e.intr, "one-shot fires once");
	tap_ok(t, !vtimer_armed(&e.l.timer), "and no timer stays armed");
	wr(&e, LAPIC_EOI, 0);

	/* Periodic: exact periods, no drift. */
	env_init(&e);
	enable(&e);
	wr(&e, LAPIC_TIMER_DCR, 0x3); /* /16 */
	wr(&e, LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | 0xed);
	wr(&e, LAPIC_TIMER_ICR, 62500); /* 1 ms */
	ok = true;
	for (unsigned k = 1; k <= 100; k++) {
		vclock_advance_to(&e.clk, k * 1000000ull - 1);
		if (e.intr)
			ok = false;
		vclock_advance_to(&e.clk, k * 1000000ull);
		if (!e.intr || lapic_intack(&e.l) != 0xed)
			ok = false;
		wr(&e, LAPIC_EOI, 0);
	}
	tap_ok(t, ok, "periodic 1 ms: 100 interrupts at exact millisecond boundaries");
	vclock_advance_to(&e.clk, 100250000);
	tap_ok(t, rd(&e, LAPIC_TIMER_CCR) == 62500 - 250000 / 16,
	       "periodic current count reloads (%u)", rd(&e, LAPIC_TIMER_CCR));

	/* Masked: counts without a vtimer, unmask arms the next expiry. */
	wr(&e, LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_LVT_PERIODIC | 0xed);
	tap_ok(t, !vtimer_armed(&e.l.timer), "masked timer: no vtimer armed");
	vclock_advance_to(&e.clk, 105500000);
	tap_ok(t, !e.intr && rd(&e, LAPIC_TIMER_CCR) == 62500 - 500000 / 16,
	       "masked: no interrupt, the count goes on");
	wr(&e, LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | 0xed);
	tap_ok(t, vtimer_armed(&e.l.timer) && e.l.timer.deadline == 106000000,
	       "unmasked: armed for the next period boundary");

	/* Divider change mid-count keeps the count. */
	wr(&e, LAPIC_LVT_TIMER, 0xee);
	wr(&e, LAPIC_TIMER_DCR, 0xb); /* /1 */
	wr(&e, LAPIC_TIMER_ICR, 1000);
	vclock_advance_to(&e.clk, 105500000 + 400);
	wr(&e, LAPIC_TIMER_DCR, 0x0); /* /2 */
	tap_ok(t, rd(&e, LAPIC_TIMER_CCR) == 600, "divider change keeps the count (%u)",
	       rd(&e, LAPIC_TIMER_CCR));
	vclock_advance_to(&e.clk, 105500000 + 400 + 1199);
	tap_ok(t, !e.intr, "the rest counts at the new rate");
	vclock_advance_to(&e.clk, 105500000 + 400 + 1200);
	tap_ok(t, e.intr, "and fires when it reaches 0");
	wr(&e, LAPIC_TIMER_ICR, 0);
	tap_ok(t, rd(&e, LAPIC_TIMER_CCR) == 0 && !vtimer_armed(&e.l.timer),
	       "initial count 0 stops the timer");

	/* A tiny periodic count cannot flood the clock with events. */
	env_init(&e);
	enable(&e);
	wr(&e, LAPIC_TIMER_DCR, 0xb);
	wr(&e, LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | 0xed);
	wr(&e, LAPIC_TIMER_ICR, 1);
	vclock_advance_to(&e.clk, 1);
	lapic_intack(&e.l);
	wr(&e, LAPIC_EOI, 0);
	tap_ok(t, e.l.timer.deadline >= 1 + 10000,
	       "period of 1 ns: next interrupt no sooner than 10 us later (%llu)",
	       (unsigned long long)e.l.timer.deadline);
}

/* Linux's tick on the one-shot timer: each handler writes the count to
 * the next 4 ms boundary a little after the last one fired. Those
 * arms are marked as ticks once learnt; a deadline off the grid and the
 * periodic mode's are not. */
static void test_timer_tick(struct tap *t)
{
	struct env e;
	bool marked[8];
	uint64_t at = 1000000;

	env_init(&e);
	enable(&e);
	wr(&e, LAPIC_TIMER_DCR, 0xb);
	wr(&e, LAPIC_LVT_TIMER, 0xec);
	for (unsigned k = 0; k < 8; k++) {
		uint64_t tick = 4000000ull * (k + 1), late = 20000 + 3000 * (k % 3);
		vclock_advance_to(&e.clk, at);
		wr(&e, LAPIC_TIMER_ICR, (uint32_t)(tick - at));
		marked[k] = e.l.timer.tick;
		vclock_advance_to(&e.clk, tick);
		lapic_intack(&e.l);
		wr(&e, LAPIC_EOI, 0);
		at = tick + late;
	}
	tap_ok(t, !marked[0] && marked[4] && marked[7],
	       "one-shot counts to a 4 ms grid are marked as ticks once learnt");
	vclock_advance_to(&e.clk, at);
	wr(&e, LAPIC_TIMER_ICR, 1234567);
	tap_ok(t, vtimer_armed(&e.l.timer) && !e.l.timer.tick, "a count off the grid is not");
	wr(&e, LAPIC_TIMER_ICR, (uint32_t)(4000000ull * 10 - at));
	tap_ok(t, e.l.timer.tick, "a later count back on it is, periods skipped");
	wr(&e, LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | 0xec);
	wr(&e, LAPIC_TIMER_ICR, (uint32_t)(4000000ull * 11 - at));
	tap_ok(t, vtimer_armed(&e.l.timer) && !e.l.timer.tick,
	       "periodic mode is never marked (each interrupt counts)");
	lapic_reset(&e.l);
	tap_ok(t, e.l.tick.period == 0, "a reset forgets the period");
}

int main(void)
{
	struct tap t = {0};
	test_power_on(&t);
	test_priority(&t);
	test_level(&t);
	test_lint(&t);
	test_ipi(&t);
	test_timer(&t);
	test_timer_tick(&t);
	return tap_done(&t);
}
