/* Runs a Multiboot benchmark kernel (bench/cpu/NAME.asm) on the emulator in
 * the state a Multiboot loader hands over (flat 32-bit protected mode,
 * paging off) and prints the instruction count, host time and rate. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "mem/guest_mem.h"
#include "vmm/multiboot.h"

#define RAM_SIZE (128u << 20)

struct bench_machine {
	struct guest_mem gm;
	struct cpu *cpu;
	int exited;
};

static uint8_t *bm_ram_page(void *opaque, uint64_t paddr, bool write)
{
	struct bench_machine *m = opaque;
	return guest_mem_ptr(&m->gm, paddr, 4096);
}

static uint64_t bm_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
	return ~0ull;
}

static void bm_mmio_write(void *opaque, uint64_t paddr, unsigned size,
			  uint64_t v)
{
}

static uint32_t bm_pio_in(void *opaque, uint16_t port, unsigned size)
{
	return ~0u;
}

static void bm_pio_out(void *opaque, uint16_t port, unsigned size, uint32_t v)
{
	struct bench_machine *m = opaque;
	if (port == 0xf4) {
		m->exited = 1;
		cpu_request_exit(m->cpu);
	}
}

static uint8_t bm_intr_ack(void *opaque)
{
	return 0;
}

static int load_kernel(struct bench_machine *m, const char *path,
		       struct mb_entry *e)
{
	static uint8_t img[16 << 20];
	char err[256];
	ssize_t n;
	int r, fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, img, sizeof(img));
	close(fd);
	if (n < 0)
		return -EIO;
	r = multiboot_load(&m->gm, img, (size_t)n, "", NULL, 0, e, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "cpubench: %s: %s\n", path, err);
	return r;
}

static void flat_protected_mode(struct cpu *cpu, const struct mb_entry *e)
{
	struct x86_state s;
	cpu_get_state(cpu, &s);
	multiboot_entry_state(e, &s);
	cpu_set_state(cpu, &s);
}

int main(int argc, char **argv)
{
	struct bench_machine m = {0};
	struct cpu_bus bus = {
		.opaque = &m, .ram_page = bm_ram_page,
		.mmio_read = bm_mmio_read, .mmio_write = bm_mmio_write,
		.pio_in = bm_pio_in, .pio_out = bm_pio_out,
		.intr_ack = bm_intr_ack,
	};
	struct timespec t0, t1;
	struct mb_entry entry;
	double secs;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: cpubench KERNEL\n");
		return 2;
	}
	if (guest_mem_create(&m.gm, RAM_SIZE) < 0 ||
	    !(m.cpu = cpu_create(&bus, NULL, RAM_SIZE / 4096))) {
		fprintf(stderr, "cpubench: out of memory\n");
		return 1;
	}
	err = load_kernel(&m, argv[1], &entry);
	if (err)
		return 1;
	flat_protected_mode(m.cpu, &entry);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!m.exited) {
		enum cpu_exit r = cpu_run(m.cpu, 100000000);
		if (r == CPU_EXIT_HALT || r == CPU_EXIT_SHUTDOWN) {
			fprintf(stderr, "cpubench: guest %s after %llu "
				"instructions, before exiting\n",
				r == CPU_EXIT_HALT ? "halted" : "shut down",
				(unsigned long long)cpu_icount(m.cpu));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu %.4f %.1f\n", (unsigned long long)cpu_icount(m.cpu), secs,
	       cpu_icount(m.cpu) / secs / 1e6);
	cpu_destroy(m.cpu);
	guest_mem_destroy(&m.gm);
	return 0;
}
