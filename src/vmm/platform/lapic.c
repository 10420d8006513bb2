/* The local APIC (see lapic.h), from the Intel SDM vol. 3A chapter 11:
 * IRR/ISR/TMR with the task and processor priorities, EOI with the
 * broadcast of level-triggered vectors, the LVT with LINT0/LINT1 in
 * fixed, NMI and ExtINT modes, self-addressed IPIs, the error register,
 * and the timer computed from the virtual clock. */
#include "vmm/platform/lapic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- saved state ---- */

static void update_intr(struct lapic *l);
static unsigned dcr_shift(uint32_t dcr);

/* Every register, the IRR/ISR/TMR vectors, the LINT levels, and the
 * timer: its count, reference time, last firing and vtimer deadline.
 * Not state: div_shift (from the divide configuration) and the wiring. */
static const struct vs_field lapic_fields[] = {
	VS_MAX(struct lapic, id, VS_U32, 0xff000000u),
	VS_MAX(struct lapic, tpr, VS_U32, 0xff),
	VS_U32(struct lapic, ldr),
	VS_U32(struct lapic, dfr),
	VS_MAX(struct lapic, svr, VS_U32, 0x3ff),
	VS_MAX(struct lapic, esr, VS_U32, 0xff),
	VS_MAX(struct lapic, esr_pending, VS_U32, 0xff),
	VS_U32(struct lapic, icr_lo),
	VS_U32(struct lapic, icr_hi),
	VS_FIELD(struct lapic, lvt, VS_U32, LAPIC_NR_LVT, 1, 0x3ffff, 0),
	VS_ARRAY(struct lapic, irr, VS_U32, 8),
	VS_ARRAY(struct lapic, isr, VS_U32, 8),
	VS_ARRAY(struct lapic, tmr, VS_U32, 8),
	VS_ARRAY(struct lapic, lint_level, VS_BOOL, 2),
	VS_BOOL(struct lapic, extint_pending),
	VS_BOOL(struct lapic, intr_level),
	VS_U32(struct lapic, timer_icr),
	VS_MAX(struct lapic, timer_dcr, VS_U32, 0x0b),
	VS_BOOL(struct lapic, timer_running),
	VS_U64(struct lapic, timer_start),
	VS_U64(struct lapic, timer_last_fire),
	VS_BOOL(struct lapic, timer_fired),
	VS_U64(struct lapic, timer.deadline),
};

static int lapic_state_check(const void *obj, char *err, size_t n)
{
	const struct lapic *l = obj;
	if (l->timer_running && l->timer_icr == 0) {
		snprintf(err, n, "lapic: field 'timer_running' set with a "
			 "'timer_icr' of 0");
		return -EINVAL;
	}
	return 0;
}

static int lapic_post_load(void *obj, char *err, size_t n)
{
	struct lapic *l = obj;
	(void)err;
	(void)n;
	l->div_shift = dcr_shift(l->timer_dcr);
	vtimer_restore(l->clock, &l->timer);
	memset(&l->tick, 0, sizeof(l->tick));
	irq_set(&l->intr, l->intr_level);
	update_intr(l);
	return 0;
}

const struct vs_desc lapic_state = {
	"lapic", 1, lapic_fields, ARRAY_SIZE(lapic_fields), lapic_state_check,
	lapic_post_load,
};

#define LVT_TIMER 0
#define LVT_THERMAL 1
#define LVT_PERF 2
#define LVT_LINT0 3
#define LVT_LINT1 4
#define LVT_ERROR 5

/* Writable bits of each LVT entry (delivery status is always idle:
 * messages are delivered at once). */
static const uint32_t lvt_writable[LAPIC_NR_LVT] = {
	[LVT_TIMER] = 0x000300ffu,   /* vector, mask, periodic */
	[LVT_THERMAL] = 0x000107ffu, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x000107ffu,
	[LVT_LINT0] = 0x0001a7ffu,   /* + polarity, trigger mode */
	[LVT_LINT1] = 0x0001a7ffu,
	[LVT_ERROR] = 0x000100ffu,
};

#define ICR_LO_WRITABLE 0x000ccfffu
#define SVR_WRITABLE 0x3ffu /* vector, APIC enable, focus checking */

/* A periodic timer shorter than this raises its vector at most once per
 * this interval (the count itself stays exact): a guest cannot make the
 * run loop fire a timer every few nanoseconds. */
#define MIN_PERIODIC_NS 10000u

static inline bool test_bit(const uint32_t *v, unsigned n)
{
	return (v[n >> 5] >> (n & 31)) & 1;
}

static inline void set_bit(uint32_t *v, unsigned n)
{
	v[n >> 5] |= 1u << (n & 31);
}

static inline void clear_bit(uint32_t *v, unsigned n)
{
	v[n >> 5] &= ~(1u << (n & 31));
}

/* The highest vector set in a 256-bit register, or -1. */
static int highest(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static inline unsigned lvt_mode(uint32_t lvt)
{
	return (lvt >> 8) & 7;
}

static inline bool sw_enabled(const struct lapic *l)
{
	return l->svr & LAPIC_SVR_ENABLE;
}

uint32_t lapic_ppr(const struct lapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	uint32_t tpr = l->tpr & 0xff;
	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

/* The arbitration priority (SDM 11.6.2.4), read-only and unused by a
 * single CPU, but defined. */
static uint32_t apr(const struct lapic *l)
{
	int irrv = highest(l->irr), isrv = highest(l->isr);
	uint32_t tpr = l->tpr & 0xff;
	uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0;
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	uint32_t m;
	if ((tpr & 0xf0) >= irr_class && (tpr & 0xf0) > isr_class)
		return tpr;
	m = tpr & 0xf0;
	if (irr_class > m)
		m = irr_class;
	if (isr_class > m)
		m = isr_class;
	return m;
}

/* The vector INTR stands for, or -1: the highest request whose priority
 * class is above the processor priority's. */
static int pending_vector(const struct lapic *l)
{
	int v;
	if (!sw_enabled(l))
		return -1;
	v = highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (lapic_ppr(l) & 0xf0))
		return -1;
	return v;
}

/* The 8259A's INT reaches INTR through LINT0 in ExtINT mode (always
 * level-sensitive), or an ExtINT message waits. */
static bool extint_active(const struct lapic *l)
{
	uint32_t lvt = l->lvt[LVT_LINT0];
	if (l->extint_pending)
		return true;
	return !(lvt & LAPIC_LVT_MASKED) && lvt_mode(lvt) == APIC_DM_EXTINT &&
	       l->lint_level[0];
}

static void update_intr(struct lapic *l)
{
	bool level = pending_vector(l) >= 0 || extint_active(l);
	if (level != l->intr_level) {
		l->intr_level = level;
		irq_set(&l->intr, level);
	}
}

static void accept(struct lapic *l, unsigned vector, bool level);

static void raise_error(struct lapic *l, uint32_t bits)
{
	uint32_t lvt = l->lvt[LVT_ERROR];
	l->esr_pending |= bits;
	/* An illegal error vector is not reported again (no recursion). */
	if (!(lvt & LAPIC_LVT_MASKED) && (lvt & 0xff) >= 16)
		accept(l, lvt & 0xff, false);
}

/* A fixed-mode interrupt arrives: into IRR, TMR says its trigger mode. */
static void accept(struct lapic *l, unsigned vector, bool level)
{
	vector &= 0xff;
	if (vector < 16) {
		raise_error(l, LAPIC_ESR_RECV_ILLEGAL);
		return;
	}
	set_bit(l->irr, vector);
	if (level)
		set_bit(l->tmr, vector);
	else
		clear_bit(l->tmr, vector);
	update_intr(l);
}

/* ---- the timer ---- */

static uint64_t now(const struct lapic *l)
{
	return vclock_now(l->clock);
}

static bool timer_periodic(const struct lapic *l)
{
	return l->lvt[LVT_TIMER] & LAPIC_LVT_PERIODIC;
}

/* Counts elapsed at time t since the count was loaded. */
static uint64_t timer_elapsed(const struct lapic *l, uint64_t t)
{
	return t > l->timer_start ? (t - l->timer_start) >> l->div_shift : 0;
}

static uint32_t timer_ccr(const struct lapic *l, uint64_t t)
{
	uint64_t e;
	if (!l->timer_running)
		return 0;
	e = timer_elapsed(l, t);
	if (timer_periodic(l))
		return (uint32_t)(l->timer_icr - e % l->timer_icr);
	return e >= l->timer_icr ? 0 : (uint32_t)(l->timer_icr - e);
}

/* The first time after `t` at which the count reaches zero, or NEVER. */
static uint64_t timer_next_expiry(const struct lapic *l, uint64_t t)
{
	uint64_t period = (uint64_t)l->timer_icr << l->div_shift, k;
	if (!l->timer_running)
		return VCLOCK_NEVER;
	if (!timer_periodic(l))
		return l->timer_start + period > t ? l->timer_start + period
						   : VCLOCK_NEVER;
	if (t < l->timer_start)
		return l->timer_start + period;
	k = (t - l->timer_start) / period + 1;
	return l->timer_start + k * period;
}

/* Keeps the timer's vtimer armed for the next interrupt, if any: only an
 * unmasked running timer needs one. */
static void timer_arm(struct lapic *l)
{
	uint64_t t = now(l), next;
	if (!l->timer_running || (l->lvt[LVT_TIMER] & LAPIC_LVT_MASKED)) {
		vtimer_cancel(l->clock, &l->timer);
		return;
	}
	next = timer_next_expiry(l, t);
	if (next != VCLOCK_NEVER && timer_periodic(l) && l->timer_fired &&
	    next < l->timer_last_fire + MIN_PERIODIC_NS)
		next = timer_next_expiry(l, l->timer_last_fire + MIN_PERIODIC_NS - 1);
	if (next == VCLOCK_NEVER)
		vtimer_cancel(l->clock, &l->timer);
	else
		vtimer_arm(l->clock, &l->timer, next);
}

static void timer_fire(void *opaque)
{
	struct lapic *l = opaque;
	uint32_t lvt = l->lvt[LVT_TIMER];
	if (!l->timer_running || (lvt & LAPIC_LVT_MASKED))
		return;
	l->timer_last_fire = now(l);
	l->timer_fired = true;
	accept(l, lvt & 0xff, false);
	if (timer_periodic(l))
		timer_arm(l);
}

/* The count goes on from its current value under a new divider or mode:
 * restart the reference point so the formulas give that value now. */
static void timer_rebase(struct lapic *l, uint32_t ccr)
{
	uint64_t t = now(l), done;
	if (!l->timer_running)
		return;
	if (ccr == 0) {
		/* A one-shot count that ran out stays at 0. */
		l->timer_running = false;
		return;
	}
	done = (uint64_t)(l->timer_icr - ccr) << l->div_shift;
	l->timer_start = done <= t ? t - done : 0;
}

static unsigned dcr_shift(uint32_t dcr)
{
	unsigned v = ((dcr >> 1) & 4) | (dcr & 3);
	return (v + 1) & 7; /* 0 -> /2, ..., 6 -> /128, 7 -> /1 */
}

/* ---- LINT pins ---- */

/* Evaluates LINTn after its level or LVT entry changed (`was` is the
 * input's level before). */
static void lint_eval(struct lapic *l, unsigned pin, bool was)
{
	uint32_t *lvt = &l->lvt[LVT_LINT0 + pin];
	bool low = *lvt & LAPIC_LVT_ACTIVE_LOW;
	bool active = l->lint_level[pin] != low, before = was != low;

	switch (lvt_mode(*lvt)) {
	case APIC_DM_EXTINT:
		break;
	case APIC_DM_FIXED:
		if (*lvt & LAPIC_LVT_MASKED)
			break;
		if (*lvt & LAPIC_LVT_LEVEL) {
			if (active && !(*lvt & LAPIC_LVT_REMOTE_IRR)) {
				*lvt |= LAPIC_LVT_REMOTE_IRR;
				accept(l, *lvt & 0xff, true);
			}
		} else if (active && !before) {
			accept(l, *lvt & 0xff, false);
		}
		break;
	case APIC_DM_NMI:
		/* NMI is always edge-sensitive. */
		if (!(*lvt & LAPIC_LVT_MASKED) && active && !before)
			irq_pulse(&l->nmi);
		break;
	default: /* SMI, INIT: not modelled */
		break;
	}
	update_intr(l);
}

void lapic_set_lint(void *opaque, unsigned pin, bool level)
{
	struct lapic *l = opaque;
	bool was;
	if (pin > 1)
		return;
	was = l->lint_level[pin];
	l->lint_level[pin] = level;
	if (was != level)
		lint_eval(l, pin, was);
}

/* ---- EOI, acknowledge, messages ---- */

static void eoi(struct lapic *l)
{
	int v = highest(l->isr);
	if (v < 0)
		return;
	clear_bit(l->isr, (unsigned)v);
	if (test_bit(l->tmr, (unsigned)v)) {
		clear_bit(l->tmr, (unsigned)v);
		for (unsigned pin = 0; pin < 2; pin++) {
			uint32_t *lvt = &l->lvt[LVT_LINT0 + pin];
			if ((*lvt & LAPIC_LVT_REMOTE_IRR) && (*lvt & 0xff) == (unsigned)v) {
				*lvt &= ~LAPIC_LVT_REMOTE_IRR;
				lint_eval(l, pin, l->lint_level[pin]);
			}
		}
		if (l->eoi)
			l->eoi(l->eoi_opaque, (uint8_t)v);
	}
	update_intr(l);
}

uint8_t lapic_intack(struct lapic *l)
{
	int v = pending_vector(l);
	uint8_t vec;

	if (v >= 0) {
		clear_bit(l->irr, (unsigned)v);
		set_bit(l->isr, (unsigned)v);
		update_intr(l);
		return (uint8_t)v;
	}
	if (extint_active(l)) {
		l->extint_pending = false;
		vec = l->extint_ack ? l->extint_ack(l->extint_opaque)
				    : (uint8_t)(l->svr & 0xff);
		update_intr(l);
		return vec;
	}
	return (uint8_t)(l->svr & 0xff);
}

static bool match_dest(const struct lapic *l, uint8_t dest, bool logical)
{
	uint8_t ldr = (uint8_t)(l->ldr >> 24);
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == (uint8_t)(l->id >> 24);
	if ((l->dfr >> 28) == 0xf) /* flat model */
		return (dest & ldr) != 0;
	/* cluster model: cluster in the high nibble, members in the low */
	return ((dest >> 4) == (ldr >> 4) || (dest >> 4) == 0xf) &&
	       (dest & ldr & 0xf) != 0;
}

static void receive(struct lapic *l, unsigned mode, uint8_t vector, bool level)
{
	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST: /* one CPU: it is always the lowest */
		accept(l, vector, level);
		break;
	case APIC_DM_NMI:
		irq_pulse(&l->nmi);
		break;
	case APIC_DM_EXTINT:
		l->extint_pending = true;
		update_intr(l);
		break;
	default: /* SMI, INIT, STARTUP: not modelled */
		break;
	}
}

void lapic_deliver(struct lapic *l, const struct apic_msg *m)
{
	if (match_dest(l, m->dest, m->logical))
		receive(l, m->mode & 7, m->vector, m->level);
}

/* An IPI: with one CPU only the ones that include this APIC arrive. */
static void send_ipi(struct lapic *l)
{
	uint32_t lo = l->icr_lo;
	unsigned mode = lvt_mode(lo), shorthand = (lo >> 18) & 3;
	uint8_t vector = lo & 0xff;
	bool self;

	switch (shorthand) {
	case 0:
		self = match_dest(l, (uint8_t)(l->icr_hi >> 24), lo & LAPIC_ICR_LOGICAL);
		break;
	case 3: /* all excluding self */
		self = false;
		break;
	default: /* self, all including self */
		self = true;
		break;
	}
	if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vector < 16) {
		raise_error(l, LAPIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (self && mode != APIC_DM_EXTINT)
		receive(l, mode, vector, false);
}

/* ---- registers ---- */

static uint64_t lapic_read(void *opaque, uint64_t off, unsigned size)
{
	struct lapic *l = opaque;
	unsigned reg = (unsigned)off & 0xff0;

	if (off & 0xf)
		return 0;
	if (reg >= LAPIC_ISR && reg < LAPIC_ISR + 0x80)
		return l->isr[(reg - LAPIC_ISR) >> 4];
	if (reg >= LAPIC_TMR && reg < LAPIC_TMR + 0x80)
		return l->tmr[(reg - LAPIC_TMR) >> 4];
	if (reg >= LAPIC_IRR && reg < LAPIC_IRR + 0x80)
		return l->irr[(reg - LAPIC_IRR) >> 4];
	if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR)
		return l->lvt[(reg - LAPIC_LVT_TIMER) >> 4];
	switch (reg) {
	case LAPIC_ID:
		return l->id;
	case LAPIC_VERSION:
		return LAPIC_VERSION_VALUE;
	case LAPIC_TPR:
		return l->tpr;
	case LAPIC_APR:
		return apr(l);
	case LAPIC_PPR:
		return lapic_ppr(l);
	case LAPIC_LDR:
		return l->ldr;
	case LAPIC_DFR:
		return l->dfr;
	case LAPIC_SVR:
		return l->svr;
	case LAPIC_ESR:
		return l->esr;
	case LAPIC_ICR_LO:
		return l->icr_lo;
	case LAPIC_ICR_HI:
		return l->icr_hi;
	case LAPIC_TIMER_ICR:
		return l->timer_icr;
	case LAPIC_TIMER_CCR:
		return timer_ccr(l, now(l));
	case LAPIC_TIMER_DCR:
		return l->timer_dcr;
	case LAPIC_EOI:
	case LAPIC_RRD:
		return 0;
	default:
		l->esr_pending |= LAPIC_ESR_ILLEGAL_REG;
		return 0;
	}
}

static void write_lvt(struct lapic *l, unsigned i, uint32_t v)
{
	uint32_t old = l->lvt[i], ccr = 0;
	bool mode_change;

	v &= lvt_writable[i];
	if (!sw_enabled(l))
		v |= LAPIC_LVT_MASKED;
	if (i == LVT_LINT0 || i == LVT_LINT1)
		v |= old & LAPIC_LVT_REMOTE_IRR;
	if (i == LVT_TIMER) {
		mode_change = (old ^ v) & LAPIC_LVT_PERIODIC;
		if (mode_change)
			ccr = timer_ccr(l, now(l));
		l->lvt[i] = v;
		if (mode_change)
			timer_rebase(l, ccr);
		timer_arm(l);
		return;
	}
	l->lvt[i] = v;
	if (i == LVT_LINT0 || i == LVT_LINT1) {
		/* Edge-triggered again: nothing remains in service. */
		if (!(v & LAPIC_LVT_LEVEL))
			l->lvt[i] &= ~LAPIC_LVT_REMOTE_IRR;
		lint_eval(l, i - LVT_LINT0, l->lint_level[i - LVT_LINT0]);
	}
}

static void lapic_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct lapic *l = opaque;
	unsigned reg = (unsigned)off & 0xff0;
	uint32_t v = (uint32_t)val, ccr;

	if (off & 0xf)
		return;
	if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) {
		write_lvt(l, (reg - LAPIC_LVT_TIMER) >> 4, v);
		return;
	}
	switch (reg) {
	case LAPIC_ID:
		l->id = v & 0xff000000u;
		break;
	case LAPIC_TPR:
		l->tpr = v & 0xff;
		update_intr(l);
		break;
	case LAPIC_EOI:
		eoi(l);
		break;
	case LAPIC_LDR:
		l->ldr = v & 0xff000000u;
		break;
	case LAPIC_DFR:
		l->dfr = (v & 0xf0000000u) | 0x0fffffffu;
		break;
	case LAPIC_SVR:
		l->svr = v & SVR_WRITABLE;
		if (!sw_enabled(l)) {
			/* A software disable masks every LVT entry. */
			for (unsigned i = 0; i < LAPIC_NR_LVT; i++)
				l->lvt[i] |= LAPIC_LVT_MASKED;
			timer_arm(l);
		}
		update_intr(l);
		break;
	case LAPIC_ESR:
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case LAPIC_ICR_LO:
		l->icr_lo = v & ICR_LO_WRITABLE;
		send_ipi(l);
		break;
	case LAPIC_ICR_HI:
		l->icr_hi = v & 0xff000000u;
		break;
	case LAPIC_TIMER_ICR:
		l->timer_icr = v;
		l->timer_running = v != 0;
		l->timer_start = now(l);
		l->timer_fired = false;
		timer_arm(l);
		/* A periodic kernel's tick on a one-shot timer may come
		 * late to an idle guest; periodic mode counts every
		 * interrupt, so its deadlines never are ticks here. */
		if (!timer_periodic(l) && vtimer_armed(&l->timer))
			l->timer.tick = tick_grid_follows(&l->tick, l->timer.deadline);
		break;
	case LAPIC_TIMER_DCR:
		ccr = timer_ccr(l, now(l));
		l->timer_dcr = v & 0xb;
		l->div_shift = dcr_shift(l->timer_dcr);
		timer_rebase(l, ccr);
		timer_arm(l);
		break;
	case LAPIC_VERSION:
	case LAPIC_APR:
	case LAPIC_PPR:
	case LAPIC_RRD:
	case LAPIC_TIMER_CCR:
		break; /* read-only */
	default:
		if (!(reg >= LAPIC_ISR && reg < LAPIC_IRR + 0x80))
			l->esr_pending |= LAPIC_ESR_ILLEGAL_REG;
		break;
	}
}

/* Registers are 32 bits on 16-byte boundaries; narrower guest accesses
 * are widened by the dispatcher, wider ones split. */
const struct io_ops lapic_ops = {
	lapic_read, lapic_write,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4 | IO_SIZE_8, IO_SIZE_4,
};

void lapic_reset(struct lapic *l)
{
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	for (unsigned i = 0; i < LAPIC_NR_LVT; i++)
		l->lvt[i] = LAPIC_LVT_MASKED;
	/* Virtual-wire mode, as firmware leaves the boot processor. */
	l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
	l->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
	l->extint_pending = false;
	l->timer_icr = 0;
	l->timer_dcr = 0;
	l->div_shift = dcr_shift(0);
	l->timer_running = false;
	l->timer_start = 0;
	l->timer_fired = false;
	vtimer_cancel(l->clock, &l->timer);
	memset(&l->tick, 0, sizeof(l->tick));
	update_intr(l);
}

void lapic_init(struct lapic *l, uint8_t id, struct vclock *clock,
		const struct irq_line *intr, const struct irq_line *nmi,
		void (*eoi_fn)(void *opaque, uint8_t vector), void *eoi_opaque,
		uint8_t (*extint_ack)(void *opaque), void *extint_opaque)
{
	memset(l, 0, sizeof(*l));
	l->id = (uint32_t)id << 24;
	l->clock = clock;
	l->intr = *intr;
	l->nmi = *nmi;
	l->eoi = eoi_fn;
	l->eoi_opaque = eoi_opaque;
	l->extint_ack = extint_ack;
	l->extint_opaque = extint_opaque;
	vtimer_init(&l->timer, timer_fire, l);
	lapic_reset(l);
}

/* ---- the kind (dev/kind.h) ----
 * The vmm's board creates and wires the platform core itself (their
 * links to each other and to the vCPU are not board lines); the row
 * names the device for -device help and gives the board its reset. */

#include "dev/kind.h"

static void lapic_kind_reset(void *dev)
{
	lapic_reset(dev);
}

DEV_KIND(lapic) = {
	.name = "lapic",
	.help = "the vCPU's local APIC in xAPIC mode (0xfee00000)",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct lapic),
	.reset = lapic_kind_reset,
	.state = &lapic_state,
};
