/* A bare machine for emulator tests: flat RAM from address 0, the top
 * 64 KiB below 4 GiB mirroring the last 64 KiB of RAM (where the reset
 * vector lands), port 0xe9 collecting bytes the guest prints, and port
 * 0xf4 ending the run with a status (as QEMU's isa-debug-exit); bit 0
 * of a write to port 0xf0 is the CPU's INTR line, as a device raising it
 * while an instruction runs. */
#ifndef V2E_TESTS_CPU_TESTBUS_H
#define V2E_TESTS_CPU_TESTBUS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct testbus {
	uint8_t *ram;
	uint64_t ram_size;
	struct cpu *cpu;
	char out[65536];
	size_t out_len;
	int exited;
	uint32_t exit_code;
	uint64_t unclaimed_io;
	uint8_t intr_vector;
	int ferr_level, ferr_calls; /* the x87's FERR# output */
};

/* ram_size must be a multiple of 64 KiB. Returns 0 or -errno. */
int testbus_init(struct testbus *tb, uint64_t ram_size);
/* The same with a CPU model other than the default (NULL: default). */
int testbus_init_model(struct testbus *tb, uint64_t ram_size,
		       const struct cpu_model *model);
void testbus_free(struct testbus *tb);
/* Runs until the guest writes port 0xf4, halts with interrupts off, shuts
 * down, or `max_insns` pass. Returns the exit reason of the last burst. */
enum cpu_exit testbus_run(struct testbus *tb, uint64_t max_insns);

#endif
