/* The 8259A pair: initialisation as Linux and SeaBIOS do it, priorities
 * (fixed and rotating), the EOI kinds, AEOI, IMR, special mask mode,
 * poll, ELCR level inputs re-asserting, the cascade, special fully nested
 * mode, spurious IRQ 7 and 15, IRR/ISR reads, hostile writes. */
#include "vmm/platform/pic.h"
#include "tests/dev/irqrec.h"
#include "tests/tap.h"

static const struct io_ops *ops_for(unsigned port, uint64_t *off)
{
	*off = port & 1;
	switch (port & ~1u) {
	case 0x20: return &pic_master_ops;
	case 0xa0: return &pic_slave_ops;
	default: return &pic_elcr_ops;
	}
}

static void out(struct pic *p, unsigned port, uint8_t v)
{
	uint64_t off;
	const struct io_ops *o = ops_for(port, &off);
	o->write(p, off, 1, v);
}

static uint8_t in(struct pic *p, unsigned port)
{
	uint64_t off;
	const struct io_ops *o = ops_for(port, &off);
	return (uint8_t)o->read(p, off, 1);
}

/* Linux's init_8259A (arch/x86/kernel/i8259.c), vectors 0x30/0x38. */
static void linux_init(struct pic *p, bool aeoi)
{
	out(p, 0x21, 0xff);
	out(p, 0xa1, 0xff);
	out(p, 0x20, 0x11);
	out(p, 0x21, 0x30);
	out(p, 0x21, 1u << 2);
	out(p, 0x21, aeoi ? 0x03 : 0x01);
	out(p, 0xa0, 0x11);
	out(p, 0xa1, 0x38);
	out(p, 0xa1, 2);
	out(p, 0xa1, 0x01);
	out(p, 0x21, 0x00);
	out(p, 0xa1, 0x00);
}

/* SeaBIOS's pic_setup: vectors 0x08/0x70, all masked but the cascade. */
static void seabios_init(struct pic *p)
{
	out(p, 0x20, 0x11);
	out(p, 0x21, 0x08);
	out(p, 0x21, 0x04);
	out(p, 0x21, 0x01);
	out(p, 0xa0, 0x11);
	out(p, 0xa1, 0x70);
	out(p, 0xa1, 0x02);
	out(p, 0xa1, 0x01);
	out(p, 0x21, 0xfb);
	out(p, 0xa1, 0xff);
}

static uint8_t read_isr(struct pic *p, unsigned base)
{
	uint8_t v;
	out(p, base, 0x0b);
	v = in(p, base);
	out(p, base, 0x0a);
	return v;
}

static void edge(struct pic *p, unsigned irq)
{
	pic_set_irq(p, irq, true);
	pic_set_irq(p, irq, false);
}

static void setup(struct pic *p, struct irqrec *c, bool aeoi)
{
	struct irq_line l = {irqrec_set, c, 0};
	*c = (struct irqrec){0};
	pic_init(p, &l);
	linux_init(p, aeoi);
}

static void test_init(struct tap *t)
{
	struct pic p;
	struct irqrec c;
	struct irq_line l = {irqrec_set, &c, 0};

	c = (struct irqrec){0};
	pic_init(&p, &l);
	edge(&p, 0);
	tap_ok(t, !c.level, "power-on: every input masked");
	linux_init(&p, false);
	tap_ok(t, p.chip[0].vector_base == 0x30 && p.chip[1].vector_base == 0x38 &&
		       p.chip[0].icw3 == 4 && p.chip[1].icw3 == 2 &&
		       p.chip[0].init_step == 0 && p.chip[1].init_step == 0,
	       "Linux init: ICW2/ICW3 taken, both chips ready");
	tap_ok(t, !c.level && p.chip[0].irr == 0,
	       "ICW1 resets the edge sense: the old IRQ 0 edge is gone");
	out(&p, 0x21, 0xfb);
	tap_ok(t, in(&p, 0x21) == 0xfb, "Linux's probe: IMR reads back");
	out(&p, 0x21, 0x00);
	edge(&p, 0);
	tap_ok(t, c.level && pic_intack(&p) == 0x30, "IRQ 0 -> vector 0x30");
	out(&p, 0x20, 0x60);
	edge(&p, 9);
	tap_ok(t, c.level && pic_intack(&p) == 0x39, "IRQ 9 -> vector 0x39 via the slave");

	c = (struct irqrec){0};
	pic_init(&p, &l);
	seabios_init(&p);
	tap_ok(t, in(&p, 0x21) == 0xfb && in(&p, 0xa1) == 0xff, "SeaBIOS init: masks");
	edge(&p, 8);
	tap_ok(t, !c.level, "masked on the slave: no INTR");
	out(&p, 0xa1, 0xfe);
	tap_ok(t, c.level && pic_intack(&p) == 0x70, "IRQ 8 unmasked -> vector 0x70");
	out(&p, 0xa0, 0x20);
	out(&p, 0x20, 0x20);
	tap_ok(t, read_isr(&p, 0x20) == 0 && read_isr(&p, 0xa0) == 0,
	       "SeaBIOS's non-specific EOIs, slave then master");
	out(&p, 0x20, 0x11);
	out(&p, 0x21, 0x08);
	edge(&p, 1);
	tap_ok(t, !c.level && p.chip[0].init_step == 3, "no INTR in the middle of the ICWs");
}

static void test_priority(struct tap *t)
{
	struct pic p;
	struct irqrec c;

	setup(&p, &c, false);
	edge(&p, 3);
	edge(&p, 1);
	tap_ok(t, c.level && pic_intack(&p) == 0x31, "IRQ 1 before IRQ 3");
	tap_ok(t, !c.level, "IRQ 3 held off by IRQ 1 in service");
	edge(&p, 0);
	tap_ok(t, c.level && pic_intack(&p) == 0x30, "IRQ 0 nests over IRQ 1");
	tap_ok(t, read_isr(&p, 0x20) == 0x03, "ISR holds IRQ 0 and 1");
	out(&p, 0x20, 0x20);
	tap_ok(t, read_isr(&p, 0x20) == 0x02 && !c.level,
	       "non-specific EOI ends the highest (IRQ 0)");
	out(&p, 0x20, 0x20);
	tap_ok(t, c.level && pic_intack(&p) == 0x33, "then IRQ 3 is delivered");
	edge(&p, 5);
	out(&p, 0x20, 0x63);
	tap_ok(t, c.level && pic_intack(&p) == 0x35 && read_isr(&p, 0x20) == 0x20,
	       "specific EOI ends IRQ 3 only; IRQ 5 follows");
	out(&p, 0x20, 0x65);

	/* Set priority: IR3 lowest, so IR4 is highest. */
	out(&p, 0x20, 0xc3);
	tap_ok(t, p.chip[0].lowest == 3, "set priority command");
	edge(&p, 1);
	edge(&p, 5);
	tap_ok(t, pic_intack(&p) == 0x35, "after rotation IRQ 5 beats IRQ 1");
	tap_ok(t, !c.level, "IRQ 1 (rank 5) waits for IRQ 5 (rank 1)");
	/* Rotate on non-specific EOI: IR5 becomes lowest, IR6 highest. */
	out(&p, 0x20, 0xa0);
	tap_ok(t, p.chip[0].lowest == 5 && read_isr(&p, 0x20) == 0,
	       "rotate on non-specific EOI: the ended level becomes lowest");
	edge(&p, 6);
	tap_ok(t, pic_intack(&p) == 0x36, "IRQ 6 is now highest");
	/* Rotate on specific EOI. */
	out(&p, 0x20, 0xe6);
	tap_ok(t, p.chip[0].lowest == 6 && read_isr(&p, 0x20) == 0,
	       "rotate on specific EOI");
	tap_ok(t, pic_intack(&p) == 0x31, "IRQ 1 still pending, delivered");
	out(&p, 0x20, 0x61);
	/* Back to fixed priority: IR7 lowest. */
	out(&p, 0x20, 0xc7);
	edge(&p, 7);
	edge(&p, 0);
	tap_ok(t, pic_intack(&p) == 0x30, "fixed priority again: IRQ 0 first");
	out(&p, 0x20, 0x40); /* no operation */
	tap_ok(t, read_isr(&p, 0x20) == 0x01, "OCW2 no-op leaves ISR alone");
	out(&p, 0x20, 0x20);
	tap_ok(t, pic_intack(&p) == 0x37, "then IRQ 7");
	out(&p, 0x20, 0x20);
	tap_ok(t, !c.level && read_isr(&p, 0x20) == 0 && p.chip[0].irr == 0, "all quiet");
}

static void test_aeoi(struct tap *t)
{
	struct pic p;
	struct irqrec c;

	setup(&p, &c, true);
	edge(&p, 4);
	tap_ok(t, pic_intack(&p) == 0x34 && read_isr(&p, 0x20) == 0,
	       "AEOI: nothing left in service");
	edge(&p, 6);
	tap_ok(t, c.level, "AEOI: a lower request is not held off");
	pic_intack(&p);
	out(&p, 0x20, 0x80);
	tap_ok(t, p.chip[0].rotate_aeoi, "rotate in AEOI mode set");
	edge(&p, 3);
	tap_ok(t, pic_intack(&p) == 0x33 && p.chip[0].lowest == 3,
	       "rotate in AEOI: the acknowledged level becomes lowest");
	edge(&p, 1);
	edge(&p, 4);
	tap_ok(t, pic_intack(&p) == 0x34, "IRQ 4 now beats IRQ 1");
	out(&p, 0x20, 0x00);
	tap_ok(t, !p.chip[0].rotate_aeoi, "rotate in AEOI mode clear");
	tap_ok(t, pic_intack(&p) == 0x31 && p.chip[0].lowest == 4,
	       "no more rotation on acknowledge");
}

static void test_masks(struct tap *t)
{
	struct pic p;
	struct irqrec c;

	setup(&p, &c, false);
	out(&p, 0x21, 0x10);
	edge(&p, 4);
	tap_ok(t, !c.level && p.chip[0].irr == 0x10, "masked: latched in IRR, no INTR");
	out(&p, 0x21, 0x00);
	tap_ok(t, c.level && pic_intack(&p) == 0x34, "unmasked: delivered");

	/* Special mask mode: IRQ 3 in service, masked, lets IRQ 5 through. */
	edge(&p, 3);
	out(&p, 0x20, 0x64);
	tap_ok(t, pic_intack(&p) == 0x33, "IRQ 3 in service");
	edge(&p, 5);
	tap_ok(t, !c.level, "IRQ 5 held off by IRQ 3");
	out(&p, 0x21, 0x08);
	out(&p, 0x20, 0x68);
	tap_ok(t, p.chip[0].smm && c.level, "special mask mode: IRQ 5 enabled");
	tap_ok(t, pic_intack(&p) == 0x35 && read_isr(&p, 0x20) == 0x28, "IRQ 5 nests");
	out(&p, 0x20, 0x20);
	tap_ok(t, read_isr(&p, 0x20) == 0x08,
	       "non-specific EOI in SMM skips the masked level (IRQ 3)");
	out(&p, 0x20, 0x48);
	tap_ok(t, !p.chip[0].smm, "special mask mode reset");
	edge(&p, 6);
	tap_ok(t, !c.level, "IRQ 6 held off by IRQ 3 again");
	out(&p, 0x20, 0x63);
	out(&p, 0x21, 0x00);
	tap_ok(t, c.level && pic_intack(&p) == 0x36, "after its EOI, IRQ 6 comes");
	out(&p, 0x20, 0x20);

	/* Reads of IRR and ISR. */
	out(&p, 0x21, 0xff);
	edge(&p, 1);
	edge(&p, 7);
	out(&p, 0x20, 0x0a);
	tap_ok(t, in(&p, 0x20) == 0x82, "OCW3 read IRR");
	out(&p, 0x20, 0x0b);
	tap_ok(t, in(&p, 0x20) == 0x00, "OCW3 read ISR");
	out(&p, 0x20, 0x08);
	tap_ok(t, in(&p, 0x20) == 0x00, "OCW3 without RR keeps the last choice (ISR)");
	out(&p, 0x20, 0x0a);
	tap_ok(t, in(&p, 0x21) == 0xff, "port 1 reads IMR");
}

static void test_poll(struct tap *t)
{
	struct pic p;
	struct irqrec c;

	setup(&p, &c, false);
	out(&p, 0x20, 0x0c);
	tap_ok(t, in(&p, 0x20) == 0x00, "poll with nothing pending: I = 0");
	edge(&p, 6);
	edge(&p, 4);
	out(&p, 0x20, 0x0c);
	tap_ok(t, in(&p, 0x20) == 0x84, "poll: I = 1, level 4");
	tap_ok(t, read_isr(&p, 0x20) == 0x10 && p.chip[0].irr == 0x40,
	       "the poll read acknowledged IRQ 4 like an INTA");
	tap_ok(t, in(&p, 0x20) == 0x40, "the next read is IRR again");
	out(&p, 0x20, 0x20);
	out(&p, 0x20, 0x0c);
	tap_ok(t, in(&p, 0x21) == 0x86, "a poll read at port 1 works too (IRQ 6)");
	out(&p, 0x20, 0x20);
	/* Slave polled through the master, as a polling guest does. */
	edge(&p, 13);
	out(&p, 0x20, 0x0c);
	tap_ok(t, in(&p, 0x20) == 0x82, "master poll reports the cascade");
	out(&p, 0xa0, 0x0c);
	tap_ok(t, in(&p, 0xa0) == 0x85, "slave poll reports IRQ 13");
}

static void test_elcr(struct tap *t)
{
	struct pic p;
	struct irqrec c;

	setup(&p, &c, false);
	out(&p, 0x4d0, 0xff);
	out(&p, 0x4d1, 0xff);
	tap_ok(t, in(&p, 0x4d0) == 0xf8 && in(&p, 0x4d1) == 0xde,
	       "ELCR: IRQ 0, 1, 2, 8, 13 fixed edge");
	out(&p, 0x4d0, 0x00);
	out(&p, 0x4d1, 0x04); /* IRQ 10 level */
	pic_set_irq(&p, 10, true);
	tap_ok(t, c.level && pic_intack(&p) == 0x3a, "level IRQ 10 delivered");
	tap_ok(t, !c.level, "held off while in service");
	out(&p, 0xa0, 0x20);
	out(&p, 0x20, 0x20);
	tap_ok(t, c.level, "line still high after EOI: re-asserts");
	tap_ok(t, pic_intack(&p) == 0x3a, "and is delivered again");
	pic_set_irq(&p, 10, false);
	out(&p, 0xa0, 0x20);
	out(&p, 0x20, 0x20);
	tap_ok(t, !c.level && p.chip[1].irr == 0, "line lowered: request gone");

	/* LTIM: the whole master level-triggered through ICW1. */
	out(&p, 0x20, 0x19);
	out(&p, 0x21, 0x30);
	out(&p, 0x21, 0x04);
	out(&p, 0x21, 0x01);
	pic_set_irq(&p, 5, true);
	tap_ok(t, c.level && pic_intack(&p) == 0x35, "LTIM: level IRQ 5");
	out(&p, 0x20, 0x20);
	tap_ok(t, c.level && pic_intack(&p) == 0x35, "LTIM: re-asserts after EOI");
	out(&p, 0x20, 0x20);
	pic_set_irq(&p, 5, false);
	tap_ok(t, !c.level, "LTIM: lowered, quiet");
}

static void test_cascade(struct tap *t)
{
	struct pic p;
	struct irqrec c;

	setup(&p, &c, false);
	edge(&p, 12);
	tap_ok(t, c.level && p.chip[0].irr == 0x04 && p.chip[1].irr == 0x10,
	       "IRQ 12: slave IRR 4, master IRR 2");
	tap_ok(t, pic_intack(&p) == 0x3c, "vector 0x3c from the slave");
	tap_ok(t, read_isr(&p, 0x20) == 0x04 && read_isr(&p, 0xa0) == 0x10,
	       "in service on both chips");
	edge(&p, 9);
	tap_ok(t, !c.level, "without SFNM the master holds off IRQ 9 behind IR2");
	edge(&p, 1);
	tap_ok(t, c.level && pic_intack(&p) == 0x31, "IRQ 1 nests above the cascade");
	out(&p, 0x20, 0x20);
	out(&p, 0xa0, 0x20); /* ends IRQ 12, the only slave level in service */
	out(&p, 0x20, 0x20);
	tap_ok(t, c.level && pic_intack(&p) == 0x39, "IRQ 9 after both EOIs");
	out(&p, 0xa0, 0x20);
	out(&p, 0x20, 0x20);

	/* Special fully nested mode on the master. */
	out(&p, 0x20, 0x11);
	out(&p, 0x21, 0x30);
	out(&p, 0x21, 0x04);
	out(&p, 0x21, 0x11);
	edge(&p, 12);
	tap_ok(t, pic_intack(&p) == 0x3c, "SFNM: IRQ 12 in service");
	edge(&p, 9);
	tap_ok(t, c.level && pic_intack(&p) == 0x39,
	       "SFNM: higher slave IRQ 9 nests while IR2 is in service");
	edge(&p, 14);
	tap_ok(t, !c.level, "SFNM: lower slave IRQ 14 still held off by the slave");
	out(&p, 0xa0, 0x20);
	out(&p, 0xa0, 0x20);
	tap_ok(t, c.level && pic_intack(&p) == 0x3e, "IRQ 14 after the slave EOIs");

	/* Slave in AEOI with two requests: the second is not lost. */
	setup(&p, &c, false);
	out(&p, 0xa0, 0x11);
	out(&p, 0xa1, 0x38);
	out(&p, 0xa1, 0x02);
	out(&p, 0xa1, 0x03);
	out(&p, 0x20, 0x11);
	out(&p, 0x21, 0x30);
	out(&p, 0x21, 0x04);
	out(&p, 0x21, 0x03);
	edge(&p, 10);
	edge(&p, 11);
	tap_ok(t, pic_intack(&p) == 0x3a && c.level && pic_intack(&p) == 0x3b,
	       "both chips AEOI: IRQ 10 then 11, nothing lost");
}

static void test_spurious(struct tap *t)
{
	struct pic p;
	struct irqrec c;

	setup(&p, &c, false);
	out(&p, 0x4d0, 0x20); /* IRQ 5 level */
	pic_set_irq(&p, 5, true);
	tap_ok(t, c.level, "level IRQ 5 asserts INTR");
	pic_set_irq(&p, 5, false);
	tap_ok(t, !c.level, "lowered: INTR follows");
	tap_ok(t, pic_intack(&p) == 0x37 && read_isr(&p, 0x20) == 0,
	       "INTA anyway: spurious IRQ 7, nothing in service");
	edge(&p, 4);
	out(&p, 0x21, 0x10);
	tap_ok(t, pic_intack(&p) == 0x37, "masked before INTA: spurious IRQ 7");
	out(&p, 0x21, 0x00);
	tap_ok(t, pic_intack(&p) == 0x34, "the latched edge still comes when unmasked");
	out(&p, 0x20, 0x20);

	out(&p, 0x4d1, 0x08); /* IRQ 11 level */
	pic_set_irq(&p, 11, true);
	pic_set_irq(&p, 11, false);
	tap_ok(t, p.chip[0].irr == 0x04 && p.chip[1].irr == 0,
	       "slave request gone, master IR2 edge latched");
	tap_ok(t, pic_intack(&p) == 0x3f, "spurious IRQ 15");
	tap_ok(t, read_isr(&p, 0x20) == 0x04 && read_isr(&p, 0xa0) == 0,
	       "master IR2 in service (Linux EOIs the master), slave clean");
	out(&p, 0x20, 0x62);
	tap_ok(t, !c.level && read_isr(&p, 0x20) == 0, "master EOI: quiet");
}

static void test_hostile(struct tap *t)
{
	static const unsigned ports[] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1};
	struct pic p;
	struct irqrec c;
	unsigned n = 0;

	setup(&p, &c, false);
	for (unsigned i = 0; i < 6; i++) {
		for (unsigned v = 0; v < 256; v++) {
			out(&p, ports[i], (uint8_t)v);
			for (unsigned irq = 0; irq < 20; irq++)
				pic_set_irq(&p, irq, (v >> (irq & 7)) & 1);
			in(&p, ports[(i + v) % 6]);
			if (c.level)
				pic_intack(&p);
			n++;
		}
	}
	for (unsigned i = 0; i < 6; i++)
		for (unsigned v = 0; v < 256; v++) {
			out(&p, ports[5 - i], (uint8_t)(v * 37));
			pic_intack(&p);
		}
	tap_ok(t, n == 6 * 256, "every byte to every port, with traffic: survived");
	for (unsigned irq = 0; irq < 16; irq++)
		pic_set_irq(&p, irq, false);
	pic_reset(&p);
	linux_init(&p, false);
	edge(&p, 3);
	tap_ok(t, pic_intack(&p) == 0x33, "works again after reset and init");
}

int main(void)
{
	struct tap t = {0};
	test_init(&t);
	test_priority(&t);
	test_aeoi(&t);
	test_masks(&t);
	test_poll(&t);
	test_elcr(&t);
	test_cascade(&t);
	test_spurious(&t);
	test_hostile(&t);
	return tap_done(&t);
}
