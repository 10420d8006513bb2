/* Intel 8259A programmable interrupt controller, cascaded as in the PC,
 * with the PIIX ELCR (see pic.h). From the 8259A datasheet: ICW1-ICW4,
 * OCW1-OCW3, priority resolution with rotation, special mask mode,
 * special fully nested mode, poll, automatic EOI. */
#include "vmm/platform/pic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- saved state ---- */

static void pic_update(struct pic *p);

/* Both chips' registers, modes and input levels, and INTR. Not state:
 * elcr_mask, which the chip's place fixes. */
#define PIC_CHIP_FIELDS(i)                                                    \
	VS_U8(struct pic, chip[i].irr), VS_U8(struct pic, chip[i].isr),      \
	VS_U8(struct pic, chip[i].imr), VS_U8(struct pic, chip[i].lines),    \
	VS_U8(struct pic, chip[i].elcr),                                      \
	VS_U8(struct pic, chip[i].vector_base),                               \
	VS_U8(struct pic, chip[i].icw3),                                      \
	VS_MAX(struct pic, chip[i].init_step, VS_U8, 4),                      \
	VS_MAX(struct pic, chip[i].lowest, VS_U8, 7),                         \
	VS_BOOL(struct pic, chip[i].ltim), VS_BOOL(struct pic, chip[i].sngl), \
	VS_BOOL(struct pic, chip[i].ic4), VS_BOOL(struct pic, chip[i].upm),   \
	VS_BOOL(struct pic, chip[i].aeoi), VS_BOOL(struct pic, chip[i].buf),  \
	VS_BOOL(struct pic, chip[i].ms), VS_BOOL(struct pic, chip[i].sfnm),   \
	VS_BOOL(struct pic, chip[i].rotate_aeoi),                             \
	VS_BOOL(struct pic, chip[i].read_isr),                                \
	VS_BOOL(struct pic, chip[i].poll), VS_BOOL(struct pic, chip[i].smm)

static const struct vs_field pic_fields[] = {
	PIC_CHIP_FIELDS(0),
	PIC_CHIP_FIELDS(1),
	VS_BOOL(struct pic, intr_level),
};

static int pic_state_check(const void *obj, char *err, size_t n)
{
	const struct pic *p = obj;
	for (unsigned i = 0; i < 2; i++) {
		const struct pic_chip *c = &p->chip[i];
		const char *bad = NULL;
		if (c->elcr & ~c->elcr_mask)
			bad = "elcr";
		else if (c->vector_base & 7)
			bad = "vector_base";
		else if (c->init_step == 1)
			bad = "init_step";
		if (bad) {
			snprintf(err, n, "pic: field 'chip[%u].%s' has a value "
				 "the chip cannot hold", i, bad);
			return -EINVAL;
		}
	}
	return 0;
}

static int pic_post_load(void *obj, char *err, size_t n)
{
	struct pic *p = obj;
	(void)err;
	(void)n;
	irq_set(&p->intr, p->intr_level);
	pic_update(p);
	return 0;
}

const struct vs_desc pic_state = {
	"pic", 1, pic_fields, ARRAY_SIZE(pic_fields), pic_state_check,
	pic_post_load,
};

/* ICW1 / OCW bits */
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_SEL 0x10 /* A0 = 0 with D4 = 1: ICW1 */
#define OCW3_SEL 0x08 /* A0 = 0, D4 = 0, D3 = 1: OCW3 */
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_P 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40
#define ICW4_UPM 0x01
#define ICW4_AEOI 0x02
#define ICW4_MS 0x04
#define ICW4_BUF 0x08
#define ICW4_SFNM 0x10

/* ELCR: IRQ 0, 1, 2 (timer, keyboard, cascade) and 8, 13 (RTC, FPU)
 * are always edge-triggered on a PC. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE 0xde

static uint8_t level_inputs(const struct pic_chip *c)
{
	return c->ltim ? 0xff : c->elcr;
}

/* 0 = highest priority. The IR after `lowest` has the highest. */
static unsigned prio_rank(const struct pic_chip *c, unsigned ir)
{
	return (ir - c->lowest - 1) & 7;
}

/* The IR of highest priority among `bits`, or -1. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
	for (unsigned k = 0; k < 8; k++) {
		unsigned ir = (c->lowest + 1 + k) & 7;
		if (bits & (1u << ir))
			return (int)ir;
	}
	return -1;
}

static bool is_cascade(const struct pic_chip *master, unsigned ir)
{
	return ir == PIC_CASCADE_IR && !master->sngl &&
	       (master->icw3 & (1u << PIC_CASCADE_IR));
}

/* The request the chip would present on INT, or -1: the highest unmasked
 * request of higher priority than every level in service. In special
 * mask mode a masked level in service does not hold lower ones off; in
 * special fully nested mode (master) a slave's input in service does not
 * hold off a new request of its own slave. */
static int chip_pending(const struct pic_chip *c, bool master)
{
	int req, serv;
	uint8_t in_service = c->isr;

	if (c->init_step)
		return -1;
	req = highest(c, c->irr & ~c->imr);
	if (req < 0)
		return -1;
	if (c->smm)
		in_service &= ~c->imr;
	serv = highest(c, in_service);
	if (serv < 0 || prio_rank(c, (unsigned)req) < prio_rank(c, (unsigned)serv))
		return req;
	if (req == serv && master && c->sfnm && is_cascade(c, (unsigned)req))
		return req;
	return -1;
}

/* An IR input changes level. Edge inputs latch IRR on a rising edge;
 * level inputs follow the line (applied in refresh_level). */
static void chip_set_input(struct pic_chip *c, unsigned ir, bool level)
{
	uint8_t m = (uint8_t)(1u << ir);
	if (level) {
		if (!(c->lines & m))
			c->irr |= m;
		c->lines |= m;
	} else {
		c->lines &= (uint8_t)~m;
	}
}

static void refresh_level(struct pic_chip *c)
{
	uint8_t lvl = level_inputs(c);
	c->irr = (uint8_t)((c->irr & ~lvl) | (c->lines & lvl));
}

/* INTA (or a poll read) for `ir`: in service unless AEOI; an edge request
 * is consumed, a level one stays while its line is high (held off by ISR,
 * it re-asserts after the EOI). */
static void chip_ack(struct pic_chip *c, unsigned ir)
{
	uint8_t m = (uint8_t)(1u << ir);
	if (c->aeoi) {
		if (c->rotate_aeoi)
			c->lowest = (uint8_t)ir;
	} else {
		c->isr |= m;
	}
	if (!(level_inputs(c) & m))
		c->irr &= (uint8_t)~m;
}

/* Resolves both chips: the slave's INT feeds the master's IR2, the
 * master's INT drives the CPU's INTR (only on a change). */
static void pic_update(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
	bool out;

	refresh_level(s);
	chip_set_input(m, PIC_CASCADE_IR, chip_pending(s, false) >= 0);
	refresh_level(m);
	out = chip_pending(m, true) >= 0;
	if (out != p->intr_level) {
		p->intr_level = out;
		irq_set(&p->intr, out);
	}
}

uint8_t pic_intack(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
	int ir = chip_pending(m, true);
	uint8_t vec;

	if (ir < 0) {
		/* The request went away: the default IR7, nothing set in ISR. */
		vec = m->vector_base | 7;
	} else if (is_cascade(m, (unsigned)ir)) {
		int sir = chip_pending(s, false);
		chip_ack(m, (unsigned)ir);
		if (sir < 0) {
			/* Master IR2 is in service; the guest EOIs it. */
			vec = s->vector_base | 7;
		} else {
			chip_ack(s, (unsigned)sir);
			vec = (uint8_t)(s->vector_base | sir);
		}
		/* The slave's INT drops during the cycle, so a request it still
		 * has is a fresh edge on IR2 rather than one lost. */
		chip_set_input(m, PIC_CASCADE_IR, false);
	} else {
		chip_ack(m, (unsigned)ir);
		vec = (uint8_t)(m->vector_base | ir);
	}
	pic_update(p);
	return vec;
}

void pic_set_irq(void *opaque, unsigned irq, bool level)
{
	struct pic *p = opaque;
	if (irq >= 16 || irq == PIC_CASCADE_IR)
		return;
	chip_set_input(&p->chip[irq >> 3], irq & 7, level);
	pic_update(p);
}

static void chip_reset(struct pic_chip *c, bool master)
{
	uint8_t lines = c->lines;
	memset(c, 0, sizeof(*c));
	c->lines = lines;
	c->imr = 0xff;
	c->lowest = 7;
	c->elcr_mask = master ? ELCR_MASK_MASTER : ELCR_MASK_SLAVE;
	c->icw3 = master ? 1u << PIC_CASCADE_IR : PIC_CASCADE_IR;
}

void pic_reset(struct pic *p)
{
	chip_reset(&p->chip[PIC_MASTER], true);
	chip_reset(&p->chip[PIC_SLAVE], false);
	pic_update(p);
}

void pic_init(struct pic *p, const struct irq_line *intr)
{
	memset(p, 0, sizeof(*p));
	if (intr)
		p->intr = *intr;
	pic_reset(p);
}

static void write_icw1(struct pic_chip *c, uint8_t v)
{
	/* The datasheet's list: edge sense reset (an input must go low then
	 * high again), IMR cleared, IR7 lowest priority, special mask mode
	 * off, status read set to IRR, ICW4 functions zero without IC4. The
	 * ISR is cleared too: a re-initialised chip has nothing in service. */
	c->ltim = v & ICW1_LTIM;
	c->sngl = v & ICW1_SNGL;
	c->ic4 = v & ICW1_IC4;
	c->irr = 0;
	c->isr = 0;
	c->imr = 0;
	c->lowest = 7;
	c->smm = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_aeoi = false;
	if (!c->ic4)
		c->upm = c->aeoi = c->buf = c->ms = c->sfnm = false;
	c->init_step = 2;
}

static void write_ocw2(struct pic_chip *c, uint8_t v)
{
	unsigned level = v & 7;
	uint8_t eoi_bits = c->isr;
	int ir;

	/* A non-specific EOI does not clear levels masked in special mask
	 * mode (the datasheet's note on the EOI command). */
	if (c->smm)
		eoi_bits &= (uint8_t)~c->imr;
	switch (v >> 5) {
	case 0: /* rotate in AEOI mode (clear) */
		c->rotate_aeoi = false;
		break;
	case 4: /* rotate in AEOI mode (set) */
		c->rotate_aeoi = true;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		ir = highest(c, eoi_bits);
		if (ir >= 0) {
			c->isr &= (uint8_t)~(1u << ir);
			if (v >> 5 == 5)
				c->lowest = (uint8_t)ir;
		}
		break;
	case 3: /* specific EOI */
		c->isr &= (uint8_t)~(1u << level);
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= (uint8_t)~(1u << level);
		c->lowest = (uint8_t)level;
		break;
	case 6: /* set priority: `level` becomes the lowest */
		c->lowest = (uint8_t)level;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & OCW3_ESMM)
		c->smm = v & OCW3_SMM;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	c->poll = v & OCW3_P;
}

static void write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2: /* ICW2: T7-T3 of the vector */
		c->vector_base = v & 0xf8;
		c->init_step = c->sngl ? (c->ic4 ? 4 : 0) : 3;
		break;
	case 3: /* ICW3 */
		c->icw3 = v;
		c->init_step = c->ic4 ? 4 : 0;
		break;
	case 4: /* ICW4 */
		c->upm = v & ICW4_UPM;
		c->aeoi = v & ICW4_AEOI;
		c->ms = v & ICW4_MS;
		c->buf = v & ICW4_BUF;
		c->sfnm = v & ICW4_SFNM;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

static void chip_write(struct pic *p, unsigned idx, uint64_t offset,
		       uint8_t v)
{
	struct pic_chip *c = &p->chip[idx];
	if (offset & 1)
		write_data(c, v);
	else if (v & ICW1_SEL)
		write_icw1(c, v);
	else if (v & OCW3_SEL)
		write_ocw3(c, v);
	else
		write_ocw2(c, v);
	pic_update(p);
}

/* A poll read: the highest request acknowledged as an INTA would, as
 * I (bit 7) and W2-W0. Any read after the poll command is the poll. */
static uint8_t chip_poll(struct pic *p, unsigned idx)
{
	struct pic_chip *c = &p->chip[idx];
	int ir = chip_pending(c, idx == PIC_MASTER);
	c->poll = false;
	if (ir < 0)
		return 0;
	chip_ack(c, (unsigned)ir);
	pic_update(p);
	return (uint8_t)(0x80 | ir);
}

static uint8_t chip_read(struct pic *p, unsigned idx, uint64_t offset)
{
	struct pic_chip *c = &p->chip[idx];
	if (c->poll)
		return chip_poll(p, idx);
	if (offset & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static uint64_t master_read(void *opaque, uint64_t offset, unsigned size)
{
	return chip_read(opaque, PIC_MASTER, offset);
}

static void master_write(void *opaque, uint64_t offset, unsigned size,
			 uint64_t value)
{
	chip_write(opaque, PIC_MASTER, offset, (uint8_t)value);
}

static uint64_t slave_read(void *opaque, uint64_t offset, unsigned size)
{
	return chip_read(opaque, PIC_SLAVE, offset);
}

static void slave_write(void *opaque, uint64_t offset, unsigned size,
			uint64_t value)
{
	chip_write(opaque, PIC_SLAVE, offset, (uint8_t)value);
}

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pic *p = opaque;
	return p->chip[offset & 1].elcr;
}

static void elcr_write(void *opaque, uint64_t offset, unsigned size,
		       uint64_t value)
{
	struct pic *p = opaque;
	struct pic_chip *c = &p->chip[offset & 1];
	c->elcr = (uint8_t)value & c->elcr_mask;
	pic_update(p);
}

const struct io_ops pic_master_ops = {
	master_read, master_write, IO_SIZE_1, IO_SIZE_1,
};
const struct io_ops pic_slave_ops = {
	slave_read, slave_write, IO_SIZE_1, IO_SIZE_1,
};
const struct io_ops pic_elcr_ops = {
	elcr_read, elcr_write, IO_SIZE_1, IO_SIZE_1,
};

/* ---- the kind (dev/kind.h) ----
 * The vmm's board creates and wires the platform core itself (their
 * links to each other and to the vCPU are not board lines); the row
 * names the device for -device help and gives the board its reset. */

#include "dev/kind.h"

static void pic_kind_reset(void *dev)
{
	pic_reset(dev);
}

DEV_KIND(pic) = {
	.name = "i8259",
	.help = "the cascaded 8259A interrupt controllers (0x20, 0xa0) and the ELCR (0x4d0)",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct pic),
	.reset = pic_kind_reset,
	.state = &pic_state,
};
