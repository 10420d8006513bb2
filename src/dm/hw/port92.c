/* System control port A (see port92.h). */
#include "dm/hw/port92.h"

#include "lib/compiler.h"

/* Saved state: the A20 bit (the reset bit never stays set). */
static const struct vs_field port92_fields[] = {
	VS_MAX(struct port92, value, VS_U8, 0x02),
};

static int port92_post_load(void *obj, char *err, size_t n)
{
	struct port92 *p = obj;
	(void)err;
	(void)n;
	irq_set(&p->a20, (p->value & 0x02) != 0);
	return 0;
}

const struct vs_desc port92_state = {
	"port92", 1, port92_fields, ARRAY_SIZE(port92_fields), NULL,
	port92_post_load,
};

#define P92_RESET 0x01
#define P92_A20 0x02

void port92_init(struct port92 *p, const struct irq_line *a20,
		 const struct irq_line *reset)
{
	p->value = 0;
	p->a20 = *a20;
	p->reset = *reset;
	irq_lower(&p->a20);
}

static uint64_t port92_read(void *opaque, uint64_t off, unsigned size)
{
	struct port92 *p = opaque;
	/* The reset bit reads back 0: the pulse is over by the next read. */
	return p->value & P92_A20;
}

static void port92_write(void *opaque, uint64_t off, unsigned size,
			 uint64_t v)
{
	struct port92 *p = opaque;
	uint8_t old = p->value;
	p->value = (uint8_t)(v & (P92_A20 | P92_RESET));
	if ((old ^ p->value) & P92_A20)
		irq_set(&p->a20, (p->value & P92_A20) != 0);
	if (!(old & P92_RESET) && (p->value & P92_RESET))
		irq_pulse(&p->reset);
	p->value &= (uint8_t)~P92_RESET;
}

const struct io_ops port92_ops = {
	port92_read, port92_write, IO_SIZE_1, IO_SIZE_1,
};

/* ---- the kind (dev/kind.h) ---- */

#include <errno.h>

#include "dev/kind.h"

static int port92_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			 char *err, size_t n)
{
	const struct irq_line *a20 = c->line(c, DEV_LINE_A20);
	const struct irq_line *reset = c->line(c, DEV_LINE_RESET);
	if (!a20 || !reset)
		return -ENODEV;
	port92_init(dev, a20, reset);
	return c->claim(c, DEV_SPACE_PIO, 0x92, 1, 0, &port92_ops, dev);
}

static void port92_reset(void *dev)
{
	struct port92 *p = dev;
	struct irq_line a20 = p->a20, reset = p->reset;
	port92_init(p, &a20, &reset);
}

DEV_KIND(port92) = {
	.name = "port92",
	.help = "system control port A (0x92): fast A20 gate and reset",
	.where = DEV_IN_DM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct port92),
	.create = port92_create,
	.reset = port92_reset,
	.state = &port92_state,
};
