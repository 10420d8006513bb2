/* A guest doing anything at all: random bytes executed as code in real
 * mode, 16- and 32-bit protected mode (with and without paging, with
 * random descriptor tables), under the sanitizers. The emulator must raise
 * guest-visible faults, reset on triple faults and never crash, hang or
 * touch memory outside guest RAM; a run is bounded by its budget. */
#include <stdlib.h>
#include <string.h>

#include "testbus.h"
#include "tests/tap.h"

#define RAM (4u << 20)

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic across runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Puts the vCPU into a mode chosen by `kind` with random registers. */
static void random_state(struct testbus *tb, int kind)
{
	struct x86_state s;
	cpu_reset(tb->cpu);
	cpu_get_state(tb->cpu, &s);
	for (int i = 0; i < 8; i++)
		s.gpr[i] = rnd() & 0xffffffff;
	s.gpr[R_SP] = 0x8000 + (rnd() & 0x7ff0);
	s.rflags = FL_FIXED1 | (rnd() & (FL_ARITH | FL_DF));
	s.rip = 0x10000 + (rnd() & 0xfff);
	for (int i = 0; i < S_NR; i++) {
		s.seg[i].selector = 0;
		s.seg[i].base = 0;
	}
	s.seg[S_CS].selector = 0x1000;
	s.seg[S_CS].base = 0x10000;
	s.rip &= 0xfff;
	if (kind >= 1) {
		/* Protected mode; the GDT and IDT are random bytes in RAM,
		 * so descriptor loads hit every check. */
		uint32_t code_ar = AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_READABLE;
		uint32_t data_ar = AR_P | AR_S | AR_TYPE_WRITABLE;
		if (kind >= 2) {
			code_ar |= AR_DB;
			data_ar |= AR_DB;
		}
		s.cr0 |= CR0_PE;
		s.gdtr.base = 0x20000;
		s.gdtr.limit = 0x3ff;
		s.idtr.base = 0x21000;
		s.idtr.limit = 0x7ff;
		for (int i = 0; i < S_NR; i++) {
			s.seg[i].limit = 0xfffff;
			s.seg[i].ar = data_ar;
			s.seg[i].selector = 0x10;
		}
		s.seg[S_CS].ar = code_ar;
		s.seg[S_CS].selector = 0x08;
		s.seg[S_CS].base = 0x10000;
		s.tr.base = 0x22000;
		s.tr.limit = 0x67 + 0x2000;
		s.tr.ar = AR_P | 0xb;
		s.tr.selector = 0x28;
	}
	if (kind == 3) {
		/* Paging with random page tables over the first 4 MiB. */
		s.cr3 = 0x30000;
		s.cr0 |= CR0_PG;
		s.cr4 = rnd() & (CR4_PSE | CR4_PGE);
	}
	cpu_set_state(tb->cpu, &s);
}

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	uint64_t total = 0, shutdowns = 0;
	static const char *names[] = {"real mode", "16-bit protected",
				      "32-bit protected", "32-bit paged"};

	if (testbus_init(&tb, RAM) != 0)
		return 1;
	for (int kind = 0; kind < 4; kind++) {
		rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)kind;
		for (int round = 0; round < 120; round++) {
			fill_random(tb.ram, RAM);
			if (kind == 3) {
				/* Mostly-present page tables so code runs. */
				uint32_t *pd = (uint32_t *)(tb.ram + 0x30000);
				for (int i = 0; i < 1024; i++)
					pd[i] = (rnd() & 0xfff000 & (RAM - 1)) | (rnd() & 0xff) | 1;
			}
			tb.exited = 0;
			random_state(&tb, kind);
			for (int burst = 0; burst < 20; burst++) {
				enum cpu_exit r = cpu_run(tb.cpu, 500);
				if (r == CPU_EXIT_SHUTDOWN) {
					shutdowns++;
					break;
				}
				if (r == CPU_EXIT_HALT) {
					/* Wake it: an interrupt with IF
					 * clear would never come. */
					struct x86_state s;
					cpu_get_state(tb.cpu, &s);
					s.ev.halted = 0;
					cpu_set_state(tb.cpu, &s);
				}
				tb.exited = 0;
			}
			total += 1;
		}
		tap_ok(&t, 1, "%s: 120 random programs ran without a host fault",
		       names[kind]);
	}
	tap_diag("%llu programs, %llu instructions, %llu triple faults",
		 (unsigned long long)total,
		 (unsigned long long)cpu_icount(tb.cpu),
		 (unsigned long long)shutdowns);
	testbus_free(&tb);
	return tap_done(&t);
}
