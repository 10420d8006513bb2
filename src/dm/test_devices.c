/* Test-only devices (see test_devices.h). */
#include "dm/test_devices.h"

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
	uint16_t port = (uint16_t)v;

	if (off == 0) {
		t->result = (uint32_t)try_forbidden((unsigned)v);
	} else if (off == 4 && t->host) {
		/* A refused move (onto another window) leaves it where it is. */
		if (t->host->window(t->host_opaque, CTL_SPACE_PIO, t->base, IOREQ_WIN_MOVE,
				    port) == 0)
			t->base = port;
	} else if (off == 6 && t->host) {
		if (t->extra && t->host->window(t->host_opaque, CTL_SPACE_PIO, t->extra,
						IOREQ_WIN_REMOVE, 0) == 0)
			t->extra = 0;
		if (port && !t->extra &&
		    t->host->claim(t->host_opaque, CTL_SPACE_PIO, port, 1, 0, &extra_ops, t,
				   "test-sandbox.extra") == 0)
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

int test_device_init(struct test_device *t, const char *kind,
		     const struct dma_space *dma, const struct irq_line *irq,
		     const struct io_ops **ops)
{
	memset(t, 0, sizeof(*t));
	t->dma = dma;
	t->irq = irq;
	if (!strcmp(kind, "test-sandbox"))
		*ops = &sandbox_ops;
	else if (!strcmp(kind, "test-dma"))
		*ops = &dma_ops;
	else
		return -ENOTSUP;
	return 0;
}

#else

int test_device_init(struct test_device *t, const char *kind,
		     const struct dma_space *dma, const struct irq_line *irq,
		     const struct io_ops **ops)
{
	return -ENOTSUP;
}

#endif
