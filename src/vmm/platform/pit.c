/* Intel 8254 programmable interval timer and the PC's port 0x61 (see
 * pit.h). From the 8254 datasheet: the six modes, binary and BCD
 * counting, the read/write modes with their flip-flops, the counter latch
 * and read-back commands, the status byte, GATE. Nothing ticks: every
 * count and OUT level is computed from the virtual clock. */
#include "vmm/platform/pit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- saved state ---- */

/* Each counter's programming, count register, flip-flops, latches, GATE
 * and counting phase (in input clock ticks of the virtual clock); port
 * 0x61; IRQ 0's level and the vtimer's deadline (virtual ns). */
#define PIT_COUNTER_FIELDS(i)                                                 \
	VS_MAX(struct pit, c[i].ctrl, VS_U8, 0x3f),                           \
	VS_MAX(struct pit, c[i].mode, VS_U8, 5),                              \
	VS_MAX(struct pit, c[i].rw, VS_U8, 3), VS_BOOL(struct pit, c[i].bcd), \
	VS_BOOL(struct pit, c[i].gate),                                       \
	VS_MAX(struct pit, c[i].state, VS_U8, PIT_PAUSED),                    \
	VS_U16(struct pit, c[i].cr), VS_U8(struct pit, c[i].cr_lsb),          \
	VS_BOOL(struct pit, c[i].cr_valid),                                   \
	VS_BOOL(struct pit, c[i].write_msb),                                  \
	VS_BOOL(struct pit, c[i].read_msb),                                   \
	VS_BOOL(struct pit, c[i].count_latched),                              \
	VS_BOOL(struct pit, c[i].status_latched),                             \
	VS_U16(struct pit, c[i].latch), VS_U8(struct pit, c[i].status),       \
	VS_MAX(struct pit, c[i].n, VS_U32, 65536),                            \
	VS_U64(struct pit, c[i].start), VS_U64(struct pit, c[i].offset),      \
	VS_U64(struct pit, c[i].reload_at),                                   \
	VS_U64(struct pit, c[i].null_until),                                  \
	VS_MAX(struct pit, c[i].ce_idle, VS_U32, 65536),                      \
	VS_BOOL(struct pit, c[i].out_idle)

static const struct vs_field pit_fields[] = {
	PIT_COUNTER_FIELDS(0),
	PIT_COUNTER_FIELDS(1),
	PIT_COUNTER_FIELDS(2),
	VS_MAX(struct pit, port61, VS_U8, 0x0f),
	VS_BOOL(struct pit, irq0_level),
	VS_U64(struct pit, timer.deadline),
};

static int pit_state_check(const void *obj, char *err, size_t n)
{
	const struct pit *p = obj;
	for (unsigned i = 0; i < 3; i++) {
		const struct pit_counter *c = &p->c[i];
		const char *bad = NULL;
		if (c->rw == 0)
			bad = "rw";
		else if (c->state != PIT_IDLE && c->n == 0)
			bad = "n";
		else if (c->bcd && c->n > 10000)
			bad = "n";
		if (bad) {
			snprintf(err, n, "pit: field 'c[%u].%s' is impossible "
				 "in this counter's state", i, bad);
			return -EINVAL;
		}
	}
	return 0;
}

static int pit_post_load(void *obj, char *err, size_t n)
{
	struct pit *p = obj;
	(void)err;
	(void)n;
	vtimer_restore(p->clock, &p->timer);
	irq_set(&p->irq0, p->irq0_level);
	return 0;
}

const struct vs_desc pit_state = {
	"pit", 1, pit_fields, ARRAY_SIZE(pit_fields), pit_state_check,
	pit_post_load,
};

#define NEVER VCLOCK_NEVER

/* Control word fields */
#define CW_SC(v) ((v) >> 6)
#define CW_RW(v) (((v) >> 4) & 3)
#define CW_SC_READBACK 3
#define RB_NOT_COUNT 0x20
#define RB_NOT_STATUS 0x10
#define STATUS_OUT 0x80
#define STATUS_NULL 0x40

/* Port 0x61 */
#define P61_GATE2 0x01
#define P61_WRITABLE 0x0f /* GATE2, SPKR data, parity and IOCHK enables */
#define P61_REFRESH 0x10
#define P61_OUT2 0x20
/* The refresh request toggles as counter 1 of the original PC did it,
 * programmed with 18: about 66 kHz, what BIOS and Linux delay loops poll. */
#define REFRESH_TICKS 18

static uint64_t now_tick(const struct pit *p)
{
	return vclock_ns_to_ticks(vclock_now(p->clock), PIT_HZ);
}

static uint32_t modulus(const struct pit_counter *c)
{
	return c->bcd ? 10000 : 65536;
}

/* Digits above 9 (a hostile BCD count) are taken at face value. */
static uint32_t bcd_to_bin(uint16_t v)
{
	return (v & 0xfu) + ((v >> 4) & 0xfu) * 10 + ((v >> 8) & 0xfu) * 100 +
	       (v >> 12) * 1000u;
}

static uint16_t bin_to_bcd(uint32_t v)
{
	v %= 10000;
	return (uint16_t)(v % 10 | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
			  (v / 1000) << 12);
}

/* The count of the CE's cycle for the count register: 0 means 2^16
 * (10^4 in BCD). */
static uint32_t count_of(const struct pit_counter *c)
{
	uint32_t n = c->bcd ? bcd_to_bin(c->cr) : c->cr;
	return n ? n : modulus(c);
}

/* The counting element as the guest reads it. */
static uint16_t ce_display(const struct pit_counter *c, uint32_t v)
{
	return c->bcd ? bin_to_bcd(v) : (uint16_t)v;
}

/* OUT, p pulses after the loading pulse. */
static bool seg_out(const struct pit_counter *c, uint64_t p)
{
	uint64_t n = c->n;
	switch (c->mode) {
	case 0: /* interrupt on terminal count */
	case 1: /* one-shot: low from the load until the count expires */
		return p >= n;
	case 4: /* strobes: low for the one pulse the count reaches 0 */
	case 5:
		return p != n;
	case 2: /* rate generator: low while the CE holds 1 */
		return n < 2 || p % n != n - 1;
	default: /* 3: square wave, high for ceil(n/2), low for floor(n/2) */
		return n < 2 || p % n < (n + 1) / 2;
	}
}

/* The CE, p pulses after the loading pulse. */
static uint32_t seg_ce(const struct pit_counter *c, uint64_t p)
{
	uint64_t n = c->n, m = modulus(c), q;
	switch (c->mode) {
	case 2: /* n down to 1, reloaded on the pulse after 1 */
		return (uint32_t)(n - p % n);
	case 3:
		/* Each half: the even part of n, down by two per pulse (an
		 * odd n loads n - 1 and spends one extra pulse in the high
		 * half). */
		q = p % n;
		if (q >= (n + 1) / 2)
			q -= (n + 1) / 2;
		return (uint32_t)((n & ~(uint64_t)1) - 2 * q);
	default: /* 0, 1, 4, 5: down by one, wrapping past 0 */
		return (uint32_t)((n % m + m - p % m) % m);
	}
}

/* Pulses from p until OUT next changes, or NEVER. */
static uint64_t seg_next_change(const struct pit_counter *c, uint64_t p)
{
	uint64_t n = c->n, q, h;
	switch (c->mode) {
	case 0:
	case 1:
		return p < n ? n - p : NEVER;
	case 4:
	case 5:
		return p < n ? n - p : p == n ? 1 : NEVER;
	case 2:
		if (n < 2)
			return NEVER;
		q = p % n;
		return q < n - 1 ? n - 1 - q : 1;
	default:
		if (n < 2)
			return NEVER;
		q = p % n;
		h = (n + 1) / 2;
		return q < h ? h - q : n - q;
	}
}

/* Pulses from p to the end of the current period (mode 2) or half-cycle
 * (mode 3), where a new count written meanwhile is loaded. */
static uint64_t seg_to_reload(const struct pit_counter *c, uint64_t p)
{
	uint64_t n = c->n, q = p % n, h = (n + 1) / 2;
	if (c->mode == 3 && q < h)
		return h - q;
	return n - q;
}

static bool before_load(const struct pit_counter *c, uint64_t t)
{
	return c->state == PIT_IDLE || (c->state == PIT_RUNNING && t < c->start);
}

static uint64_t counter_p(const struct pit_counter *c, uint64_t t)
{
	if (c->state == PIT_PAUSED)
		return c->offset;
	return t - c->start + c->offset;
}

static bool counter_out(const struct pit_counter *c, uint64_t t)
{
	return before_load(c, t) ? c->out_idle : seg_out(c, counter_p(c, t));
}

static uint32_t counter_ce(const struct pit_counter *c, uint64_t t)
{
	return before_load(c, t) ? c->ce_idle : seg_ce(c, counter_p(c, t));
}

/* Applies a reload that happened by tick t (modes 2 and 3: a count
 * written while counting takes over at the end of the period or
 * half-cycle). */
static void counter_sync(struct pit_counter *c, uint64_t t)
{
	uint64_t at = c->reload_at;
	bool low_half = false;

	if (c->state != PIT_RUNNING || at == NEVER || t < at)
		return;
	if (c->mode == 3)
		low_half = (at - c->start + c->offset) % c->n != 0;
	c->n = count_of(c);
	c->start = at;
	/* A mode 3 reload at the start of the low half starts the new
	 * count's low half. */
	c->offset = low_half ? (c->n + 1) / 2 : 0;
	c->reload_at = NEVER;
}

/* The tick of the next OUT change after t, or NEVER. */
static uint64_t counter_next_edge(const struct pit_counter *c, uint64_t t)
{
	uint64_t d;
	if (c->state != PIT_RUNNING)
		return NEVER;
	if (t < c->start) {
		if (seg_out(c, c->offset) != c->out_idle)
			return c->start;
		d = seg_next_change(c, c->offset);
		return d == NEVER ? NEVER : c->start + d;
	}
	d = seg_next_change(c, counter_p(c, t));
	return d == NEVER ? NEVER : t + d;
}

/* The count register goes into the CE on the next pulse. */
static void counter_load(struct pit_counter *c, uint64_t t, bool out_before)
{
	c->ce_idle = counter_ce(c, t);
	c->out_idle = out_before;
	c->n = count_of(c);
	c->start = t + 1;
	c->offset = 0;
	c->reload_at = NEVER;
	c->null_until = t + 1;
	/* Modes 0 and 4 load with GATE low too, but do not count. */
	c->state = (c->mode == 0 || c->mode == 4) && !c->gate ? PIT_PAUSED
							       : PIT_RUNNING;
}

static void counter_new_count(struct pit_counter *c, uint64_t t)
{
	c->cr_valid = true;
	switch (c->mode) {
	case 0:
		/* OUT goes low on the write and high at terminal count. */
		counter_load(c, t, false);
		break;
	case 4:
		counter_load(c, t, counter_out(c, t));
		break;
	case 1:
	case 5:
		/* Used by the next trigger; the current one-shot goes on. */
		c->null_until = NEVER;
		break;
	default: /* 2, 3 */
		if (c->state == PIT_RUNNING && t >= c->start) {
			c->reload_at = t + seg_to_reload(c, counter_p(c, t));
			c->null_until = c->reload_at;
		} else if (c->state == PIT_RUNNING) {
			/* Not loaded yet: this is the count that loads. */
			c->n = count_of(c);
			c->null_until = c->start;
		} else if (c->gate) {
			counter_load(c, t, true);
		} else {
			c->null_until = NEVER; /* loaded when GATE rises */
		}
		break;
	}
}

static void counter_set_gate(struct pit_counter *c, bool gate, uint64_t t)
{
	bool out;

	counter_sync(c, t);
	if (gate == c->gate)
		return;
	out = counter_out(c, t);
	c->gate = gate;
	switch (c->mode) {
	case 0:
	case 4: /* GATE low suspends counting */
		if (!gate && c->state == PIT_RUNNING) {
			if (t >= c->start)
				c->offset = counter_p(c, t);
			c->state = PIT_PAUSED;
		} else if (gate && c->state == PIT_PAUSED) {
			c->start = t;
			c->state = PIT_RUNNING;
		}
		break;
	case 1:
	case 5: /* a rising edge (re)triggers */
		if (gate && c->cr_valid)
			counter_load(c, t, out);
		break;
	default: /* 2, 3: low forces OUT high and stops; rising reloads */
		if (!gate && c->state != PIT_IDLE) {
			c->ce_idle = counter_ce(c, t);
			c->out_idle = true;
			c->state = PIT_IDLE;
			if (c->reload_at != NEVER)
				c->null_until = NEVER;
			c->reload_at = NEVER;
		} else if (gate && c->cr_valid) {
			counter_load(c, t, true);
		}
		break;
	}
}

/* Counter 0's OUT onto IRQ 0, and the timer for its next change. */
static void pit_update_irq0(struct pit *p)
{
	struct pit_counter *c = &p->c[0];
	uint64_t t = now_tick(p), next;
	bool out;

	if (!p->irq0.set_level) {
		/* Nothing listens: no reason to wake up. */
		vtimer_cancel(p->clock, &p->timer);
		return;
	}
	counter_sync(c, t);
	out = counter_out(c, t);
	if (out != p->irq0_level) {
		p->irq0_level = out;
		irq_set(&p->irq0, out);
	}
	next = counter_next_edge(c, t);
	if (next == NEVER)
		vtimer_cancel(p->clock, &p->timer);
	else
		vtimer_arm(p->clock, &p->timer, vclock_ticks_to_ns(next, PIT_HZ));
}

static void pit_timer_fire(void *opaque)
{
	pit_update_irq0(opaque);
}

static void latch_count(struct pit_counter *c, uint64_t t)
{
	/* A second latch before the first is read is ignored. */
	if (c->count_latched)
		return;
	c->latch = ce_display(c, counter_ce(c, t));
	c->count_latched = true;
}

static void latch_status(struct pit_counter *c, uint64_t t)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((counter_out(c, t) ? STATUS_OUT : 0) |
			      (t < c->null_until ? STATUS_NULL : 0) | c->ctrl);
	c->status_latched = true;
}

static void write_control(struct pit *p, uint8_t v, uint64_t t)
{
	struct pit_counter *c;

	if (CW_SC(v) == CW_SC_READBACK) {
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			counter_sync(&p->c[i], t);
			if (!(v & RB_NOT_COUNT))
				latch_count(&p->c[i], t);
			if (!(v & RB_NOT_STATUS))
				latch_status(&p->c[i], t);
		}
		return;
	}
	c = &p->c[CW_SC(v)];
	counter_sync(c, t);
	if (CW_RW(v) == 0) {
		latch_count(c, t);
		return;
	}
	/* A mode set resets the counter's control logic: it stops, OUT
	 * goes to the mode's initial level, the CE holds its value. */
	c->ce_idle = counter_ce(c, t);
	c->ctrl = v & 0x3f;
	c->rw = CW_RW(v);
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = v & 1;
	c->state = PIT_IDLE;
	c->out_idle = c->mode != 0;
	c->cr_valid = false;
	c->write_msb = false;
	c->read_msb = false;
	c->count_latched = false;
	c->status_latched = false;
	c->reload_at = NEVER;
	c->null_until = NEVER;
}

static void write_counter(struct pit_counter *c, uint8_t v, uint64_t t)
{
	counter_sync(c, t);
	switch (c->rw) {
	case 1:
		c->cr = v;
		break;
	case 2:
		c->cr = (uint16_t)(v << 8);
		break;
	default:
		if (!c->write_msb) {
			c->cr_lsb = v;
			c->write_msb = true;
			if (c->mode == 0) {
				/* Mode 0: the first byte stops counting and
				 * OUT goes low at once. */
				c->ce_idle = counter_ce(c, t);
				c->out_idle = false;
				c->state = PIT_IDLE;
				c->reload_at = NEVER;
			}
			return;
		}
		c->cr = (uint16_t)(c->cr_lsb | v << 8);
		c->write_msb = false;
		break;
	}
	counter_new_count(c, t);
}

static uint8_t read_counter(struct pit_counter *c, uint64_t t)
{
	uint16_t v;
	uint8_t b;

	counter_sync(c, t);
	/* Latched status comes first, whichever was latched first. */
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->count_latched ? c->latch : ce_display(c, counter_ce(c, t));
	switch (c->rw) {
	case 1:
		b = (uint8_t)v;
		c->count_latched = false;
		break;
	case 2:
		b = (uint8_t)(v >> 8);
		c->count_latched = false;
		break;
	default:
		if (!c->read_msb) {
			b = (uint8_t)v;
			c->read_msb = true;
		} else {
			b = (uint8_t)(v >> 8);
			c->read_msb = false;
			c->count_latched = false;
		}
		break;
	}
	return b;
}

bool pit_out(struct pit *p, unsigned i)
{
	uint64_t t = now_tick(p);
	if (i >= 3)
		return false;
	counter_sync(&p->c[i], t);
	return counter_out(&p->c[i], t);
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	/* The control word register cannot be read (the bus floats). */
	if (offset >= 3)
		return 0xff;
	return read_counter(&p->c[offset], now_tick(p));
}

static void pit_write(void *opaque, uint64_t offset, unsigned size,
		      uint64_t value)
{
	struct pit *p = opaque;
	uint64_t t = now_tick(p);
	if (offset == 3)
		write_control(p, (uint8_t)value, t);
	else if (offset < 3)
		write_counter(&p->c[offset], (uint8_t)value, t);
	pit_update_irq0(p);
}

static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	uint64_t t = now_tick(p);
	uint8_t v = p->port61 & P61_WRITABLE;
	if ((t / REFRESH_TICKS) & 1)
		v |= P61_REFRESH;
	if (pit_out(p, 2))
		v |= P61_OUT2;
	return v;
}

static void port61_write(void *opaque, uint64_t offset, unsigned size,
			 uint64_t value)
{
	struct pit *p = opaque;
	p->port61 = (uint8_t)value & P61_WRITABLE;
	counter_set_gate(&p->c[2], value & P61_GATE2, now_tick(p));
}

void pit_reset(struct pit *p)
{
	vtimer_cancel(p->clock, &p->timer);
	for (unsigned i = 0; i < 3; i++) {
		struct pit_counter *c = &p->c[i];
		memset(c, 0, sizeof(*c));
		c->ctrl = 0x30; /* LSB then MSB, mode 0, binary */
		c->rw = 3;
		c->gate = i != 2;
		c->reload_at = NEVER;
		c->null_until = NEVER;
	}
	p->port61 = 0;
	if (p->irq0_level) {
		p->irq0_level = false;
		irq_lower(&p->irq0);
	}
}

void pit_init(struct pit *p, const struct irq_line *irq0, struct vclock *clock)
{
	memset(p, 0, sizeof(*p));
	if (irq0)
		p->irq0 = *irq0;
	p->clock = clock;
	vtimer_init(&p->timer, pit_timer_fire, p);
	pit_reset(p);
}

const struct io_ops pit_ops = {
	pit_read, pit_write, IO_SIZE_1, IO_SIZE_1,
};
const struct io_ops pit_port61_ops = {
	port61_read, port61_write, IO_SIZE_1, IO_SIZE_1,
};

/* ---- the kind (dev/kind.h) ----
 * The vmm's board creates and wires the platform core itself (their
 * links to each other and to the vCPU are not board lines); the row
 * names the device for -device help and gives the board its reset. */

#include "dev/kind.h"

static void pit_kind_reset(void *dev)
{
	pit_reset(dev);
}

DEV_KIND(pit) = {
	.name = "i8254",
	.help = "8254 interval timer (0x40-0x43; IRQ 0) and port 0x61",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct pit),
	.reset = pit_kind_reset,
	.state = &pit_state,
};
