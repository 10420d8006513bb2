#include "testbus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *tb_ram_page(void *opaque, uint64_t paddr, bool write)
{
	struct testbus *tb = opaque;
	if (paddr < tb->ram_size)
		return tb->ram + paddr;
	/* The BIOS area under 4 GiB aliases the top of RAM, read-only. */
	if (!write && paddr >= 0xffff0000ull && paddr < 0x100000000ull)
		return tb->ram + tb->ram_size - 0x10000 + (paddr - 0xffff0000ull);
	return NULL;
}

static uint64_t tb_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
	return ~0ull;
}

static void tb_mmio_write(void *opaque, uint64_t paddr, unsigned size,
			  uint64_t value)
{
}

static uint32_t tb_pio_in(void *opaque, uint16_t port, unsigned size)
{
	struct testbus *tb = opaque;
	tb->unclaimed_io++;
	return 0xffffffffu;
}

static void tb_pio_out(void *opaque, uint16_t port, unsigned size,
		       uint32_t value)
{
	struct testbus *tb = opaque;
	if (port == 0xe9) {
		if (tb->out_len < sizeof(tb->out) - 1)
			tb->out[tb->out_len++] = (char)value;
		tb->out[tb->out_len] = 0;
	} else if (port == 0xf4) {
		tb->exited = 1;
		tb->exit_code = value;
		cpu_request_exit(tb->cpu);
	} else if (port == 0xf0) {
		cpu_set_intr(tb->cpu, value & 1);
	} else {
		tb->unclaimed_io++;
	}
}

static void tb_ferr(void *opaque, bool level)
{
	struct testbus *tb = opaque;
	tb->ferr_level = level;
	tb->ferr_calls++;
}

static uint8_t tb_intr_ack(void *opaque)
{
	struct testbus *tb = opaque;
	cpu_set_intr(tb->cpu, false);
	return tb->intr_vector;
}

int testbus_init(struct testbus *tb, uint64_t ram_size)
{
	return testbus_init_model(tb, ram_size, NULL);
}

int testbus_init_model(struct testbus *tb, uint64_t ram_size,
		       const struct cpu_model *model)
{
	struct cpu_bus bus = {
		.opaque = tb,
		.ram_page = tb_ram_page,
		.mmio_read = tb_mmio_read,
		.mmio_write = tb_mmio_write,
		.pio_in = tb_pio_in,
		.pio_out = tb_pio_out,
		.intr_ack = tb_intr_ack,
		.ferr = tb_ferr,
	};
	memset(tb, 0, sizeof(*tb));
	tb->ram_size = ram_size;
	tb->ram = calloc(1, ram_size);
	if (!tb->ram)
		return -ENOMEM;
	tb->cpu = cpu_create(&bus, model, ram_size / 4096);
	if (!tb->cpu) {
		free(tb->ram);
		return -ENOMEM;
	}
	return 0;
}

void testbus_free(struct testbus *tb)
{
	cpu_destroy(tb->cpu);
	free(tb->ram);
}

enum cpu_exit testbus_run(struct testbus *tb, uint64_t max_insns)
{
	enum cpu_exit r = CPU_EXIT_BUDGET;
	uint64_t end = cpu_icount(tb->cpu) + max_insns;
	while (!tb->exited && cpu_icount(tb->cpu) < end) {
		r = cpu_run(tb->cpu, end - cpu_icount(tb->cpu));
		if (r == CPU_EXIT_HALT || r == CPU_EXIT_SHUTDOWN)
			break;
	}
	return r;
}
