/* isa-debugcon (QEMU's debug console, -debugcon): every byte written to
 * its port goes to a character backend, so firmware and test programs can
 * log without a UART (SeaBIOS writes its log to port 0x402, Bochs-style
 * code to 0xe9). A read returns the `readback` byte, which is how
 * firmware tells the port is there (QEMU answers 0xe9). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dev/chardev.h"
#include "dev/device.h"
#include "dev/kind.h"
#include "dm/backend/console.h"
#include "lib/vstate.h"

struct debugcon {
	uint8_t readback;
	struct chardev out;
	struct console cons;
};

static uint64_t debugcon_read(void *opaque, uint64_t off, unsigned size)
{
	struct debugcon *d = opaque;
	return d->readback;
}

/* A wider write is split into bytes, each a character (QEMU's
 * implementation size is one byte). */
static void debugcon_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct debugcon *d = opaque;
	uint8_t ch = (uint8_t)v;
	if (d->out.write)
		d->out.write(d->out.opaque, &ch, 1);
}

static const struct io_ops debugcon_ops = {
	debugcon_read, debugcon_write,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1,
};

/* ---- the kind (dev/kind.h) ---- */

enum { P_IOBASE, P_CHARDEV, P_READBACK };

static const struct dev_prop debugcon_props[] = {
	[P_IOBASE] = {"iobase", DEV_PROP_NUM, false, 0, 0xffff, 0xe9, NULL,
		      "its port (SeaBIOS logs to 0x402)"},
	[P_CHARDEV] = {"chardev", DEV_PROP_CHARDEV, false, 0, 0, 0, "null",
		       "backend: a -chardev id, stdio, null or file:PATH"},
	[P_READBACK] = {"readback", DEV_PROP_NUM, false, 0, 0xff, 0xe9, NULL,
			"the byte a read returns"},
};

/* In the vmm: the terminal's output or the file (output only). */
static int debugcon_host_open(struct dev_props *p, const struct dev_machine *m, int *fds,
			      unsigned *n_fds, char *err, size_t n)
{
	return console_open_backend(p->str[P_CHARDEV], false, fds, n_fds, err, n);
}

static int debugcon_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			   char *err, size_t n)
{
	struct debugcon *d = dev;
	int r;

	d->readback = (uint8_t)p->num[P_READBACK];
	if (c->n_fds > 0) {
		r = console_attach(&d->cons, -1, c->fds[0], false);
		if (r < 0) {
			snprintf(err, n, "isa-debugcon %s: console: %s", c->id, strerror(-r));
			return r;
		}
		d->out = (struct chardev){console_write, &d->cons, NULL};
	}
	/* Nothing is answered for a write: no reply awaited. */
	return c->claim(c, DEV_SPACE_PIO, p->num[P_IOBASE], 1, DEV_CLAIM_BUFFERED,
			&debugcon_ops, d);
}

static void debugcon_flush(void *dev)
{
	struct debugcon *d = dev;
	if (d->out.write)
		console_flush(&d->cons);
}

/* Bytes leave as they are written: nothing to carry. */
static const struct vs_desc debugcon_state = {.name = "isa-debugcon", .version = 1};

DEV_KIND(isa_debugcon) = {
	.name = "isa-debugcon",
	.help = "QEMU's debug console: bytes written to its port go to a chardev",
	.where = DEV_IN_DM,
	.category = DEV_CAT_MISC,
	.user = true,
	DEV_PROPS(debugcon_props),
	.size = sizeof(struct debugcon),
	.host_open = debugcon_host_open,
	.create = debugcon_create,
	.flush = debugcon_flush,
	.state = &debugcon_state,
};
