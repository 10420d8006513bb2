/* Test-only devices (see test_devices.h). */
#include "dm/hw/test_devices.h"

#include "dev/kind.h"

#include <errno.h>
#include <string.h>

#ifdef V2E_TEST_DEVICES
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

static int try_forbidden(unsigned what)
{
	static char *const argv[] = {"/bin/true", NULL};
	int fd;

	errno = 0;
	switch (what) {
	case 1:
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		break;
	case 2:
		execve(argv[0], argv, argv + 1);
		return errno;
	case 3:
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		break;
	case 4:
		return ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 ? errno : 0;
	case 5:
		fd = open("/tmp/v2e-sandbox-escape", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		break;
	default:
		return EINVAL;
	}
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static uint64_t extra_read(void *opaque, uint64_t off, unsigned size)
{
	return 0xa5;
}

static void extra_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
}

static const struct io_ops extra_ops = {extra_read, extra_write, IO_SIZE_1, IO_SIZE_1};

static uint64_t sandbox_read(void *opaque, uint64_t off, unsigned size)
{
	struct test_device *t = opaque;
	return off == 0 ? t->result : off == 4 ? t->base : 0;
}

static void sandbox_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct test_device *t = opaque;
	const struct dev_ctx *c = t->ctx;
	uint16_t port = (uint16_t)v;

	if (off == 0) {
		t->result = (uint32_t)try_forbidden((unsigned)v);
	} else if (off == 4 && c) {
		/* A refused move (onto another window) leaves it where it is. */
		if (c->window(c, DEV_SPACE_PIO, t->base, DEV_WIN_MOVE, port) == 0)
			t->base = port;
	} else if (off == 6 && c) {
		if (t->extra && c->window(c, DEV_SPACE_PIO, t->extra, DEV_WIN_REMOVE, 0) == 0)
			t->extra = 0;
		if (port && !t->extra &&
		    c->claim(c, DEV_SPACE_PIO, port, 1, 0, &extra_ops, t) == 0)
			t->extra = port;
	}
}

static const struct io_ops sandbox_ops = {
	sandbox_read, sandbox_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

static uint64_t dma_reg_read(void *opaque, uint64_t off, unsigned size)
{
	struct test_device *t = opaque;
	return off == 0 ? t->reg[0] : off == 4 ? t->result : 0;
}

static void dma_reg_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct test_device *t = opaque;
	uint32_t val = (uint32_t)v;
	if (off == 0)
		t->reg[0] = val;
	else if (off == 4)
		t->result = dma_write(t->dma, t->reg[0], &val, sizeof(val)) ? 0xffffffffu : 0;
}

static const struct io_ops dma_ops = {
	dma_reg_read, dma_reg_write, IO_SIZE_4, IO_SIZE_4,
};

/* test-quiet: base+0 holds a byte and its writes are quiet; base+1's
 * writes set what base+2 reads, so they are not. */
static uint64_t quiet_reg_read(void *opaque, uint64_t off, unsigned size)
{
	struct test_device *t = opaque;
	return off == 0 ? t->reg[0] & 0xff : off == 2 ? t->reg[1] & 0xff : 0;
}

static void quiet_reg_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct test_device *t = opaque;
	if (off == 0)
		t->reg[0] = (uint8_t)v;
	else if (off == 1)
		t->reg[1] = (uint8_t)v;
}

static bool quiet_reg_peek(void *opaque, uint64_t off, uint8_t *v)
{
	*v = (uint8_t)quiet_reg_read(opaque, off, 1);
	return true;
}

static bool quiet_reg_quiet(void *opaque, uint64_t off, uint8_t *mask, uint8_t *value)
{
	*mask = *value = 0;
	return off != 1;
}

static const struct io_ops quiet_ops = {
	quiet_reg_read, quiet_reg_write, IO_SIZE_1, IO_SIZE_1,
	.peek = quiet_reg_peek, .quiet = quiet_reg_quiet,
};

/* ---- the kinds (dev/kind.h) ---- */

#include <stdio.h>

#include "lib/vstate.h"

static const struct dev_prop test_props[] = {
	{"iobase", DEV_PROP_NUM, false, 0, 0xfff8, 0, NULL, "first of its 8 ports (required)"},
};

/* Its 8 ports at iobase; writes buffered (no reply) when `flags` say so. */
static int test_create(void *dev, const struct dev_ctx *c, const struct io_ops *ops,
		       unsigned flags, const struct dev_props *p)
{
	struct test_device *t = dev;
	t->dma = c->dma;
	t->irq = c->line(c, DEV_LINE_ISA0 + 5);
	t->ctx = c;
	t->base = p->num[0];
	return c->claim(c, DEV_SPACE_PIO, p->num[0], 8, flags, ops, t);
}

static int test_check(const struct dev_props *p, char *err, size_t n)
{
	if (p->num[0])
		return 0;
	snprintf(err, n, "%s: needs iobase=N", p->kind->name);
	return -EINVAL;
}

static int sandbox_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			  char *err, size_t n)
{
	return test_create(dev, c, &sandbox_ops, 0, p);
}

static int dma_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		      char *err, size_t n)
{
	return test_create(dev, c, &dma_ops, 0, p);
}

static int quiet_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			char *err, size_t n)
{
	return test_create(dev, c, &quiet_ops, DEV_CLAIM_BUFFERED, p);
}

static const struct vs_field test_fields[] = {
	VS_ARRAY(struct test_device, reg, VS_U32, 2),
	VS_U32(struct test_device, result),
};

static const struct vs_desc test_state = {
	.name = "test-device",
	.version = 1,
	.fields = test_fields,
	.n_fields = ARRAY_SIZE(test_fields),
};

DEV_KIND(test_sandbox) = {
	.name = "test-sandbox",
	.help = "tries what the sandbox forbids when the guest asks",
	.where = DEV_IN_DM,
	.category = DEV_CAT_TEST,
	.user = true,
	DEV_PROPS(test_props),
	.size = sizeof(struct test_device),
	.check = test_check,
	.create = sandbox_create,
	.state = &test_state,
};

DEV_KIND(test_dma) = {
	.name = "test-dma",
	.help = "stores a word the guest gives at a guest-physical address",
	.where = DEV_IN_DM,
	.category = DEV_CAT_TEST,
	.user = true,
	DEV_PROPS(test_props),
	.size = sizeof(struct test_device),
	.check = test_check,
	.create = dma_create,
	.state = &test_state,
};

DEV_KIND(test_quiet) = {
	.name = "test-quiet",
	.help = "registers whose buffered writes are quiet, and one whose are not",
	.where = DEV_IN_DM,
	.category = DEV_CAT_TEST,
	.user = true,
	DEV_PROPS(test_props),
	.size = sizeof(struct test_device),
	.check = test_check,
	.create = quiet_create,
	.state = &test_state,
};

/* ---- test-pci: a PCI function with one I/O BAR (test_devices.h) ---- */

#include "dev/pci.h"

#define TEST_PCI_BAR_SIZE 16

struct test_pci {
	struct pci_fn fn;           /* first: the saved state's base */
	const struct dev_ctx *ctx;
	uint64_t win;               /* where its window is (0: none yet) */
	bool win_on;
	bool intx;                  /* its interrupt request */
	const struct irq_line *inta;
};

static uint64_t test_pci_io_read(void *opaque, uint64_t off, unsigned size)
{
	return 0x7e570000u | (uint32_t)off;
}

/* INTA# follows the device's interrupt request (bit 0 written at offset
 * 0) unless the command register's INTx disable masks it; the status
 * register's interrupt bit shows the request either way (PCI 3.0,
 * 6.2.2 and 6.2.3). */
static void test_pci_intx_update(struct test_pci *t)
{
	bool masked = pci_cfg16(&t->fn, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
	t->fn.cfg[PCI_STATUS] = (uint8_t)((t->fn.cfg[PCI_STATUS] & ~PCI_STATUS_INTERRUPT) |
					  (t->intx ? PCI_STATUS_INTERRUPT : 0));
	irq_set(t->inta, t->intx && !masked);
}

static void test_pci_io_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct test_pci *t = opaque;
	if (off == 0) {
		t->intx = v & 1;
		test_pci_intx_update(t);
	}
}

static const struct io_ops test_pci_io_ops = {
	test_pci_io_read, test_pci_io_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* BAR 0 moved, appeared or went: the window follows, claimed the first
 * time it decodes, then moved, enabled and disabled. */
static void test_pci_bar(void *opaque, struct pci_fn *f, unsigned bar, uint64_t old,
			 uint64_t now)
{
	struct test_pci *t = opaque;
	const struct dev_ctx *c = t->ctx;

	if (now == PCI_BAR_NONE) {
		if (t->win && t->win_on && c->window(c, DEV_SPACE_PIO, t->win,
						      DEV_WIN_DISABLE, 0) == 0)
			t->win_on = false;
		return;
	}
	if (!t->win) {
		if (c->claim(c, DEV_SPACE_PIO, now, TEST_PCI_BAR_SIZE, 0, &test_pci_io_ops,
			     t) == 0) {
			t->win = now;
			t->win_on = true;
		}
		return;
	}
	if (t->win != now && c->window(c, DEV_SPACE_PIO, t->win, DEV_WIN_MOVE, now) == 0)
		t->win = now;
	if (!t->win_on && t->win == now &&
	    c->window(c, DEV_SPACE_PIO, t->win, DEV_WIN_ENABLE, 0) == 0)
		t->win_on = true;
}

static uint64_t test_pci_cfg_read(void *opaque, uint64_t off, unsigned size)
{
	struct test_pci *t = opaque;
	return off >> 8 ? ~0ull : pci_fn_read(&t->fn, (unsigned)off, size);
}

static void test_pci_cfg_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct test_pci *t = opaque;
	if (!(off >> 8)) {
		pci_fn_write(&t->fn, (unsigned)off, size, (uint32_t)v);
		test_pci_intx_update(t);
	}
}

static const struct io_ops test_pci_cfg_ops = {
	test_pci_cfg_read, test_pci_cfg_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

static const struct dev_prop test_pci_props[] = {
	{"addr", DEV_PROP_NUM, false, 0, 31, 5, NULL, "its slot on bus 0"},
};

static int test_pci_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			   char *err, size_t n)
{
	static const struct pci_id id = {.vendor = 0x1234, .device = 0x0005,
					 .class_code = 0xff0000, .revision = 1,
					 .int_pin = 1};
	struct test_pci *t = dev;
	int r;

	t->ctx = c;
	t->inta = c->line(c, DEV_LINE_PIRQA + pci_intx_pirq((unsigned)p->num[0], id.int_pin));
	pci_fn_init(&t->fn, &id, test_pci_bar, t);
	r = pci_fn_bar(&t->fn, 0, PCI_BAR_TYPE_IO, TEST_PCI_BAR_SIZE);
	if (!r)
		r = c->claim(c, DEV_SPACE_PCI, PCI_DEVFN(p->num[0], 0), PCI_FNS, 0,
			     &test_pci_cfg_ops, t);
	if (r)
		snprintf(err, n, "%s: PCI slot %llu refused", p->kind->name,
			 (unsigned long long)p->num[0]);
	return r;
}

static void test_pci_reset(void *dev)
{
	struct test_pci *t = dev;
	pci_fn_reset(&t->fn);
	t->intx = false;
	test_pci_intx_update(t);
}

static int test_pci_post_load(void *obj, char *err, size_t n)
{
	struct test_pci *t = obj;
	pci_fn_update_bars(&t->fn);
	/* the request is the status bit it showed */
	t->intx = (t->fn.cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT) != 0;
	test_pci_intx_update(t);
	return 0;
}

static const struct vs_field test_pci_fields[] = {
	VS_BYTES(struct test_pci, fn.cfg),
};

static const struct vs_desc test_pci_state = {
	.name = "test-pci",
	.version = 1,
	.fields = test_pci_fields,
	.n_fields = ARRAY_SIZE(test_pci_fields),
	.post_load = test_pci_post_load,
};

DEV_KIND(test_pci) = {
	.name = "test-pci",
	.help = "a PCI function (1234:0005) whose 16-port I/O BAR 0 moves its window",
	.where = DEV_IN_DM,
	.category = DEV_CAT_TEST,
	.user = true,
	DEV_PROPS(test_pci_props),
	.size = sizeof(struct test_pci),
	.create = test_pci_create,
	.reset = test_pci_reset,
	.state = &test_pci_state,
};

#endif
