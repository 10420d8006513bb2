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

/* ---- the kinds (dev/kind.h) ---- */

#include <stdio.h>

#include "lib/vstate.h"

static const struct dev_prop test_props[] = {
	{"iobase", DEV_PROP_NUM, false, 0, 0xfff8, 0, NULL, "first of its 8 ports (required)"},
};

static int test_create(void *dev, const struct dev_ctx *c, const struct io_ops *ops,
		       const struct dev_props *p, char *err, size_t n)
{
	struct test_device *t = dev;
	t->dma = c->dma;
	t->irq = c->line(c, DEV_LINE_ISA0 + 5);
	t->ctx = c;
	t->base = p->num[0];
	return c->claim(c, DEV_SPACE_PIO, p->num[0], 8, 0, ops, t);
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
	return test_create(dev, c, &sandbox_ops, p, err, n);
}

static int dma_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		      char *err, size_t n)
{
	return test_create(dev, c, &dma_ops, p, err, n);
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

#endif
