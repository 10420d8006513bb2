/* A device model's board (see board.h): one table of device kinds, each
 * with what it needs from its spec, its windows and its lines. */
#include "dm/board.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm/backend/console.h"
#include "dm/hw/fw_cfg.h"
#include "dm/hw/fw_cfg_pc.h"
#include "dm/hw/i8042.h"
#include "dm/hw/port92.h"
#include "dm/hw/uart.h"
#include "dm/test_devices.h"
#include "mem/guest_mem.h"

/* One source of a board line: the device's irq_line points here, and the
 * board ORs the sources of each line. */
struct dm_line_src {
	struct dm_board *b;
	unsigned line;
	uint32_t bit;
};

struct dm_device {
	char kind[CTL_NAME_LEN];
	char id[CTL_NAME_LEN];
	int fds[DM_MAX_DEV_FDS];
	unsigned n_fds;
	struct dm_line_src src[4];
	struct irq_line line[4];
	struct dm_board *b;
	int exit_status_base; /* isa-debug-exit */
	/* one of */
	struct uart uart;
	struct console cons;
	uint8_t rx_held[256];
	size_t rx_held_len;
	struct i8042 kbd;
	struct port92 p92;
	struct test_device test;
	struct fw_cfg fwcfg;
	bool fwcfg_live;
};

static int fail(char *err, size_t n, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- lines ---- */

static void line_src_set(void *opaque, unsigned pin, bool level)
{
	struct dm_line_src *s = opaque;
	struct dm_board *b = s->b;
	uint32_t before = b->line_sources[s->line];
	uint32_t after = level ? before | s->bit : before & ~s->bit;

	b->line_sources[s->line] = after;
	if ((before != 0) != (after != 0))
		b->host->set_line(b->host_opaque, s->line, after != 0);
}

/* The reset output is an edge: a rising one asks for a system reset. */
static void reset_src_set(void *opaque, unsigned pin, bool level)
{
	struct dm_line_src *s = opaque;
	struct dm_board *b = s->b;
	if (level && !b->reset_level)
		b->host->reset(b->host_opaque);
	b->reset_level = level;
}

/* Device d's k-th line, driving board line `line`. */
static const struct irq_line *dev_line(struct dm_device *d, unsigned k,
				       unsigned line)
{
	struct dm_board *b = d->b;
	d->src[k] = (struct dm_line_src){b, line, 1u << (b->n_sources++ % 32)};
	d->line[k] = (struct irq_line){line_src_set, &d->src[k], line};
	return &d->line[k];
}

static const struct irq_line *dev_reset_line(struct dm_device *d, unsigned k)
{
	d->src[k] = (struct dm_line_src){d->b, 0, 0};
	d->line[k] = (struct irq_line){reset_src_set, &d->src[k], 0};
	return &d->line[k];
}

/* ---- device kinds ---- */

static int claim(struct dm_device *d, unsigned space, uint64_t base, uint64_t len,
		 unsigned flags, const struct io_ops *ops, void *dev)
{
	return d->b->host->claim(d->b->host_opaque, space, base, len, flags, ops,
				 dev, d->id);
}

/* uart: base, irq; fds: [output[, input]]; param bit 0: the input is
 * the vmm's terminal (Ctrl-A escapes). */
static int uart_add(struct dm_device *d, const struct dm_device_spec *s,
		    char *err, size_t n)
{
	struct chardev out = {console_write, &d->cons, NULL};
	int in = s->n_fds > 1 ? s->fds[1] : -1, outfd = s->n_fds > 0 ? s->fds[0] : -1;
	int r;

	if (s->irq >= 16 || s->base > 0xfff8)
		return fail(err, n, -EINVAL, "uart %s: base %#llx / irq %u out of range",
			    d->id, (unsigned long long)s->base, s->irq);
	r = console_attach(&d->cons, in, outfd, s->param & 1);
	if (r < 0)
		return fail(err, n, r, "uart %s: console: %s", d->id, strerror(-r));
	uart_init(&d->uart, dev_line(d, 0, IOREQ_LINE_ISA0 + s->irq), d->b->clock, &out);
	uart_set_instant_tx(&d->uart, true);
	return claim(d, CTL_SPACE_PIO, s->base, 8, 0, &uart_ops, &d->uart);
}

static void uart_reset(struct dm_device *d)
{
	struct chardev out = {console_write, &d->cons, NULL};
	uart_init(&d->uart, &d->line[0], d->b->clock, &out);
	uart_set_instant_tx(&d->uart, true);
}

/* Terminal input to the UART, as much as it takes now. */
static void uart_input(struct dm_device *d)
{
	size_t took;
	if (d->rx_held_len == 0)
		d->rx_held_len = console_read(&d->cons, d->rx_held, sizeof(d->rx_held));
	if (d->cons.quit) {
		d->cons.quit = false;
		d->b->host->exit(d->b->host_opaque, 0, "QEMU: Terminated (Ctrl-A X)");
		return;
	}
	if (d->rx_held_len == 0)
		return;
	took = uart_receive(&d->uart, d->rx_held, d->rx_held_len);
	memmove(d->rx_held, d->rx_held + took, d->rx_held_len - took);
	d->rx_held_len -= took;
}

static int i8042_add(struct dm_device *d, const struct dm_device_spec *s,
		     char *err, size_t n)
{
	int r;
	i8042_init(&d->kbd, dev_line(d, 0, IOREQ_LINE_ISA0 + 1),
		   dev_line(d, 1, IOREQ_LINE_ISA0 + 12),
		   dev_line(d, 2, IOREQ_LINE_A20), dev_reset_line(d, 3));
	r = claim(d, CTL_SPACE_PIO, 0x60, 1, 0, &i8042_data_ops, &d->kbd);
	if (!r)
		r = claim(d, CTL_SPACE_PIO, 0x64, 1, 0, &i8042_cmd_ops, &d->kbd);
	return r;
}

static void i8042_reset_dev(struct dm_device *d)
{
	i8042_init(&d->kbd, &d->line[0], &d->line[1], &d->line[2], &d->line[3]);
}

static int port92_add(struct dm_device *d, const struct dm_device_spec *s,
		      char *err, size_t n)
{
	port92_init(&d->p92, dev_line(d, 0, IOREQ_LINE_A20), dev_reset_line(d, 1));
	return claim(d, CTL_SPACE_PIO, 0x92, 1, 0, &port92_ops, &d->p92);
}

static void port92_reset(struct dm_device *d)
{
	port92_init(&d->p92, &d->line[0], &d->line[1]);
}

/* Port 0x80, the POST diagnostic port: firmware and kernels write it as a
 * delay (Linux's outb_p); nothing listens, so its writes are buffered. */
static uint64_t post_read(void *opaque, uint64_t off, unsigned size)
{
	return 0xff;
}

static void post_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
}

static const struct io_ops post_ops = {post_read, post_write, IO_SIZE_1, IO_SIZE_1};

static int post_add(struct dm_device *d, const struct dm_device_spec *s,
		    char *err, size_t n)
{
	return claim(d, CTL_SPACE_PIO, 0x80, 1, CTL_CLAIM_BUFFERED, &post_ops, d);
}

/* isa-debug-exit (QEMU's): a write of V ends the VM with (V << 1) | 1. */
static uint64_t debug_exit_read(void *opaque, uint64_t off, unsigned size)
{
	return 0;
}

static void debug_exit_write(void *opaque, uint64_t off, unsigned size,
			     uint64_t v)
{
	struct dm_device *d = opaque;
	char why[64];
	snprintf(why, sizeof(why), "isa-debug-exit: guest wrote %#llx",
		 (unsigned long long)v);
	d->b->host->exit(d->b->host_opaque, (int)(((v << 1) | 1) & 0xff), why);
}

static const struct io_ops debug_exit_ops = {
	debug_exit_read, debug_exit_write,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

static int debug_exit_add(struct dm_device *d, const struct dm_device_spec *s,
			  char *err, size_t n)
{
	if (s->size == 0 || s->size > 8 || s->base + s->size > 0x10000)
		return fail(err, n, -EINVAL, "isa-debug-exit: iobase %#llx iosize %#llx",
			    (unsigned long long)s->base, (unsigned long long)s->size);
	return claim(d, CTL_SPACE_PIO, s->base, s->size, 0, &debug_exit_ops, d);
}

/* Reads a whole host file handed over as a descriptor (at most `max`). */
static uint8_t *slurp(int fd, size_t max, size_t *len)
{
	size_t cap = 1 << 16, got = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		ssize_t n;
		if (got == cap) {
			uint8_t *nb;
			if (cap >= max) {
				free(buf);
				return NULL;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = pread(fd, buf + got, cap - got, (off_t)got);
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return buf;
}

/* fw_cfg (QEMU's firmware interface): size = RAM bytes; fds: the kernel,
 * the initrd and a memfd with the command line, each present when param
 * bit 1, 2, 3 says so; bit 0: -nographic. */

static int fwcfg_add(struct dm_device *d, const struct dm_device_spec *s,
		     char *err, size_t n)
{
	uint64_t below = s->size < GM_PCI_HOLE ? s->size : GM_PCI_HOLE;
	struct fw_cfg_e820_entry map[2] = {
		{0, below, FW_CFG_E820_RAM},
		{GM_4G, s->size - below, FW_CFG_E820_RAM},
	};
	struct fw_cfg_pc pc = {below, s->size - below, 1, 1,
			       (s->param & DM_FWCFG_NOGRAPHIC) != 0, false, map,
			       s->size > below ? 2 : 1};
	uint8_t *file[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};
	unsigned fd_i = 0;
	int r;

	if (s->size < GM_VGA_END || (s->size & 0xfff))
		return fail(err, n, -EINVAL, "fw_cfg: RAM size %#llx", (unsigned long long)s->size);
	r = fw_cfg_init(&d->fwcfg, &d->b->dma);
	if (r < 0)
		return r;
	d->fwcfg_live = true;
	r = fw_cfg_pc_fill(&d->fwcfg, &pc);
	for (unsigned k = 0; !r && k < 3; k++) {
		if (!(s->param & (DM_FWCFG_KERNEL << k)))
			continue;
		if (fd_i >= s->n_fds)
			return fail(err, n, -EINVAL, "fw_cfg: a file descriptor is missing");
		file[k] = slurp(s->fds[fd_i++], 512u << 20, &len[k]);
		if (!file[k])
			r = -EIO;
	}
	if (!r && file[0]) {
		char *cmdline = calloc(1, len[2] + 1);
		if (!cmdline) {
			r = -ENOMEM;
		} else {
			memcpy(cmdline, file[2] ? (char *)file[2] : "", len[2]);
			r = fw_cfg_pc_add_linux(&d->fwcfg, &pc, file[0], len[0], file[1],
						len[1], cmdline, err, n);
			free(cmdline);
			/* A Multiboot kernel is no bzImage: v2e loads it itself,
			 * and QEMU's items for it need the MBI it builds. */
			if (r == -ENOEXEC) {
				err[0] = 0;
				r = 0;
			}
		}
	}
	for (unsigned k = 0; k < 3; k++)
		free(file[k]);
	if (r < 0)
		return *err ? r : fail(err, n, r, "fw_cfg: %s", strerror(-r));
	r = claim(d, CTL_SPACE_PIO, FW_CFG_IO_BASE, FW_CFG_IO_LEN, 0, &fw_cfg_io_ops,
		  &d->fwcfg);
	if (!r)
		r = claim(d, CTL_SPACE_PIO, FW_CFG_DMA_BASE, FW_CFG_DMA_LEN, 0,
			  &fw_cfg_dma_ops, &d->fwcfg);
	return r;
}

static void fwcfg_reset(struct dm_device *d)
{
	fw_cfg_reset(&d->fwcfg);
}

static int test_add(struct dm_device *d, const struct dm_device_spec *s,
		    char *err, size_t n)
{
	const struct io_ops *ops;
	int r = test_device_init(&d->test, d->kind, &d->b->dma,
				 dev_line(d, 0, IOREQ_LINE_ISA0 + (s->irq & 15)), &ops);
	if (r < 0)
		return fail(err, n, r, "%s: not in this build", d->kind);
	d->test.host = d->b->host;
	d->test.host_opaque = d->b->host_opaque;
	d->test.base = s->base;
	return claim(d, CTL_SPACE_PIO, s->base, 8, 0, ops, &d->test);
}

struct dm_kind {
	const char *name;
	int (*add)(struct dm_device *d, const struct dm_device_spec *s, char *err,
		   size_t n);
	void (*reset)(struct dm_device *d);
	void (*input)(struct dm_device *d);
};

static const struct dm_kind kinds[] = {
	{"uart", uart_add, uart_reset, uart_input},
	{"i8042", i8042_add, i8042_reset_dev, NULL},
	{"port92", port92_add, port92_reset, NULL},
	{"post", post_add, NULL, NULL},
	{"isa-debug-exit", debug_exit_add, NULL, NULL},
	{"fw_cfg", fwcfg_add, fwcfg_reset, NULL},
	{"test-sandbox", test_add, NULL, NULL},
	{"test-dma", test_add, NULL, NULL},
};

static const struct dm_kind *kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

const char *dm_board_kinds(void)
{
	return "uart, i8042, port92, post, isa-debug-exit, fw_cfg";
}

/* ---- the board ---- */

void dm_board_init(struct dm_board *b, const struct dm_host_ops *host,
		   void *host_opaque, struct vclock *clock,
		   const struct dma_space *dma)
{
	memset(b, 0, sizeof(*b));
	b->host = host;
	b->host_opaque = host_opaque;
	b->clock = clock;
	b->dma = *dma;
}

int dm_board_add(struct dm_board *b, const struct dm_device_spec *s, char *err,
		 size_t errlen)
{
	const struct dm_kind *k = kind_find(s->kind);
	struct dm_device *d;
	int r;

	if (!k || b->n_dev >= DM_MAX_DEVICES || s->n_fds > DM_MAX_DEV_FDS) {
		for (unsigned i = 0; i < s->n_fds && i < DM_MAX_DEV_FDS; i++)
			if (s->fds[i] >= 0)
				close(s->fds[i]);
		if (!k)
			return fail(err, errlen, -ENOENT, "unknown device kind '%s' (known: %s)",
				    s->kind, dm_board_kinds());
		return fail(err, errlen, -E2BIG, "too many devices or descriptors");
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return fail(err, errlen, -ENOMEM, "out of memory");
	d->b = b;
	ctl_set_name(d->kind, s->kind);
	ctl_set_name(d->id, s->id && *s->id ? s->id : s->kind);
	d->n_fds = s->n_fds;
	memcpy(d->fds, s->fds, sizeof(int) * s->n_fds);
	b->dev[b->n_dev++] = d;
	r = k->add(d, s, err, errlen);
	if (r < 0 && !*err)
		fail(err, errlen, r, "%s: %s", d->id, strerror(-r));
	return r;
}

void dm_board_flush(struct dm_board *b)
{
	for (unsigned i = 0; i < b->n_dev; i++)
		if (!strcmp(b->dev[i]->kind, "uart"))
			console_flush(&b->dev[i]->cons);
}

void dm_board_destroy(struct dm_board *b)
{
	dm_board_flush(b);
	for (unsigned i = b->n_dev; i-- > 0;) {
		struct dm_device *d = b->dev[i];
		for (unsigned f = 0; f < d->n_fds; f++)
			if (d->fds[f] > STDERR_FILENO)
				close(d->fds[f]);
		if (d->fwcfg_live)
			fw_cfg_destroy(&d->fwcfg);
		free(d);
	}
	b->n_dev = 0;
}

void dm_board_reset(struct dm_board *b)
{
	for (unsigned i = 0; i < b->n_dev; i++) {
		const struct dm_kind *k = kind_find(b->dev[i]->kind);
		if (k && k->reset)
			k->reset(b->dev[i]);
	}
}

unsigned dm_board_poll_fds(struct dm_board *b, struct pollfd *p, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < b->n_dev && n < max; i++) {
		struct dm_device *d = b->dev[i];
		if (strcmp(d->kind, "uart") || d->cons.eof)
			continue;
		/* Held input waits for room in the FIFO, not for the fd. */
		if (d->rx_held_len && !uart_can_receive(&d->uart))
			continue;
		p[n++] = (struct pollfd){d->cons.in_fd, POLLIN, 0};
	}
	return n;
}

unsigned dm_board_input(struct dm_board *b, const struct pollfd *p, unsigned n)
{
	unsigned served = 0;
	for (unsigned i = 0; i < b->n_dev; i++) {
		struct dm_device *d = b->dev[i];
		if (strcmp(d->kind, "uart") || d->cons.eof)
			continue;
		for (unsigned j = 0; j < n; j++) {
			if (p[j].fd == d->cons.in_fd && p[j].revents) {
				uart_input(d);
				served++;
			}
		}
		/* Held bytes go in as the guest makes room. */
		if (d->rx_held_len && uart_can_receive(&d->uart))
			uart_input(d);
	}
	return served;
}
