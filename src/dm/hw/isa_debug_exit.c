/* isa-debug-exit (QEMU's test device): a write of V to its ports ends the
 * VM with status (V << 1) | 1, so a test guest can report pass or fail
 * through the exit status. */
#include <errno.h>
#include <stdio.h>

#include "dev/device.h"
#include "dev/kind.h"
#include "lib/vstate.h"

struct isa_debug_exit {
	const struct dev_ctx *ctx;
};

static uint64_t debug_exit_read(void *opaque, uint64_t off, unsigned size)
{
	return 0;
}

static void debug_exit_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct isa_debug_exit *d = opaque;
	char why[64];
	snprintf(why, sizeof(why), "isa-debug-exit: guest wrote %#llx", (unsigned long long)v);
	d->ctx->exit(d->ctx, (int)(((v << 1) | 1) & 0xff), why);
}

static const struct io_ops debug_exit_ops = {
	debug_exit_read, debug_exit_write,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* ---- the kind (dev/kind.h) ---- */

enum { P_IOBASE, P_IOSIZE };

static const struct dev_prop debug_exit_props[] = {
	[P_IOBASE] = {"iobase", DEV_PROP_NUM, false, 0, 0xffff, 0x501, NULL, "first port"},
	[P_IOSIZE] = {"iosize", DEV_PROP_NUM, false, 1, 4, 0x02, NULL,
		      "ports it decodes (1, 2 or 4)"},
};

static int debug_exit_check(const struct dev_props *p, char *err, size_t n)
{
	uint64_t base = p->num[P_IOBASE], size = p->num[P_IOSIZE];
	if (size == 3) {
		snprintf(err, n, "isa-debug-exit: iosize=3: 1, 2 or 4");
		return -EINVAL;
	}
	if (base + size > 0x10000) {
		snprintf(err, n, "isa-debug-exit: iobase=%#llx iosize=%#llx: ports beyond 0xffff",
			 (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

static int debug_exit_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			     char *err, size_t n)
{
	struct isa_debug_exit *d = dev;
	d->ctx = c;
	return c->claim(c, DEV_SPACE_PIO, p->num[P_IOBASE], p->num[P_IOSIZE], 0,
			&debug_exit_ops, d);
}

/* A write ends the VM; there is nothing to carry: an empty state. */
static const struct vs_desc debug_exit_state = {.name = "isa-debug-exit", .version = 1};

DEV_KIND(isa_debug_exit) = {
	.name = "isa-debug-exit",
	.help = "writing V to its port ends the VM with status (V << 1) | 1",
	.where = DEV_IN_DM,
	.category = DEV_CAT_MISC,
	.user = true,
	.unique = true,
	DEV_PROPS(debug_exit_props),
	.size = sizeof(struct isa_debug_exit),
	.check = debug_exit_check,
	.create = debug_exit_create,
	.state = &debug_exit_state,
};
