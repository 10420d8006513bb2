/* Versioned state of every device: each is driven through its ports into
 * a state worth keeping (FIFOs holding bytes, a counter mid-count with a
 * latch pending, timers armed, interrupts in service), saved, and loaded
 * into a fresh instance on its own clock at the same virtual time. The
 * loaded one must drive its lines to the same levels, encode to the same
 * bytes, and then behave the same under one script: the same register
 * reads, the same line edges at the same times as both clocks advance,
 * the same bytes out. Then hostile states: truncated at every byte, a
 * field out of range (refused naming device and field, nothing changed),
 * and random mutations, which must never crash (ASan watches). */
#include <stdlib.h>
#include <string.h>

#include "dm/hw/display_input.h"
#include "dm/hw/fdc.h"
#include "dm/hw/fw_cfg.h"
#include "dm/hw/i8237.h"
#include "dm/hw/i8042.h"
#include "dm/hw/port92.h"
#include "dm/hw/uhci.h"
#include "dm/hw/usb_hid.h"
#include "dm/hw/uart.h"
#include "dev/kind.h"
#include "dm/hw/vga.h"
#include "lib/vstate.h"
#include "tests/dev/ide_rig.h"
#include "tests/dev/fakefront.h"
#include "tests/dev/irqrec.h"
#include "tests/tap.h"
#include "vmm/platform/acpi_pm.h"
#include "vmm/platform/ioapic.h"
#include "vmm/platform/lapic.h"
#include "vmm/platform/pic.h"
#include "vmm/platform/pit.h"
#include "vmm/platform/rtc.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (5 * SEC + 123457) /* where every test's clock starts */

/* What a script observed: register reads and the like, in order. */
#define LOG_MAX 4096
struct log {
	unsigned n;
	uint64_t v[LOG_MAX];
};

static void put(struct log *l, uint64_t v)
{
	if (l->n < LOG_MAX)
		l->v[l->n] = v;
	l->n++;
}

static void advance(struct vclock *c, uint64_t ns)
{
	vclock_advance_to(c, vclock_now(c) + ns);
}

/* One device kind under test. Every env starts with its clock; recs
 * lists the env's line recorders. */
#define MAX_RECS 4
struct dev_case {
	const char *name;
	const struct vs_desc *desc;
	size_t env_size, dev_offset, dev_size;
	void (*init)(void *env, uint64_t now);
	void (*fini)(void *env); /* may be NULL */
	void (*prep)(void *env);
	void (*run)(void *env, struct log *log);
	unsigned n_recs;
	size_t rec_offset[MAX_RECS];
	const char *bad_field; /* set to bad_value, which its bound refuses */
	uint64_t bad_value;
};

/* ---- UART ---- */

struct uart_env {
	struct vclock clk;
	struct irqrec q;
	struct uart u;
	uint8_t out[256];
	unsigned n_out;
};

static void uart_sink(void *opaque, const uint8_t *buf, size_t n)
{
	struct uart_env *e = opaque;
	for (size_t i = 0; i < n; i++)
		e->out[e->n_out++ % sizeof(e->out)] = buf[i];
}

static void uart_env_init(void *env, uint64_t now)
{
	struct uart_env *e = env;
	struct irq_line l = irqrec_line(&e->q, 4);
	struct chardev out = {uart_sink, e, NULL};
	vclock_init(&e->clk, now);
	irqrec_init(&e->q, &e->clk);
	uart_init(&e->u, &l, &e->clk, &out);
}

static uint8_t uart_in(struct uart_env *e, unsigned reg)
{
	return (uint8_t)uart_ops.read(&e->u, reg, 1);
}

static void uart_out(struct uart_env *e, unsigned reg, uint8_t v)
{
	uart_ops.write(&e->u, reg, 1, v);
}

static void uart_prep(void *env)
{
	struct uart_env *e = env;
	uart_out(e, UART_LCR, UART_LCR_DLAB);
	uart_out(e, UART_DLL, 12); /* 9600 baud: about 1 ms a character */
	uart_out(e, UART_DLM, 0);
	uart_out(e, UART_LCR, 0x03);
	uart_out(e, UART_FCR, UART_FCR_ENABLE | 0xc0); /* trigger at 14 */
	uart_out(e, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	uart_out(e, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI | UART_IER_ELSI);
	uart_out(e, UART_SCR, 0x5a);
	(void)uart_receive(&e->u, (const uint8_t *)"hello", 5);
	(void)uart_receive_break(&e->u);
	uart_out(e, UART_THR, 'x');
	uart_out(e, UART_THR, 'y');
	uart_out(e, UART_THR, 'z');
	advance(&e->clk, 300 * US); /* mid-character, timeout still ahead */
}

static void uart_run(void *env, struct log *log)
{
	struct uart_env *e = env;
	unsigned first = e->n_out; /* what went out before is not compared */
	for (unsigned i = 0; i < 40; i++) {
		put(log, uart_in(e, UART_IIR));
		put(log, uart_in(e, UART_LSR));
		if (i % 7 == 3)
			put(log, uart_in(e, UART_RBR));
		if (i == 10)
			(void)uart_receive(&e->u, (const uint8_t *)"0123456789abcdef", 16);
		if (i == 20)
			uart_out(e, UART_THR, '!');
		advance(&e->clk, 250 * US);
	}
	put(log, uart_in(e, UART_MSR));
	put(log, uart_in(e, UART_SCR));
	put(log, e->n_out - first);
	for (unsigned i = first; i < e->n_out; i++)
		put(log, e->out[i % sizeof(e->out)]);
}

/* ---- i8042 ---- */

struct i8042_env {
	struct vclock clk;
	struct irqrec irq1, irq12, a20, reset;
	struct i8042 k;
};

static void i8042_env_init(void *env, uint64_t now)
{
	struct i8042_env *e = env;
	struct irq_line l1 = irqrec_line(&e->irq1, 1), l12 = irqrec_line(&e->irq12, 12),
			la = irqrec_line(&e->a20, 0), lr = irqrec_line(&e->reset, 0);
	vclock_init(&e->clk, now);
	irqrec_init(&e->irq1, &e->clk);
	irqrec_init(&e->irq12, &e->clk);
	irqrec_init(&e->a20, &e->clk);
	irqrec_init(&e->reset, &e->clk);
	i8042_init(&e->k, &l1, &l12, &la, &lr);
}

static void i8042_prep(void *env)
{
	struct i8042_env *e = env;
	static const uint8_t a_down[] = {0x1c}, a_up[] = {0xf0, 0x1c},
			     up_down[] = {0xe0, 0x75};
	i8042_cmd_ops.write(&e->k, 0, 1, 0xd1); /* write output port: */
	i8042_data_ops.write(&e->k, 0, 1, 0xdf); /* A20 on */
	i8042_key(&e->k, a_down, sizeof(a_down));
	i8042_key(&e->k, a_up, sizeof(a_up));
	i8042_key(&e->k, up_down, sizeof(up_down));
	i8042_data_ops.write(&e->k, 0, 1, 0xed); /* set LEDs: waits for its byte */
}

static void i8042_run(void *env, struct log *log)
{
	struct i8042_env *e = env;
	static const uint8_t b_down[] = {0x32};
	i8042_data_ops.write(&e->k, 0, 1, 0x07); /* the LED byte */
	for (unsigned i = 0; i < 12; i++) {
		put(log, i8042_cmd_ops.read(&e->k, 0, 1));
		put(log, i8042_data_ops.read(&e->k, 0, 1));
		if (i == 4)
			i8042_key(&e->k, b_down, sizeof(b_down));
		if (i == 6)
			i8042_cmd_ops.write(&e->k, 0, 1, 0x20); /* read CTR */
		if (i == 8)
			i8042_cmd_ops.write(&e->k, 0, 1, 0xd0); /* read output port */
	}
	i8042_cmd_ops.write(&e->k, 0, 1, 0xfe); /* pulse reset */
	put(log, i8042_cmd_ops.read(&e->k, 0, 1));
}

/* ---- port 0x92 ---- */

struct port92_env {
	struct vclock clk;
	struct irqrec a20, reset;
	struct port92 p;
};

static void port92_env_init(void *env, uint64_t now)
{
	struct port92_env *e = env;
	struct irq_line la = irqrec_line(&e->a20, 0), lr = irqrec_line(&e->reset, 0);
	vclock_init(&e->clk, now);
	irqrec_init(&e->a20, &e->clk);
	irqrec_init(&e->reset, &e->clk);
	port92_init(&e->p, &la, &lr);
}

static void port92_prep(void *env)
{
	struct port92_env *e = env;
	port92_ops.write(&e->p, 0, 1, 0x02);
}

static void port92_run(void *env, struct log *log)
{
	struct port92_env *e = env;
	put(log, port92_ops.read(&e->p, 0, 1));
	port92_ops.write(&e->p, 0, 1, 0x03);
	put(log, port92_ops.read(&e->p, 0, 1));
	port92_ops.write(&e->p, 0, 1, 0x00);
	put(log, port92_ops.read(&e->p, 0, 1));
}

/* ---- fw_cfg ---- */

/* A fake guest RAM of 4 KiB seen at every 4 GiB (so the high half of
 * the DMA address matters), logging where each access went. */
struct fw_env {
	struct vclock clk;
	struct fw_cfg fw;
	uint8_t ram[4096];
	uint64_t gpa_log[16];
	unsigned n_gpa;
};

static int fw_ram_ok(struct fw_env *e, uint64_t gpa, size_t n)
{
	e->gpa_log[e->n_gpa++ % 16] = gpa;
	return (uint32_t)gpa < sizeof(e->ram) && n <= sizeof(e->ram) - (uint32_t)gpa;
}

static int fw_ram_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct fw_env *e = opaque;
	if (!fw_ram_ok(e, gpa, n))
		return -14;
	memcpy(buf, e->ram + (uint32_t)gpa, n);
	return 0;
}

static int fw_ram_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct fw_env *e = opaque;
	if (!fw_ram_ok(e, gpa, n))
		return -14;
	memcpy(e->ram + (uint32_t)gpa, buf, n);
	return 0;
}

static void fw_env_init(void *env, uint64_t now)
{
	struct fw_env *e = env;
	struct dma_space dma = {fw_ram_read, fw_ram_write, e};
	/* The descriptor at 0x100: READ 8 bytes to 0x1_0000_0200. */
	static const uint8_t desc[16] = {0, 0, 0, FW_CFG_DMA_READ, 0, 0, 0, 8,
					 0, 0, 0, 1, 0, 0, 0x02, 0};
	vclock_init(&e->clk, now);
	memcpy(e->ram + 0x100, desc, sizeof(desc));
	if (fw_cfg_init(&e->fw, &dma) || fw_cfg_add_string(&e->fw, 0x0b, "initrd!") ||
	    fw_cfg_add_file(&e->fw, "etc/test", "0123456789", 10, 0))
		abort();
}

static void fw_env_fini(void *env)
{
	fw_cfg_destroy(&((struct fw_env *)env)->fw);
}

static void fw_prep(void *env)
{
	struct fw_env *e = env;
	fw_cfg_io_ops.write(&e->fw, 0, 2, FW_CFG_FILE_FIRST); /* etc/test */
	for (unsigned i = 0; i < 3; i++)
		(void)fw_cfg_io_ops.read(&e->fw, 1, 1);
	fw_cfg_dma_ops.write(&e->fw, 0, 4, __builtin_bswap32(1)); /* high half */
}

static void fw_run(void *env, struct log *log)
{
	struct fw_env *e = env;
	for (unsigned i = 0; i < 4; i++)
		put(log, fw_cfg_io_ops.read(&e->fw, 1, 1));
	fw_cfg_dma_ops.write(&e->fw, 4, 4, __builtin_bswap32(0x100)); /* go */
	for (unsigned i = 0; i < e->n_gpa && i < 16; i++)
		put(log, e->gpa_log[i]);
	for (unsigned i = 0; i < 8; i++)
		put(log, e->ram[0x200 + i]);
	put(log, e->ram[0x103]); /* the control word written back */
	fw_cfg_io_ops.write(&e->fw, 0, 2, 0x0b);
	for (unsigned i = 0; i < 9; i++)
		put(log, fw_cfg_io_ops.read(&e->fw, 1, 1));
}

/* ---- PIC ---- */

struct pic_env {
	struct vclock clk;
	struct irqrec intr;
	struct pic pic;
};

static void pic_env_init(void *env, uint64_t now)
{
	struct pic_env *e = env;
	struct irq_line l = irqrec_line(&e->intr, 0);
	vclock_init(&e->clk, now);
	irqrec_init(&e->intr, &e->clk);
	pic_init(&e->pic, &l);
}

static void pic_out(struct pic_env *e, unsigned port, uint8_t v)
{
	const struct io_ops *ops = port >= 0xa0 ? &pic_slave_ops : &pic_master_ops;
	ops->write(&e->pic, port & 1, 1, v);
}

static uint8_t pic_in(struct pic_env *e, unsigned port)
{
	const struct io_ops *ops = port >= 0xa0 ? &pic_slave_ops : &pic_master_ops;
	return (uint8_t)ops->read(&e->pic, port & 1, 1);
}

static void pic_prep(void *env)
{
	struct pic_env *e = env;
	static const uint8_t master[] = {0x11, 0x20, 0x04, 0x01},
			     slave[] = {0x11, 0x28, 0x02, 0x01};
	for (unsigned i = 0; i < 4; i++) {
		pic_out(e, i ? 0x21 : 0x20, master[i]);
		pic_out(e, i ? 0xa1 : 0xa0, slave[i]);
	}
	pic_out(e, 0x21, 0x00);
	pic_out(e, 0xa1, 0x00);
	pic_elcr_ops.write(&e->pic, 1, 1, 0x02); /* IRQ 9 level-triggered */
	pic_set_irq(&e->pic, 1, true);
	pic_set_irq(&e->pic, 3, true);
	pic_set_irq(&e->pic, 3, false);
	pic_set_irq(&e->pic, 9, true);
	(void)pic_intack(&e->pic); /* IRQ 1 in service */
	pic_out(e, 0x20, 0x68);    /* OCW3: special mask mode */
	pic_out(e, 0x21, 0x02);    /* mask IRQ 1 (in service) */
	pic_out(e, 0x20, 0x0b);    /* reads give ISR */
}

static void pic_run(void *env, struct log *log)
{
	struct pic_env *e = env;
	put(log, pic_in(e, 0x20));
	put(log, pic_in(e, 0x21));
	for (unsigned i = 0; i < 4; i++) {
		put(log, pic_intr(&e->pic));
		put(log, pic_intack(&e->pic));
		put(log, pic_in(e, 0x20));
		pic_out(e, 0x20, 0x0a); /* IRR */
		put(log, pic_in(e, 0x20));
		put(log, pic_in(e, 0xa0));
		pic_out(e, 0x20, 0x0b);
		pic_set_irq(&e->pic, 4 + i, true);
		if (i == 2) {
			pic_set_irq(&e->pic, 9, false);
			pic_out(e, 0xa0, 0x20);
		}
		pic_out(e, 0x20, 0x20); /* non-specific EOI */
		advance(&e->clk, 1 * US);
	}
	pic_out(e, 0x20, 0x0c); /* poll */
	put(log, pic_in(e, 0x20));
	put(log, pic_elcr_ops.read(&e->pic, 1, 1));
}

/* ---- IOAPIC ---- */

struct ioapic_env {
	struct vclock clk;
	struct ioapic io;
	struct log msgs;
};

static void ioapic_deliver(void *opaque, const struct apic_msg *m)
{
	struct ioapic_env *e = opaque;
	put(&e->msgs, (uint64_t)m->vector | (uint64_t)m->mode << 8 |
			      (uint64_t)m->dest << 16 | (uint64_t)m->logical << 24 |
			      (uint64_t)m->level << 25);
}

static void ioapic_env_init(void *env, uint64_t now)
{
	struct ioapic_env *e = env;
	vclock_init(&e->clk, now);
	ioapic_init(&e->io, 2, ioapic_deliver, e);
}

static void ioapic_reg(struct ioapic_env *e, unsigned r, uint32_t v)
{
	ioapic_ops.write(&e->io, IOAPIC_REGSEL, 4, r);
	ioapic_ops.write(&e->io, IOAPIC_WIN, 4, v);
}

static void ioapic_prep(void *env)
{
	struct ioapic_env *e = env;
	ioapic_reg(e, 0x12, 0x31);                              /* pin 1 edge */
	ioapic_reg(e, 0x23, 0x01000000);                        /* pin 9 dest 1 */
	ioapic_reg(e, 0x22, 0x39 | (uint32_t)IOAPIC_RTE_LEVEL); /* level */
	ioapic_reg(e, 0x24, 0x3a | (uint32_t)IOAPIC_RTE_MASKED);
	ioapic_set_irq(&e->io, 9, true); /* sent: Remote IRR set */
	ioapic_set_irq(&e->io, 10, true);
	ioapic_ops.write(&e->io, IOAPIC_REGSEL, 4, 0x22);
	e->msgs.n = 0;
}

static void ioapic_run(void *env, struct log *log)
{
	struct ioapic_env *e = env;
	put(log, ioapic_ops.read(&e->io, IOAPIC_WIN, 4));
	ioapic_set_irq(&e->io, 1, true);
	ioapic_eoi(&e->io, 0x39); /* still asserted: sent again */
	ioapic_reg(e, 0x24, 0x3a); /* unmasked while asserted: edge lost */
	ioapic_set_irq(&e->io, 9, false);
	ioapic_ops.write(&e->io, IOAPIC_EOI, 4, 0x39);
	for (unsigned r = 0; r < 0x18; r++) {
		ioapic_ops.write(&e->io, IOAPIC_REGSEL, 4, r < 3 ? r : 0x10 + r);
		put(log, ioapic_ops.read(&e->io, IOAPIC_WIN, 4));
	}
	for (unsigned i = 0; i < e->msgs.n && i < LOG_MAX; i++)
		put(log, e->msgs.v[i]);
}

/* ---- LAPIC ---- */

struct lapic_env {
	struct vclock clk;
	struct irqrec intr, nmi;
	struct lapic l;
	struct log eois;
};

static void lapic_on_eoi(void *opaque, uint8_t v)
{
	put(&((struct lapic_env *)opaque)->eois, v);
}

static uint8_t lapic_on_extint(void *opaque)
{
	(void)opaque;
	return 0x08;
}

static void lapic_env_init(void *env, uint64_t now)
{
	struct lapic_env *e = env;
	struct irq_line li = irqrec_line(&e->intr, 0), ln = irqrec_line(&e->nmi, 0);
	vclock_init(&e->clk, now);
	irqrec_init(&e->intr, &e->clk);
	irqrec_init(&e->nmi, &e->clk);
	lapic_init(&e->l, 0, &e->clk, &li, &ln, lapic_on_eoi, e, lapic_on_extint, e);
}

static uint32_t lapic_rd(struct lapic_env *e, unsigned reg)
{
	return (uint32_t)lapic_ops.read(&e->l, reg, 4);
}

static void lapic_wr(struct lapic_env *e, unsigned reg, uint32_t v)
{
	lapic_ops.write(&e->l, reg, 4, v);
}

static void lapic_prep(void *env)
{
	struct lapic_env *e = env;
	struct apic_msg m = {.vector = 0x51, .mode = APIC_DM_FIXED, .level = true};
	lapic_wr(e, LAPIC_SVR, 0x1ff);
	lapic_wr(e, LAPIC_TIMER_DCR, 0x3); /* divide by 16 */
	lapic_wr(e, LAPIC_LVT_TIMER, 0x40 | LAPIC_LVT_PERIODIC);
	lapic_wr(e, LAPIC_TIMER_ICR, 20000); /* 320 us period */
	lapic_deliver(&e->l, &m); /* level: its EOI goes out */
	(void)lapic_intack(&e->l);
	m.vector = 0x62;
	m.level = false;
	lapic_deliver(&e->l, &m);
	lapic_wr(e, LAPIC_TPR, 0x20);
	lapic_wr(e, LAPIC_LVT_ERROR, 0xfe);
	lapic_wr(e, LAPIC_ICR_LO, 0x4000 | 0x05); /* illegal vector: ESR */
	advance(&e->clk, 500 * US);
}

static void lapic_run(void *env, struct log *log)
{
	struct lapic_env *e = env;
	for (unsigned i = 0; i < 30; i++) {
		put(log, lapic_rd(e, LAPIC_TIMER_CCR));
		put(log, lapic_rd(e, LAPIC_IRR + 0x20)); /* vectors 0x40-0x5f */
		put(log, lapic_rd(e, LAPIC_IRR + 0x30));
		put(log, lapic_rd(e, LAPIC_ISR + 0x20));
		put(log, lapic_ppr(&e->l));
		if (lapic_intr(&e->l) && i % 3 == 0) {
			put(log, lapic_intack(&e->l));
			lapic_wr(e, LAPIC_EOI, 0);
		}
		if (i == 10) {
			lapic_wr(e, LAPIC_TPR, 0);
			lapic_wr(e, LAPIC_TIMER_DCR, 0xb); /* divide by 1 */
		}
		if (i == 20)
			lapic_set_lint(&e->l, 1, true); /* NMI */
		advance(&e->clk, 100 * US);
	}
	lapic_wr(e, LAPIC_ESR, 0);
	put(log, lapic_rd(e, LAPIC_ESR));
	for (unsigned i = 0; i < e->eois.n && i < LOG_MAX; i++)
		put(log, e->eois.v[i]);
}

/* ---- PIT ---- */

struct pit_env {
	struct vclock clk;
	struct irqrec irq0;
	struct pit pit;
};

static void pit_env_init(void *env, uint64_t now)
{
	struct pit_env *e = env;
	struct irq_line l = irqrec_line(&e->irq0, 0);
	vclock_init(&e->clk, now);
	irqrec_init(&e->irq0, &e->clk);
	pit_init(&e->pit, &l, &e->clk);
}

static void pit_prep(void *env)
{
	struct pit_env *e = env;
	pit_ops.write(&e->pit, 3, 1, 0x34); /* counter 0: mode 2, LSB/MSB */
	pit_ops.write(&e->pit, 0, 1, 0xe8);
	pit_ops.write(&e->pit, 0, 1, 0x03); /* 1000: about 838 us */
	pit_ops.write(&e->pit, 3, 1, 0xb6); /* counter 2: mode 3 */
	pit_ops.write(&e->pit, 2, 1, 0x00);
	pit_ops.write(&e->pit, 2, 1, 0x10);
	pit_port61_ops.write(&e->pit, 0, 1, 0x01); /* GATE2 */
	pit_ops.write(&e->pit, 3, 1, 0x70); /* counter 1: mode 0, LSB/MSB */
	pit_ops.write(&e->pit, 1, 1, 0x50); /* LSB only so far */
	advance(&e->clk, 1234 * US);
	pit_ops.write(&e->pit, 3, 1, 0x00); /* latch counter 0 */
	(void)pit_ops.read(&e->pit, 0, 1);  /* its LSB: MSB pending */
	pit_ops.write(&e->pit, 3, 1, 0xe8); /* read-back status of counter 2 */
	advance(&e->clk, 7 * US);
}

static void pit_run(void *env, struct log *log)
{
	struct pit_env *e = env;
	put(log, pit_ops.read(&e->pit, 0, 1)); /* the latched MSB */
	put(log, pit_ops.read(&e->pit, 2, 1)); /* the latched status */
	pit_ops.write(&e->pit, 1, 1, 0x02);    /* counter 1's MSB: counts */
	for (unsigned i = 0; i < 40; i++) {
		put(log, pit_ops.read(&e->pit, 0, 1));
		put(log, pit_ops.read(&e->pit, 0, 1));
		put(log, pit_port61_ops.read(&e->pit, 0, 1));
		put(log, pit_out(&e->pit, 1));
		if (i == 25) {
			pit_ops.write(&e->pit, 0, 1, 0x00); /* new count 0x0200 */
			pit_ops.write(&e->pit, 0, 1, 0x02);
		}
		advance(&e->clk, 171 * US);
	}
}

/* ---- RTC ---- */

struct rtc_env {
	struct vclock clk;
	struct irqrec irq8;
	struct rtc r;
};

static void rtc_env_init(void *env, uint64_t now)
{
	struct rtc_env *e = env;
	struct irq_line l = irqrec_line(&e->irq8, 8);
	vclock_init(&e->clk, now);
	irqrec_init(&e->irq8, &e->clk);
	rtc_init(&e->r, &l, &e->clk, 1700000000);
}

static uint8_t rtc_rd(struct rtc_env *e, unsigned idx)
{
	rtc_ops.write(&e->r, 0, 1, idx);
	return (uint8_t)rtc_ops.read(&e->r, 1, 1);
}

static void rtc_wr(struct rtc_env *e, unsigned idx, uint8_t v)
{
	rtc_ops.write(&e->r, 0, 1, idx);
	rtc_ops.write(&e->r, 1, 1, v);
}

static void rtc_prep(void *env)
{
	struct rtc_env *e = env;
	rtc_wr(e, RTC_REG_A, RTC_A_DV_32768 | 0x0a); /* 64 Hz periodic */
	rtc_wr(e, RTC_SECONDS_ALARM, 0xc0);           /* every second... */
	rtc_wr(e, RTC_MINUTES_ALARM, 0xc0);
	rtc_wr(e, RTC_HOURS_ALARM, 0xc0);
	rtc_wr(e, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_AIE);
	rtc_wr(e, 0x40, 0x77); /* NVRAM */
	advance(&e->clk, 333 * MS);
	(void)rtc_rd(e, RTC_REG_C);
	advance(&e->clk, 5 * MS);
	rtc_ops.write(&e->r, 0, 1, 0x80 | RTC_SECONDS); /* NMI masked */
}

static void rtc_run(void *env, struct log *log)
{
	struct rtc_env *e = env;
	put(log, rtc_ops.read(&e->r, 1, 1));
	for (unsigned i = 0; i < 80; i++) {
		if (e->irq8.level)
			put(log, rtc_rd(e, RTC_REG_C));
		if (i == 40)
			rtc_wr(e, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_PIE);
		advance(&e->clk, 9 * MS);
	}
	put(log, rtc_rd(e, RTC_SECONDS));
	put(log, rtc_rd(e, RTC_MINUTES));
	put(log, rtc_rd(e, RTC_HOURS));
	put(log, rtc_rd(e, RTC_DAY_OF_MONTH));
	put(log, rtc_rd(e, 0x40));
	put(log, rtc_nmi_masked(&e->r));
}

/* ---- ACPI PM ---- */

struct acpi_env {
	struct vclock clk;
	struct irqrec sci, off, reset;
	struct acpi_pm pm;
};

static void acpi_env_init(void *env, uint64_t now)
{
	struct acpi_env *e = env;
	struct irq_line ls = irqrec_line(&e->sci, 9), lo = irqrec_line(&e->off, 0),
			lr = irqrec_line(&e->reset, 0);
	vclock_init(&e->clk, now);
	irqrec_init(&e->sci, &e->clk);
	irqrec_init(&e->off, &e->clk);
	irqrec_init(&e->reset, &e->clk);
	acpi_pm_init(&e->pm, &e->clk, false, &ls, &lo, &lr);
}

static void acpi_prep(void *env)
{
	struct acpi_env *e = env;
	acpi_pm_evt_ops.write(&e->pm, 2, 2, ACPI_PM1_TMR | ACPI_PM1_PWRBTN);
	acpi_pm_gpe_ops.write(&e->pm, 2, 2, 0x0004);
	acpi_pm_gpe_raise(&e->pm, 0x0001);
	acpi_pm_reset_ops.write(&e->pm, 0, 1, ACPI_RST_SYS);
	/* Clear whatever TMR_STS is set by now: the next flip is ahead. */
	acpi_pm_evt_ops.write(&e->pm, 0, 2, ACPI_PM1_TMR);
}

static void acpi_run(void *env, struct log *log)
{
	struct acpi_env *e = env;
	for (unsigned i = 0; i < 30; i++) {
		put(log, acpi_pm_evt_ops.read(&e->pm, 0, 2));
		put(log, acpi_pm_tmr_ops.read(&e->pm, 0, 4));
		put(log, acpi_pm_gpe_ops.read(&e->pm, 0, 2));
		if (e->sci.level)
			acpi_pm_evt_ops.write(&e->pm, 0, 2, ACPI_PM1_TMR);
		if (i == 12)
			acpi_pm_gpe_raise(&e->pm, 0x0004);
		if (i == 14)
			acpi_pm_gpe_ops.write(&e->pm, 0, 2, 0x0005);
		advance(&e->clk, 200 * MS);
	}
	put(log, acpi_pm_reset_ops.read(&e->pm, 0, 1));
	acpi_pm_cnt_ops.write(&e->pm, 0, 2,
			      ACPI_PM1_SLP_EN | ACPI_PM_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT);
}

/* ---- PIIX3 IDE ---- */

/* The rig (tests/dev/ide_rig.h) starts with its clock; the device is
 * beside it. Both instances have the same disks. */
struct ide_env {
	struct rig r;
	struct piix3_ide ide;
};

static void ide_env_init(void *env, uint64_t now)
{
	static const char *const units[4] = {"hd:0", "", "cd:1", ""};
	static const uint64_t sizes[2] = {1024, 512};
	struct ide_env *e = env;
	rig_init(&e->r, &e->ide, units, sizes, 2, false, false, now);
	rig_enable(&e->r);
}

static void ide_env_fini(void *env)
{
	rig_fini(&((struct ide_env *)env)->r);
}

static void ide_packet(struct rig *r, const uint8_t *cdb)
{
	outb(r, 0x176, 0xa0);
	outb(r, 0x171, 0);
	outb(r, 0x174, 0x00);
	outb(r, 0x175, 0x08);
	outb(r, 0x177, 0xa0);
	for (unsigned i = 0; i < 12; i += 2)
		outw(r, 0x170, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
}

/* Mid-transfer: a 40-sector PIO read with a sector and a half read
 * (the buffer holds a chunk, 8 sectors still on the disk); the CD
 * locked with a unit attention pending and a media event; the bus
 * master's registers set; the primary's interrupt pending. */
static void ide_prep(void *env)
{
	struct rig *r = &((struct ide_env *)env)->r;
	static const uint8_t lock[12] = {0x1e, 0, 0, 0, 1}, eject[12] = {0x1b, 0, 0, 0, 2},
			     load[12] = {0x1b, 0, 0, 0, 3};

	ide_packet(r, eject);
	ide_packet(r, load);
	ide_packet(r, lock);
	outb(r, RIG_BM + 2, BM_ST_DMA0);
	outl(r, RIG_BM + 4, 0x1000);
	outb(r, 0x1f2, 40);
	outb(r, 0x1f3, 100);
	outb(r, 0x1f4, 0);
	outb(r, 0x1f5, 0);
	outb(r, 0x1f6, 0xe0);
	outb(r, 0x1f7, 0x20);
	blkf_poll(&r->front.f);
	for (unsigned i = 0; i < 384; i++)
		(void)inw(r, 0x1f0);
}

static void ide_run(void *env, struct log *log)
{
	struct rig *r = &((struct ide_env *)env)->r;
	static const uint8_t tur[12] = {0}, rd[12] = {0x28, 0, 0, 0, 0, 5, 0, 0, 1};

	for (unsigned i = 0; i < 40 * 256; i++) {
		if (i % 256 == 0) {
			blkf_poll(&r->front.f);
			put(log, inb(r, 0x1f7));
		}
		uint16_t w = inw(r, 0x1f0);
		if (i % 61 == 0)
			put(log, w);
	}
	put(log, inb(r, 0x3f6));
	put(log, inb(r, 0x1f3));
	for (unsigned k = 0; k < 3; k++) {
		ide_packet(r, k < 2 ? tur : rd);
		blkf_poll(&r->front.f);
		put(log, inb(r, 0x177));
		put(log, inb(r, 0x171));
		for (unsigned i = 0; i < 1024 && (inb(r, 0x376) & ATA_DRQ); i++) {
			uint16_t w = inw(r, 0x170);
			if (i % 97 == 0)
				put(log, w);
		}
	}
	put(log, inb(r, RIG_BM + 2));
	put(log, inl(r, RIG_BM + 4));
	advance(&r->clk, 1 * MS);
}

/* ---- i8237 ---- */

/* 256 KiB of guest RAM behind the controller. */
#define DMA_RAM (256u << 10)
struct i8237_env {
	struct vclock clk;
	struct i8237 d;
	struct dma_space dma;
	uint8_t ram[DMA_RAM];
};

static int dmaenv_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct i8237_env *e = opaque;
	if (gpa >= DMA_RAM || n > DMA_RAM - gpa)
		return -14;
	memcpy(buf, e->ram + gpa, n);
	return 0;
}

static int dmaenv_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct i8237_env *e = opaque;
	if (gpa >= DMA_RAM || n > DMA_RAM - gpa)
		return -14;
	memcpy(e->ram + gpa, buf, n);
	return 0;
}

static void i8237_env_init(void *env, uint64_t now)
{
	struct i8237_env *e = env;
	vclock_init(&e->clk, now);
	e->dma = (struct dma_space){dmaenv_read, dmaenv_write, e};
	i8237_init(&e->d, &e->dma);
}

static void dma_out(struct i8237_env *e, unsigned port, uint8_t v)
{
	if (port >= 0xc0)
		i8237_hi_ops.write(&e->d, port - 0xc0, 1, v);
	else if (port > 0x80)
		i8237_page_ops.write(&e->d, port - 0x81, 1, v);
	else
		i8237_lo_ops.write(&e->d, port, 1, v);
}

static uint8_t dma_in(struct i8237_env *e, unsigned port)
{
	if (port >= 0xc0)
		return (uint8_t)i8237_hi_ops.read(&e->d, port - 0xc0, 1);
	if (port > 0x80)
		return (uint8_t)i8237_page_ops.read(&e->d, port - 0x81, 1);
	return (uint8_t)i8237_lo_ops.read(&e->d, port, 1);
}

static void i8237_prep(void *env)
{
	struct i8237_env *e = env;
	uint8_t buf[0x30];
	bool tc;
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0x40 + i);
	dma_out(e, 0xd6, 0xc0); /* cascade */
	dma_out(e, 0xd4, 0x00);
	dma_out(e, 0x0c, 0);
	dma_out(e, 0x04, 0xf0); /* channel 2 at 0x1fff0, 0x40 bytes */
	dma_out(e, 0x04, 0xff);
	dma_out(e, 0x05, 0x3f);
	dma_out(e, 0x05, 0x00);
	dma_out(e, 0x81, 0x01);
	dma_out(e, 0x0b, 0x56); /* auto-init, write, channel 2 */
	dma_out(e, 0x0a, 0x02);
	dma_out(e, 0x0b, 0x69); /* channel 1 decrement, read */
	dma_out(e, 0xd6, 0x45); /* channel 5 write */
	dma_out(e, 0x8b, 0x03);
	dma_out(e, 0x85, 0x77); /* a scratch page register */
	(void)i8237_transfer(&e->d, 2, buf, 0x30, true, &tc); /* wraps the block */
	i8237_dreq(&e->d, 2, true);
	dma_out(e, 0x09, 0x07); /* software request on 3 */
	dma_out(e, 0x0c, 0);
	(void)dma_in(e, 0x04); /* flip-flop left on the high byte */
}

static void i8237_run(void *env, struct log *log)
{
	struct i8237_env *e = env;
	uint8_t buf[0x20];
	bool tc;
	put(log, dma_in(e, 0x04));
	put(log, dma_in(e, 0x05));
	put(log, dma_in(e, 0x05));
	put(log, dma_in(e, 0x08));
	put(log, dma_in(e, 0x0f));
	put(log, dma_in(e, 0x85));
	for (unsigned i = 0; i < 3; i++) {
		memset(buf, (int)(0x10 * i + 1), sizeof(buf));
		put(log, i8237_transfer(&e->d, 2, buf, sizeof(buf), true, &tc));
		put(log, tc);
		put(log, dma_in(e, 0x08));
	}
	put(log, i8237_ready(&e->d, 2));
	put(log, i8237_residue(&e->d, 5));
	for (unsigned a = 0x1ffe0; a < 0x20000; a++)
		put(log, e->ram[a]);
	for (unsigned a = 0x10000; a < 0x10030; a++)
		put(log, e->ram[a]);
}

/* ---- isa-fdc ---- */

/* The controller saved mid-command: a DMA read whose disk request is in
 * flight (the loaded one sends it again to its own front), with the
 * 8237 beside it (its own state is the i8237 case's: here it is rebuilt
 * by the same guest writes on both sides). */
struct fdc_env {
	struct vclock clk;
	struct irqrec irq6;
	struct fdc f;
	struct i8237 d;
	struct dma_space dma;
	struct fake_front ff;
	uint8_t ram[DMA_RAM];
};

static int fdcenv_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct fdc_env *e = opaque;
	if (gpa >= DMA_RAM || n > DMA_RAM - gpa)
		return -14;
	memcpy(buf, e->ram + gpa, n);
	return 0;
}

static int fdcenv_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct fdc_env *e = opaque;
	if (gpa >= DMA_RAM || n > DMA_RAM - gpa)
		return -14;
	memcpy(e->ram + gpa, buf, n);
	return 0;
}

static void fdc_env_init(void *env, uint64_t now)
{
	struct fdc_env *e = env;
	struct irq_line l = irqrec_line(&e->irq6, 6);
	char err[128];
	vclock_init(&e->clk, now);
	irqrec_init(&e->irq6, &e->clk);
	e->dma = (struct dma_space){fdcenv_read, fdcenv_write, e};
	i8237_init(&e->d, &e->dma);
	fake_front_init(&e->ff, e->ram, DMA_RAM);
	fake_disk(&e->ff, 0, 2880, false);
	fdc_init(&e->f, &l, &e->clk, &e->ff.f, true);
	if (fdc_drive_setup(&e->f, 0, true, 0, err, sizeof(err)) ||
	    fdc_drive_setup(&e->f, 1, true, -1, err, sizeof(err)))
		abort();
	fdc_set_dma(&e->f, &e->d);
	/* The 8237 as a BIOS leaves it, channel 2 at 0x8000 for 4 sectors. */
	i8237_lo_ops.write(&e->d, 0x0d, 1, 0);
	i8237_hi_ops.write(&e->d, 0xd6 - 0xc0, 1, 0xc0);
	i8237_hi_ops.write(&e->d, 0xd4 - 0xc0, 1, 0x00);
	i8237_lo_ops.write(&e->d, 0x0c, 1, 0);
	i8237_lo_ops.write(&e->d, 0x04, 1, 0x00);
	i8237_lo_ops.write(&e->d, 0x04, 1, 0x80);
	i8237_lo_ops.write(&e->d, 0x05, 1, 0xff);
	i8237_lo_ops.write(&e->d, 0x05, 1, 0x07);
	i8237_lo_ops.write(&e->d, 0x0b, 1, 0x46);
	i8237_lo_ops.write(&e->d, 0x0a, 1, 0x02);
}

static void fdc_env_fini(void *env)
{
	struct fdc_env *e = env;
	fdc_fini(&e->f);
	fake_front_free(&e->ff);
}

static void fdc_out(struct fdc_env *e, unsigned port, uint8_t v)
{
	if (port == 0x3f7)
		fdc_dir_ops.write(&e->f, 0, 1, v);
	else
		fdc_ops.write(&e->f, port - 0x3f0, 1, v);
}

static uint8_t fdc_in(struct fdc_env *e, unsigned port)
{
	if (port == 0x3f7)
		return (uint8_t)fdc_dir_ops.read(&e->f, 0, 1);
	return (uint8_t)fdc_ops.read(&e->f, port - 0x3f0, 1);
}

static void fdc_prep(void *env)
{
	struct fdc_env *e = env;
	static const uint8_t cmds[] = {0x03, 0xaf, 0x02,       /* specify */
				       0x13, 0x00, 0x57, 0x09, /* configure */
				       0x0f, 0x00, 0x03,       /* seek 3 */
				       0x0f, 0x01, 0x07};      /* seek B: 7 */
	for (unsigned i = 0; i < sizeof(cmds); i++)
		fdc_out(e, 0x3f5, cmds[i]);
	fdc_out(e, 0x3f5, 0x08); /* sense interrupt: drive 0's */
	(void)fdc_in(e, 0x3f5);
	(void)fdc_in(e, 0x3f5);
	/* READ C3 H1 R15-18 without MT: EOT 18 ends it. */
	static const uint8_t rd[] = {0x66, 0x04, 3, 1, 15, 2, 18, 0x1b, 0xff};
	for (unsigned i = 0; i < sizeof(rd); i++)
		fdc_out(e, 0x3f5, rd[i]);
	advance(&e->clk, 50 * US); /* the request in flight, its time ahead */
}

static void fdc_run(void *env, struct log *log)
{
	struct fdc_env *e = env;
	put(log, fdc_in(e, 0x3f4));
	for (unsigned i = 0; i < 20; i++) {
		fdc_poll(&e->f);
		put(log, fdc_in(e, 0x3f4));
		put(log, e->irq6.level);
		advance(&e->clk, 30 * US);
	}
	for (unsigned i = 0; i < 7; i++)
		put(log, fdc_in(e, 0x3f5));
	fdc_out(e, 0x3f5, 0x08); /* drive 1's seek status is still pending */
	put(log, fdc_in(e, 0x3f5));
	put(log, fdc_in(e, 0x3f5));
	fdc_out(e, 0x3f5, 0x0e);
	for (unsigned i = 0; i < 10; i++)
		put(log, fdc_in(e, 0x3f5));
	put(log, fdc_in(e, 0x3f7));
	for (unsigned a = 0x8000; a < 0x8000 + 4 * 512; a += 61)
		put(log, e->ram[a]);
	put(log, i8237_residue(&e->d, 2));
}

/* ---- piix3-usb-uhci ---- */

/* The controller running a schedule in its 64 KiB of RAM: a frame list
 * whose entries lead to an interrupt QH with a TD polling the tablet
 * (configured at address 1 on port 1, the same on both sides: a
 * device's state is its own case), saved mid-frame with USBSTS bits
 * set. The run moves the pointer and re-arms the TD as a driver would. */
#define UHCI_RAM (64u << 10)
struct uhci_env {
	struct vclock clk;
	struct irqrec irq;
	struct irq_line line;
	struct dma_space dma;
	struct dev_ctx ctx;
	const struct io_ops *cfg_ops;
	struct uhci u;
	struct usb_hid tab;
	uint8_t ram[UHCI_RAM];
};

static int uhcienv_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct uhci_env *e = opaque;
	if (gpa >= UHCI_RAM || n > UHCI_RAM - gpa)
		return -14;
	memcpy(buf, e->ram + gpa, n);
	return 0;
}

static int uhcienv_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct uhci_env *e = opaque;
	if (gpa >= UHCI_RAM || n > UHCI_RAM - gpa)
		return -14;
	memcpy(e->ram + gpa, buf, n);
	return 0;
}

static int uhcienv_claim(const struct dev_ctx *c, unsigned space, uint64_t base,
			 uint64_t len, unsigned flags, const struct io_ops *ops, void *opaque)
{
	struct uhci_env *e = c->board;
	if (space == DEV_SPACE_PCI)
		e->cfg_ops = ops;
	return 0;
}

static const struct irq_line *uhcienv_line(const struct dev_ctx *c, unsigned line)
{
	return &((struct uhci_env *)c->board)->line;
}

static int uhcienv_window(const struct dev_ctx *c, unsigned space, uint64_t base,
			  unsigned op, uint64_t new_base)
{
	return 0;
}

static void uhcienv_exit(const struct dev_ctx *c, int status, const char *why)
{
}

static void uhcienv_wr32(struct uhci_env *e, uint32_t a, uint32_t v)
{
	memcpy(e->ram + a, &v, 4);
}

static uint16_t uhci_in(struct uhci_env *e, unsigned reg)
{
	return (uint16_t)uhci_io_ops.read(&e->u, reg, 2);
}

static void uhci_out(struct uhci_env *e, unsigned reg, unsigned size, uint32_t v)
{
	uhci_io_ops.write(&e->u, reg, size, v);
}

/* The interrupt TD at 0x2000 polling address 1 endpoint 1. */
static void uhci_arm_td(struct uhci_env *e, unsigned toggle)
{
	uhcienv_wr32(e, 0x2000, UHCI_LINK_T);
	uhcienv_wr32(e, 0x2004, UHCI_TD_ACTIVE | UHCI_TD_IOC | 3u << UHCI_TD_CERR_SHIFT);
	uhcienv_wr32(e, 0x2008, USB_PID_IN | 1u << 8 | 1u << 15 | toggle << 19 | 7u << 21);
	uhcienv_wr32(e, 0x200c, 0x3000);
	uhcienv_wr32(e, 0x1004, 0x2000);
}

static void uhci_env_init(void *env, uint64_t now)
{
	struct uhci_env *e = env;
	const struct dev_kind *k = dev_kind_find("piix3-usb-uhci");
	struct dev_props p;
	char err[128];

	vclock_init(&e->clk, now);
	irqrec_init(&e->irq, &e->clk);
	e->line = irqrec_line(&e->irq, 0);
	e->dma = (struct dma_space){uhcienv_read, uhcienv_write, e, NULL};
	e->ctx = (struct dev_ctx){"uhci", &e->clk, &e->dma, NULL, 0, e, uhcienv_claim,
				  uhcienv_line, uhcienv_exit, uhcienv_window, true, NULL};
	dev_props_init(&p, k);
	if (k->create(&e->u, &e->ctx, &p, err, sizeof(err)))
		abort();
	usb_hid_init(&e->tab, USB_HID_TABLET, &e->clk);
	e->tab.usb.state = USB_STATE_CONFIGURED;
	e->tab.usb.addr = 1;
	e->tab.usb.config = 1;
	if (uhci_attach(&e->u, 1, &e->tab.usb) != 1)
		abort();
	e->cfg_ops->write(&e->u, UHCI_FN << 8 | PCI_COMMAND, 2,
			  PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	/* Guest RAM is no device's state: both sides start with the same. */
	for (unsigned i = 0; i < 1024; i++)
		uhcienv_wr32(e, 4 * i, 0x1000 | UHCI_LINK_Q);
	uhcienv_wr32(e, 0x1000, UHCI_LINK_T);
	uhci_arm_td(e, 0);
}

static void uhci_env_fini(void *env)
{
	struct uhci_env *e = env;
	dev_kind_find("piix3-usb-uhci")->destroy(&e->u);
}

static void uhci_prep(void *env)
{
	struct uhci_env *e = env;

	uhci_out(e, UHCI_PORTSC1, 2, UHCI_PORT_PED | UHCI_PORT_CSC);
	uhci_out(e, UHCI_FRBASEADD, 4, 0);
	uhci_out(e, UHCI_FRNUM, 2, 0x3fa);
	uhci_out(e, UHCI_USBINTR, 2, UHCI_INTR_IOC | UHCI_INTR_TOCRC);
	uhci_out(e, UHCI_SOFMOD, 1, 0x41);
	uhci_out(e, UHCI_USBCMD, 2, UHCI_CMD_RS | UHCI_CMD_MAXP);
	advance(&e->clk, 40 * MS + 300 * US); /* idle enough to batch */
	(void)uhci_in(e, UHCI_FRNUM);
}

static void uhci_run(void *env, struct log *log)
{
	struct uhci_env *e = env;
	for (unsigned i = 0; i < 30; i++) {
		put(log, uhci_in(e, UHCI_FRNUM));
		put(log, uhci_in(e, UHCI_USBSTS));
		put(log, uhci_in(e, UHCI_PORTSC1));
		put(log, e->irq.level);
		if (i % 5 == 2)
			usb_tablet_event(&e->tab, (int)i * 10, 5, 640, 480, i & 1, 0);
		if (!(e->ram[0x2006] & (UHCI_TD_ACTIVE >> 16))) {
			put(log, e->ram[0x3001] | e->ram[0x3002] << 8);
			uhci_out(e, UHCI_USBSTS, 2, UHCI_STS_USBINT);
			uhci_arm_td(e, i & 1);
		}
		advance(&e->clk, 3 * MS + 100 * US);
	}
	put(log, vclock_next_deadline(&e->clk));
	uhci_out(e, UHCI_USBCMD, 2, 0);
	put(log, uhci_in(e, UHCI_USBSTS));
}

/* ---- usb-tablet and usb-kbd ---- */

/* A HID function alone on its clock, driven packet by packet: addressed,
 * configured, with reports queued and a GET_DESCRIPTOR in its data
 * stage when saved. */
struct hid_env {
	struct vclock clk;
	struct usb_hid h;
};

static int hid_pkt(struct hid_env *e, uint8_t pid, unsigned ep, bool toggle, uint8_t *buf,
		   unsigned len)
{
	return usb_dev_packet(&e->h.usb, pid, ep, toggle, buf, len, vclock_now(&e->clk));
}

static void hid_setup(struct hid_env *e, uint8_t rt, uint8_t req, uint16_t val, uint16_t len)
{
	uint8_t s[8] = {rt, req, (uint8_t)val, (uint8_t)(val >> 8), 0, 0, (uint8_t)len,
			(uint8_t)(len >> 8)};
	(void)hid_pkt(e, USB_PID_SETUP, 0, 0, s, 8);
}

static void hid_env_init(void *env, uint64_t now, enum usb_hid_kind kind)
{
	struct hid_env *e = env;
	vclock_init(&e->clk, now);
	usb_hid_init(&e->h, kind, &e->clk);
}

static void tablet_env_init(void *env, uint64_t now)
{
	hid_env_init(env, now, USB_HID_TABLET);
}

static void kbd_env_init(void *env, uint64_t now)
{
	hid_env_init(env, now, USB_HID_KBD);
}

static void hid_prep(void *env)
{
	struct hid_env *e = env;
	uint8_t b[USB_MAX_PACKET];

	hid_setup(e, 0x00, USB_REQ_SET_ADDRESS, 7, 0);
	(void)hid_pkt(e, USB_PID_IN, 0, 1, b, 0);
	hid_setup(e, 0x00, USB_REQ_SET_CONFIGURATION, 1, 0);
	(void)hid_pkt(e, USB_PID_IN, 0, 1, b, 0);
	if (e->h.kind == USB_HID_KBD) {
		hid_setup(e, 0x21, 0x0a, 25 << 8, 0); /* idle 100 ms */
		(void)hid_pkt(e, USB_PID_IN, 0, 1, b, 0);
		hid_setup(e, 0x21, 0x09, 0x0200, 1);
		b[0] = 0x05;
		(void)hid_pkt(e, USB_PID_OUT, 0, 1, b, 1);
		(void)hid_pkt(e, USB_PID_IN, 0, 1, b, 0);
		usb_kbd_key(&e->h, 0xe0, true);
		usb_kbd_key(&e->h, 0x1d, true);
		usb_kbd_key(&e->h, 0x1d, false);
	} else {
		usb_tablet_event(&e->h, 100, 100, 800, 600, USB_TABLET_LEFT, 0);
		usb_tablet_event(&e->h, 200, 300, 800, 600, 0, -3);
	}
	hid_setup(e, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0200, 34);
	(void)hid_pkt(e, USB_PID_IN, 0, 1, b, 8);
	advance(&e->clk, 30 * MS);
}

static void hid_run(void *env, struct log *log)
{
	struct hid_env *e = env;
	uint8_t b[USB_MAX_PACKET];
	int n;

	for (unsigned i = 0; i < 5; i++) {
		n = hid_pkt(e, USB_PID_IN, 0, i & 1, b, 8);
		put(log, (uint64_t)(int64_t)n);
		for (int k = 0; k < n; k++)
			put(log, b[k]);
	}
	put(log, (uint64_t)(int64_t)hid_pkt(e, USB_PID_OUT, 0, 1, b, 0));
	for (unsigned i = 0; i < 40; i++) {
		if (i == 12) {
			usb_tablet_event(&e->h, 799, 599, 800, 600, 7, 1);
			usb_kbd_key(&e->h, 0x04, true);
		}
		n = hid_pkt(e, USB_PID_IN, 1, 0, b, 8);
		put(log, (uint64_t)(int64_t)n);
		for (int k = 0; k < n; k++)
			put(log, b[k]);
		advance(&e->clk, 10 * MS);
	}
	hid_setup(e, 0xa1, 0x01, 0x0100, 8);
	n = hid_pkt(e, USB_PID_IN, 0, 1, b, 8);
	for (int k = 0; k < n; k++)
		put(log, b[k]);
	put(log, e->h.usb.addr);
}

/* ---- VGA ---- */

/* VRAM is the board's, not in the device's state (vga.h): the script
 * reads back only what it wrote itself, or what the latches hold. */
struct vga_env {
	struct vclock clk;
	struct vga v;
};

static void vga_env_init(void *env, uint64_t now)
{
	struct vga_env *e = env;
	vclock_init(&e->clk, now);
	if (vga_init(&e->v, 1u << 20))
		abort();
}

static void vga_env_fini(void *env)
{
	vga_fini(&((struct vga_env *)env)->v);
}

static void vga_out(struct vga_env *e, unsigned port, uint8_t v)
{
	vga_port_ops.write(&e->v, port - VGA_PORT_BASE, 1, v);
}

static uint8_t vga_in(struct vga_env *e, unsigned port)
{
	return (uint8_t)vga_port_ops.read(&e->v, port - VGA_PORT_BASE, 1);
}

static void vga_prep(void *env)
{
	struct vga_env *e = env;
	static const uint8_t seq[] = {0x03, 0x01, 0x0f, 0x00, 0x06};
	vga_out(e, 0x3c2, 0xe3);
	for (unsigned i = 0; i < 5; i++) {
		vga_out(e, 0x3c4, (uint8_t)i);
		vga_out(e, 0x3c5, seq[i]);
	}
	for (unsigned i = 0; i < 25; i++) {
		vga_out(e, 0x3d4, (uint8_t)i);
		vga_out(e, 0x3d5, (uint8_t)(i * 17 + 3));
	}
	vga_out(e, 0x3ce, 5);
	vga_out(e, 0x3cf, 0x01); /* write mode 1: the latches are written */
	vga_out(e, 0x3ce, 8);
	(void)vga_in(e, 0x3da);
	for (unsigned i = 0; i < 21; i++) {
		vga_out(e, 0x3c0, (uint8_t)(i | 0x20));
		vga_out(e, 0x3c0, (uint8_t)(i * 5));
	}
	vga_out(e, 0x3c0, 0x31); /* the flip-flop left at data */
	vga_out(e, 0x3c8, 40);
	for (unsigned i = 0; i < 8; i++)
		vga_out(e, 0x3c9, (uint8_t)(i * 9)); /* two colours and a third begun */
	vga_out(e, 0x3c7, 41);
	(void)vga_in(e, 0x3c9);
	e->v.vram[4 * 0x100 + 0] = 0x12;
	e->v.vram[4 * 0x100 + 1] = 0x34;
	e->v.vram[4 * 0x100 + 2] = 0x56;
	e->v.vram[4 * 0x100 + 3] = 0x78;
	(void)vga_mem_ops.read(&e->v, 0x100, 1); /* latches 12 34 56 78 */
	vga_dispi_ops.write(&e->v, 0, 2, VBE_DISPI_INDEX_XRES);
	vga_dispi_ops.write(&e->v, 1, 2, 800);
	vga_dispi_ops.write(&e->v, 0, 2, VBE_DISPI_INDEX_BPP);
	vga_dispi_ops.write(&e->v, 1, 2, 16);
	vga_cfg_ops.write(&e->v, PCI_BAR0, 4, 0xe0000000);
	vga_cfg_ops.write(&e->v, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
}

static void vga_run(void *env, struct log *log)
{
	struct vga_env *e = env;
	static const unsigned idx_ports[][2] = {{0x3c4, 0x3c5}, {0x3ce, 0x3cf}, {0x3d4, 0x3d5}};
	vga_out(e, 0x3c0, 0x0a); /* data, if the flip-flop came back */
	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = 0; i < 25; i++) {
			vga_out(e, idx_ports[k][0], (uint8_t)i);
			put(log, vga_in(e, idx_ports[k][1]));
		}
	for (unsigned i = 0; i < 21; i++) {
		vga_out(e, 0x3c0, (uint8_t)(i | 0x20));
		put(log, vga_in(e, 0x3c1));
		vga_out(e, 0x3c0, (uint8_t)i);
	}
	for (unsigned i = 0; i < 12; i++)
		put(log, vga_in(e, 0x3c9));
	vga_out(e, 0x3c9, 0x3f); /* completes or starts a colour */
	put(log, vga_in(e, 0x3c8));
	put(log, vga_in(e, 0x3cc));
	put(log, vga_in(e, 0x3da));
	put(log, vga_in(e, 0x3da));
	/* Write mode 1 stores the latches the saved state held. */
	vga_mem_ops.write(&e->v, 0x200, 1, 0);
	for (unsigned p = 0; p < 4; p++)
		put(log, e->v.vram[4 * 0x200 + p]);
	for (unsigned i = 0; i <= VBE_DISPI_REGS; i++) {
		vga_dispi_ops.write(&e->v, 0, 2, i);
		put(log, vga_dispi_ops.read(&e->v, 1, 2));
	}
	for (unsigned reg = 0; reg < 0x40; reg += 4)
		put(log, vga_cfg_ops.read(&e->v, reg, 4));
}

/* ---- display-input ---- */

/* The device with an i8042 as its only peer, wired by hand: its state is
 * the last absolute position, which the PS/2 mouse's next motion is
 * measured from. */
struct dinput_env {
	struct vclock clk;
	struct i8042 k;
	struct display_input_dev d;
};

static void dinput_env_init(void *env, uint64_t now)
{
	struct dinput_env *e = env;
	struct irq_line none = {NULL, NULL, 0};
	vclock_init(&e->clk, now);
	i8042_init(&e->k, &none, &none, &none, &none);
	e->d.fd = -1;
	e->d.wired = true;
	e->d.ps2 = &e->k;
}

static void dinput_abs(struct dinput_env *e, int x, int y)
{
	struct display_input ev = {.type = DISPLAY_INPUT_ABS, .x = x, .y = y, .width = 1024,
				   .height = 768};
	display_input_event(&e->d, &ev);
}

static void dinput_prep(void *env)
{
	struct dinput_env *e = env;
	/* Only a first position: it moves nothing, so the i8042 (not
	 * this device's state) holds no motion. */
	dinput_abs(e, 317, 190);
}

static void dinput_run(void *env, struct log *log)
{
	struct dinput_env *e = env;
	i8042_cmd_ops.write(&e->k, 0, 1, 0xd4);
	i8042_data_ops.write(&e->k, 0, 1, 0xf4); /* reporting on */
	put(log, i8042_data_ops.read(&e->k, 0, 1));
	for (int i = 1; i <= 12; i++) {
		dinput_abs(e, 317 + 9 * i, 190 - 4 * i);
		while (i8042_cmd_ops.read(&e->k, 0, 1) & I8042_STR_OBF)
			put(log, i8042_data_ops.read(&e->k, 0, 1));
	}
}

/* ---- the cases ---- */

#define CASE(nm, desc_, T, dev_, init_, fini_, prep_, run_, bad, badv, ...)   \
	{nm, &desc_, sizeof(T), offsetof(T, dev_), sizeof(((T *)0)->dev_),    \
	 init_, fini_, prep_, run_,                                           \
	 sizeof((size_t[]){__VA_ARGS__}) / sizeof(size_t), {__VA_ARGS__},     \
	 bad, badv}

static const struct dev_case cases[] = {
	CASE("uart", uart_state, struct uart_env, u, uart_env_init, NULL,
	     uart_prep, uart_run, "rx_count", 17, offsetof(struct uart_env, q)),
	CASE("i8042", i8042_state, struct i8042_env, k, i8042_env_init, NULL,
	     i8042_prep, i8042_run, "kq_head", 16,
	     offsetof(struct i8042_env, irq1), offsetof(struct i8042_env, irq12),
	     offsetof(struct i8042_env, a20), offsetof(struct i8042_env, reset)),
	CASE("port92", port92_state, struct port92_env, p, port92_env_init, NULL,
	     port92_prep, port92_run, "value", 3,
	     offsetof(struct port92_env, a20), offsetof(struct port92_env, reset)),
	CASE("fw_cfg", fw_cfg_state, struct fw_env, fw, fw_env_init, fw_env_fini,
	     fw_prep, fw_run, "offset", 11),
	CASE("pic", pic_state, struct pic_env, pic, pic_env_init, NULL, pic_prep,
	     pic_run, "chip[1].lowest", 8, offsetof(struct pic_env, intr)),
	CASE("ioapic", ioapic_state, struct ioapic_env, io, ioapic_env_init, NULL,
	     ioapic_prep, ioapic_run, "lines", 1u << 24),
	CASE("lapic", lapic_state, struct lapic_env, l, lapic_env_init, NULL,
	     lapic_prep, lapic_run, "timer_dcr", 0x0c,
	     offsetof(struct lapic_env, intr), offsetof(struct lapic_env, nmi)),
	CASE("pit", pit_state, struct pit_env, pit, pit_env_init, NULL, pit_prep,
	     pit_run, "c[0].mode", 6, offsetof(struct pit_env, irq0)),
	CASE("rtc", rtc_state, struct rtc_env, r, rtc_env_init, NULL, rtc_prep,
	     rtc_run, "flags", 0x80, offsetof(struct rtc_env, irq8)),
	CASE("piix3-ide", piix3_ide_state, struct ide_env, ide, ide_env_init, ide_env_fini,
	     ide_prep, ide_run, "ch[0].phase", PH_COUNT,
	     offsetof(struct ide_env, r.irq[0]), offsetof(struct ide_env, r.irq[1])),
	CASE("i8237", i8237_state, struct i8237_env, d, i8237_env_init, NULL, i8237_prep,
	     i8237_run, "chip[0].mask", 0x10),
	CASE("isa-fdc", fdc_state, struct fdc_env, f, fdc_env_init, fdc_env_fini, fdc_prep,
	     fdc_run, "phase", 4, offsetof(struct fdc_env, irq6)),
	CASE("VGA", vga_state_desc, struct vga_env, v, vga_env_init, vga_env_fini, vga_prep,
	     vga_run, "s.dac_sub", 3),
	CASE("acpi_pm", acpi_pm_state, struct acpi_env, pm, acpi_env_init, NULL,
	     acpi_prep, acpi_run, "rst_cnt", 0x0b,
	     offsetof(struct acpi_env, sci), offsetof(struct acpi_env, off),
	     offsetof(struct acpi_env, reset)),
	CASE("piix3-usb-uhci", uhci_state, struct uhci_env, u, uhci_env_init, uhci_env_fini,
	     uhci_prep, uhci_run, "frnum", 0x800, offsetof(struct uhci_env, irq)),
	CASE("usb-tablet", usb_tablet_state, struct hid_env, h, tablet_env_init, NULL, hid_prep,
	     hid_run, "q_len", USB_HID_QUEUE + 1),
	CASE("usb-kbd", usb_kbd_state, struct hid_env, h, kbd_env_init, NULL, hid_prep, hid_run,
	     "usb.addr", 128),
	CASE("display-input", display_input_state, struct dinput_env, d, dinput_env_init, NULL,
	     dinput_prep, dinput_run, "abs_x", DISPLAY_INPUT_POS_MAX + 1),
};

/* ---- the harness ---- */

static void *dev_of(const struct dev_case *c, void *env)
{
	return (uint8_t *)env + c->dev_offset;
}

static struct irqrec *rec_of(const struct dev_case *c, void *env, unsigned i)
{
	return (struct irqrec *)((uint8_t *)env + c->rec_offset[i]);
}

static void *env_new(const struct dev_case *c, uint64_t now)
{
	void *env = calloc(1, c->env_size);
	if (!env)
		abort();
	c->init(env, now);
	return env;
}

static void env_free(const struct dev_case *c, void *env)
{
	if (c->fini)
		c->fini(env);
	free(env);
}

static bool save(const struct dev_case *c, void *env, struct vs_buf *b)
{
	b->len = 0;
	return vs_save(c->desc, dev_of(c, env), b) == 0;
}

/* Where field `name`'s first element is in an encoded state (the test
 * knows the format: see lib/vstate.c), and its width; NULL if absent. */
static uint8_t *find_field(uint8_t *p, size_t len, const char *name, unsigned *width)
{
	static const unsigned widths[] = {0, 1, 2, 4, 8, 1, 1};
	size_t at = 8, nl;
	unsigned n_fields;

	nl = p[at];
	at += 1 + nl + 2;
	n_fields = p[at] | p[at + 1] << 8;
	at += 2;
	for (unsigned i = 0; i < n_fields && at < len; i++) {
		uint32_t count;
		unsigned type;
		nl = p[at];
		if (nl == strlen(name) && !memcmp(p + at + 1, name, nl)) {
			*width = widths[p[at + 1 + nl]];
			return p + at + 1 + nl + 1 + 4;
		}
		at += 1 + nl;
		type = p[at];
		memcpy(&count, p + at + 1, 4);
		at += 5 + (size_t)count * widths[type < 7 ? type : 0];
	}
	return NULL;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_case(struct tap *t, const struct dev_case *c)
{
	struct vs_buf sa = {0}, sb = {0};
	struct log *la = calloc(1, sizeof(*la)), *lb = calloc(1, sizeof(*lb));
	void *a = env_new(c, T0), *b, *x, *snap;
	char err[256];
	bool ok;
	int rc;

	/* Save a driven instance, load it into a fresh one at the same time. */
	c->prep(a);
	ok = save(c, a, &sa);
	tap_ok(t, ok, "%s: save (%zu bytes, %u fields)", c->name, sa.len,
	       c->desc->n_fields);
	b = env_new(c, vclock_now((struct vclock *)a));
	for (unsigned i = 0; i < c->n_recs; i++) {
		irqrec_clear(rec_of(c, a, i));
		irqrec_clear(rec_of(c, b, i));
	}
	rc = vs_load(c->desc, dev_of(c, b), c->dev_size, sa.data, sa.len, err,
		     sizeof(err));
	tap_ok(t, rc == 0, "%s: load into a fresh instance (%s)", c->name, err);
	ok = true;
	for (unsigned i = 0; i < c->n_recs; i++)
		ok = ok && rec_of(c, a, i)->level == rec_of(c, b, i)->level;
	tap_ok(t, ok, "%s: the loaded instance drives its %u lines as the first",
	       c->name, c->n_recs);
	ok = save(c, b, &sb) && sb.len == sa.len && !memcmp(sa.data, sb.data, sa.len);
	tap_ok(t, ok, "%s: and saves the same bytes", c->name);
	ok = vclock_next_deadline((struct vclock *)a) ==
	     vclock_next_deadline((struct vclock *)b);
	tap_ok(t, ok, "%s: with the same next timer deadline", c->name);

	/* The same script on both. */
	for (unsigned i = 0; i < c->n_recs; i++) {
		irqrec_clear(rec_of(c, a, i));
		irqrec_clear(rec_of(c, b, i));
	}
	c->run(a, la);
	c->run(b, lb);
	ok = la->n == lb->n && !memcmp(la->v, lb->v, sizeof(la->v));
	for (unsigned i = 0; !ok && i < la->n && i < LOG_MAX; i++)
		if (la->v[i] != lb->v[i]) {
			tap_diag("%s: observation %u: %llu, loaded %llu", c->name,
				 i, (unsigned long long)la->v[i],
				 (unsigned long long)lb->v[i]);
			break;
		}
	tap_ok(t, ok, "%s: the same %u observations from then on", c->name, la->n);
	ok = true;
	for (unsigned i = 0; i < c->n_recs; i++)
		ok = ok && irqrec_same(rec_of(c, a, i), rec_of(c, b, i));
	if (c->n_recs)
		tap_ok(t, ok, "%s: the same line edges at the same times (%u on "
		       "the first line)", c->name, rec_of(c, a, 0)->n);
	ok = save(c, a, &sa) && save(c, b, &sb) && sa.len == sb.len &&
	     !memcmp(sa.data, sb.data, sa.len);
	tap_ok(t, ok, "%s: and the same state at the end", c->name);

	/* Refusals leave a fresh instance untouched. */
	x = env_new(c, T0);
	snap = malloc(c->dev_size);
	memcpy(snap, dev_of(c, x), c->dev_size);
	ok = true;
	for (size_t len = 0; len < sa.len; len++) {
		rc = vs_load(c->desc, dev_of(c, x), c->dev_size, sa.data, len, err,
			     sizeof(err));
		if (rc == 0 || !strstr(err, c->name) ||
		    memcmp(snap, dev_of(c, x), c->dev_size))
			ok = false;
	}
	tap_ok(t, ok, "%s: truncated at each of %zu bytes: refused, unchanged",
	       c->name, sa.len);
	{
		unsigned w = 0;
		uint8_t *f = find_field(sa.data, sa.len, c->bad_field, &w);
		char want[64];
		if (f)
			for (unsigned i = 0; i < w; i++)
				f[i] = (uint8_t)(c->bad_value >> (8 * i));
		rc = vs_load(c->desc, dev_of(c, x), c->dev_size, sa.data, sa.len, err,
			     sizeof(err));
		snprintf(want, sizeof(want), "'%s'", c->bad_field);
		tap_ok(t, f && rc != 0 && strstr(err, c->name) && strstr(err, want) &&
			   !memcmp(snap, dev_of(c, x), c->dev_size),
		       "%s: %s = %llu refused: %s", c->name, c->bad_field,
		       (unsigned long long)c->bad_value, err);
	}
	env_free(c, x);

	/* Random mutations: loaded or refused, never a crash, and a loaded
	 * one still runs the script. */
	(void)save(c, a, &sa);
	{
		unsigned loaded = 0, refused = 0;
		uint8_t *m = malloc(sa.len);
		for (unsigned i = 0; i < 300; i++) {
			size_t len = sa.len;
			memcpy(m, sa.data, sa.len);
			for (unsigned k = 0, edits = 1 + rnd() % 3; k < edits; k++) {
				size_t at = rnd() % len;
				if (rnd() % 8 == 0)
					len = at + 1;
				else
					m[at] ^= (uint8_t)(1u << rnd() % 8);
			}
			x = env_new(c, T0);
			rc = vs_load(c->desc, dev_of(c, x), c->dev_size, m, len, err,
				     sizeof(err));
			if (rc == 0) {
				loaded++;
				lb->n = 0;
				c->run(x, lb);
			} else {
				refused++;
			}
			env_free(c, x);
		}
		tap_ok(t, true, "%s: 300 mutations: %u loaded and ran, %u refused",
		       c->name, loaded, refused);
		free(m);
	}

	free(snap);
	env_free(c, a);
	env_free(c, b);
	free(la);
	free(lb);
	vs_buf_free(&sa);
	vs_buf_free(&sb);
}

int main(void)
{
	struct tap t = {0};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		test_case(&t, &cases[i]);
	return tap_done(&t);
}
