/* The cost of the device-model boundary, measured on the real thing: a
 * sandboxed v2e-dm started through dm_link (the code `v2e` uses), and the
 * same devices in-process. Prints one table:
 *   PIO read round trip (vmm -> dm -> vmm): median and 99th percentile
 *   buffered writes per second (port 0x80)
 *   REP INSW throughput (one request per 4 KiB page, data_is_ptr)
 *
 *   ioreqbench PATH-TO-v2e-dm [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/dm_link.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct bench_vm {
	struct region_map ports, mem;
	struct vclock clock;
	struct guest_mem gm;
	bool failed;
};

static uint64_t h_now(void *o)
{
	struct bench_vm *vm = o;
	return vclock_now(&vm->clock);
}

static void h_line(void *o, unsigned line, bool level)
{
}

static void h_exit(void *o, int status, const char *why)
{
}

static void h_reset(void *o)
{
}

static void h_dirty(void *o, uint64_t gpa, uint64_t len)
{
}

static void h_failed(void *o, const char *why)
{
	struct bench_vm *vm = o;
	fprintf(stderr, "ioreqbench: %s\n", why);
	vm->failed = true;
}

static int dma_rd(void *o, uint64_t gpa, void *buf, size_t n)
{
	struct bench_vm *vm = o;
	return guest_mem_read(&vm->gm, gpa, buf, n);
}

static int dma_wr(void *o, uint64_t gpa, const void *buf, size_t n)
{
	struct bench_vm *vm = o;
	return guest_mem_write(&vm->gm, gpa, buf, n);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void run(const char *dm_path, bool inprocess, unsigned iters)
{
	static struct bench_vm vm;
	struct dm_link_host host;
	struct dm_link_options o = {inprocess ? "dm-inprocess" : "dm0", dm_path,
				    inprocess, 5000000000ull, 0};
	static struct dm_device_spec specs[2] = {{.id = "com1"}, {.id = "post"}};
	struct dm_link l;
	uint64_t *lat = calloc(iters, sizeof(uint64_t));
	uint64_t t0, t1, bytes = 0;
	char err[512];

	memset(&vm, 0, sizeof(vm));
	/* COM1 (index 0: 0x3f8, IRQ 4, nothing behind it) and port 0x80. */
	dev_props_init(&specs[0].props, dev_kind_find("isa-serial"));
	dev_props_init(&specs[1].props, dev_kind_find("post"));
	specs[0].n_fds = specs[1].n_fds = 0;
	if (region_map_init(&vm.ports, "port", 0x10000) < 0 ||
	    region_map_init(&vm.mem, "mmio", 0) < 0) {
		fprintf(stderr, "ioreqbench: out of memory\n");
		return;
	}
	vclock_init(&vm.clock, 0);
	if (!lat || guest_mem_create(&vm.gm, 16u << 20) < 0) {
		fprintf(stderr, "ioreqbench: out of memory\n");
		exit(1);
	}
	host = (struct dm_link_host){&vm.ports, &vm.mem, &vm.clock, &vm.gm,
				     {dma_rd, dma_wr, &vm}, false, mono_ns(), &vm,
				     h_now, h_line, h_exit, h_reset, h_dirty, h_failed, NULL};
	if (dm_link_start(&l, &o, &host, specs, 2, err, sizeof(err)) < 0) {
		fprintf(stderr, "ioreqbench: %s\n", err);
		exit(1);
	}
	/* PIO read round trips: the UART's scratch register. */
	for (unsigned i = 0; i < iters / 10; i++)
		region_read(&vm.ports, 0x3ff, 1);
	for (unsigned i = 0; i < iters; i++) {
		t0 = mono_ns();
		region_read(&vm.ports, 0x3ff, 1);
		lat[i] = mono_ns() - t0;
	}
	qsort(lat, iters, sizeof(uint64_t), cmp_u64);
	printf("%-12s PIO read round trip: median %6.2f us, p99 %6.2f us\n",
	       inprocess ? "in-process" : "v2e-dm", lat[iters / 2] / 1000.0,
	       lat[iters * 99 / 100] / 1000.0);
	/* Buffered writes: port 0x80, then the flush a burst end does. */
	t0 = mono_ns();
	for (unsigned i = 0; i < iters * 10; i++)
		region_write(&vm.ports, 0x80, 1, i & 0xff);
	dm_link_sync(&l);
	t1 = mono_ns();
	printf("%-12s buffered writes: %8.2f M/s\n", inprocess ? "in-process" : "v2e-dm",
	       iters * 10 / ((t1 - t0) / 1e9) / 1e6);
	/* REP INSW: 2048 words into one page per request, from a port no
	 * device decodes in the dm (reads all-ones): the transport's cost,
	 * not a device's. */
	if (!inprocess) {
		t0 = mono_ns();
		for (unsigned i = 0; i < iters / 10; i++) {
			uint64_t gpa = 0x100000 + (uint64_t)(i % 1024) * 4096;
			bytes += 2ull * dm_link_pio_string(&l, 0x1f0, 2, true, gpa, 2048, false);
		}
		t1 = mono_ns();
		printf("%-12s REP INSW: %8.1f MB/s (%u requests of 4 KiB)\n", "v2e-dm",
		       bytes / ((t1 - t0) / 1e9) / 1e6, iters / 10);
	}
	dm_link_stop(&l);
	guest_mem_destroy(&vm.gm);
	region_map_destroy(&vm.mem);
	region_map_destroy(&vm.ports);
	free(lat);
	if (vm.failed)
		exit(1);
}

int main(int argc, char **argv)
{
	unsigned iters = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
	if (argc < 2 || iters < 100) {
		fprintf(stderr, "usage: ioreqbench PATH-TO-v2e-dm [iterations >= 100]\n");
		return 2;
	}
	run(argv[1], false, iters);
	run(argv[1], true, iters);
	return 0;
}
