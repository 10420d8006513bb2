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

#define RAM_SIZE (128u << 20)

struct bench_machine {
	uint8_t *ram;
	struct cpu *cpu;
	int exited;
};

static uint8_t *bm_ram_page(void *opaque, uint64_t paddr, bool write)
{
	struct bench_machine *m = opaque;
	return paddr < RAM_SIZE ? m->ram + paddr : NULL;
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

/* Loads a Multiboot image that uses the address fields (flag 16). */
static int load_multiboot(struct bench_machine *m, const char *path,
			  uint32_t *entry)
{
	uint8_t *img;
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint32_t off;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	img = malloc(st.st_size);
	if (!img || read(fd, img, st.st_size) != st.st_size) {
		close(fd);
		free(img);
		return -EIO;
	}
	close(fd);
	for (off = 0; off + 32 <= st.st_size && off < 8192; off += 4) {
		uint32_t h[8];
		memcpy(h, img + off, sizeof(h));
		if (h[0] == 0x1BADB002 && h[0] + h[1] + h[2] == 0 &&
		    (h[1] & 0x10000)) {
			uint32_t header_addr = h[3], load = h[4], load_end = h[5];
			uint32_t bss_end = h[6];
			uint64_t file_start = off - (header_addr - load);
			uint64_t len = load_end ? load_end - load : st.st_size - file_start;
			if (file_start + len > (uint64_t)st.st_size ||
			    (uint64_t)load + len > RAM_SIZE || bss_end > RAM_SIZE)
				break;
			memcpy(m->ram + load, img + file_start, len);
			*entry = h[7];
			free(img);
			return 0;
		}
	}
	free(img);
	return -ENOEXEC;
}

static void flat_protected_mode(struct cpu *cpu, uint32_t entry)
{
	struct x86_state s;
	cpu_get_state(cpu, &s);
	for (int i = 0; i < S_NR; i++) {
		s.seg[i].base = 0;
		s.seg[i].limit = 0xffffffff;
		s.seg[i].selector = 0x10;
		s.seg[i].ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_WRITABLE |
			      AR_TYPE_ACCESSED;
	}
	s.seg[S_CS].selector = 0x08;
	s.seg[S_CS].ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_CODE |
			 AR_TYPE_READABLE | AR_TYPE_ACCESSED;
	s.cr0 |= CR0_PE;
	s.rip = entry;
	s.gpr[R_AX] = 0x2BADB002;
	s.gpr[R_BX] = 0;
	s.rflags = FL_FIXED1;
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
	uint32_t entry = 0;
	double secs;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: cpubench KERNEL\n");
		return 2;
	}
	m.ram = calloc(1, RAM_SIZE);
	m.cpu = m.ram ? cpu_create(&bus, NULL, RAM_SIZE / 4096) : NULL;
	if (!m.cpu) {
		fprintf(stderr, "cpubench: out of memory\n");
		return 1;
	}
	err = load_multiboot(&m, argv[1], &entry);
	if (err) {
		fprintf(stderr, "cpubench: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	flat_protected_mode(m.cpu, entry);
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
	free(m.ram);
	return 0;
}
