/* Shared by the differential tests (diff.c against the host CPU in 64-bit
 * mode, diff32.c against qemu-i386 in 32-bit mode): a deterministic random
 * source with a bias towards the edge values where arithmetic goes wrong,
 * and the guest-side exception trap (an IDT whose every vector lands on its
 * own `jmp $`, so RIP after a run says which exception fired). */
#ifndef V2E_TESTS_CPU_DIFF_H
#define V2E_TESTS_CPU_DIFF_H

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/state.h"

struct diff_rng {
	uint64_t s;
};

/* splitmix64: one 64-bit word of state, good enough spread for tests. */
static inline uint64_t diff_rand(struct diff_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t diff_below(struct diff_rng *r, uint64_t n)
{
	return n ? diff_rand(r) % n : 0;
}

/* A value that is an edge case as often as a random one: carries, sign
 * changes and overflows live at 0, +-1 and the sign bits of each width. */
static inline uint64_t diff_value(struct diff_rng *r)
{
	static const uint64_t edge[] = {
		0, 1, 2, ~0ull, ~1ull, 0x7f, 0x80, 0xff, 0x100, 0x7fff,
		0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000ull,
		0xffffffffull, 0x100000000ull, 0x7fffffffffffffffull,
		0x8000000000000000ull, 0xffffffffffffff80ull,
		0xffffffffffff8000ull, 0xffffffff80000000ull, 0x0f, 0x10,
		0x99, 0x09, 0x0a,
	};
	uint64_t v = diff_rand(r);
	switch (diff_below(r, 8)) {
	case 0:
	case 1:
	case 2:
		return edge[diff_below(r, sizeof(edge) / sizeof(edge[0]))];
	case 3:
		return v & 0x1f;
	case 4:
		return (uint64_t)(int64_t)(int8_t)v;
	case 5:
		return (uint64_t)(int64_t)(int32_t)v;
	default:
		return v;
	}
}

/* A shift or rotate count: around 0, 1, the operand width and the masks. */
static inline uint8_t diff_count(struct diff_rng *r, unsigned width)
{
	static const uint8_t base[] = {0, 1, 2, 7, 8, 9, 15, 16, 17,
				       31, 32, 33, 63, 64, 65, 255};
	if (diff_below(r, 4) == 0)
		return (uint8_t)diff_rand(r);
	if (diff_below(r, 4) == 0)
		return (uint8_t)(width + diff_below(r, 3) - 1);
	return base[diff_below(r, sizeof(base))];
}

/* Guest layout shared by both oracles (all inside testbus RAM). */
#define DIFF_IDT 0x1000ull
#define DIFF_GDT 0x1800ull
#define DIFF_HANDLERS 0x2000ull /* vector v's handler at + 4 * v */
#define DIFF_NVEC 32

/* The IDT in the 32-bit protected-mode format (8-byte interrupt gates):
 * the emulator delivers through it in both oracles' modes. Each handler
 * is `jmp $`, so a one-instruction run that faults ends on it. */
static inline void diff_idt_install(uint8_t *ram, uint16_t cs_sel)
{
	for (unsigned v = 0; v < DIFF_NVEC; v++) {
		uint32_t off = (uint32_t)(DIFF_HANDLERS + 4 * v);
		uint32_t lo = (off & 0xffff) | ((uint32_t)cs_sel << 16);
		uint32_t hi = (off & 0xffff0000u) | 0x8e00; /* P, DPL0, int32 */
		memcpy(ram + DIFF_IDT + 8 * v, &lo, 4);
		memcpy(ram + DIFF_IDT + 8 * v + 4, &hi, 4);
		ram[DIFF_HANDLERS + 4 * v] = 0xeb;
		ram[DIFF_HANDLERS + 4 * v + 1] = 0xfe;
	}
}

/* The vector whose handler RIP sits on, or -1. */
static inline int diff_vector_at(uint64_t rip)
{
	if (rip < DIFF_HANDLERS || rip >= DIFF_HANDLERS + 4 * DIFF_NVEC ||
	    (rip & 3))
		return -1;
	return (int)((rip - DIFF_HANDLERS) / 4);
}

static inline void diff_gdt_set(uint8_t *ram, unsigned idx, uint32_t base,
				uint32_t limit, uint32_t access_flags)
{
	/* access_flags: descriptor bits 40-55 (type, S, DPL, P, AVL, L,
	 * D/B, G) as in state.h's AR layout. */
	uint32_t lo = (limit & 0xffff) | (base << 16);
	uint32_t hi = ((base >> 16) & 0xff) | (base & 0xff000000u) |
		      (limit & 0xf0000u) | ((access_flags & 0xf0ff) << 8);
	memcpy(ram + DIFF_GDT + 8 * idx, &lo, 4);
	memcpy(ram + DIFF_GDT + 8 * idx + 4, &hi, 4);
}

static inline const char *diff_vector_name(int v)
{
	static const char *const n[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "#9",  "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
		"#MF", "#AC", "#MC", "#XM",
	};
	if (v < 0)
		return "none";
	if (v < (int)(sizeof(n) / sizeof(n[0])))
		return n[v];
	return "#?";
}


/* Page tables of the long-mode setup: the low 1 GiB identity mapped with
 * 2 MiB pages. */
#define DIFF_PML4 0x4000ull
#define DIFF_PDPT 0x5000ull
#define DIFF_PD 0x6000ull

/* Flat segments for `s`: CS 0x08 with the code attributes `cs_ar`,
 * every data segment 0x10, base 0, limit 4 GiB; the GDT and IDT
 * registers on diff.h's tables (three descriptors, DIFF_NVEC gates). */
static inline void diff_flat_segments(struct x86_state *s, uint32_t cs_ar)
{
	s->gdtr.base = DIFF_GDT;
	s->gdtr.limit = 3 * 8 - 1;
	s->idtr.base = DIFF_IDT;
	s->idtr.limit = DIFF_NVEC * 8 - 1;
	for (int i = 0; i < S_NR; i++) {
		s->seg[i].selector = 0x10;
		s->seg[i].base = 0;
		s->seg[i].limit = 0xffffffff;
		s->seg[i].ar = AR_P | AR_S | AR_TYPE_WRITABLE |
			       AR_TYPE_ACCESSED | AR_DB | AR_G;
	}
	s->seg[S_CS].selector = 0x08;
	s->seg[S_CS].ar = AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_READABLE |
			  AR_TYPE_ACCESSED | cs_ar;
}

/* Puts guest RAM and `s` (read from a fresh vCPU) into flat 32-bit
 * protected mode at CPL 0, paging off: the GDT (0x08 code, 0x10 data),
 * the IDT of diff_idt_install() and CR0.PE|ET plus `cr0`. The unit tests
 * of every instruction group start from here. */
static inline void diff_flat32(uint8_t *ram, struct x86_state *s, uint32_t cr0)
{
	diff_gdt_set(ram, 1, 0, 0xfffff, AR_P | AR_S | AR_TYPE_CODE |
				 AR_TYPE_READABLE | AR_DB | AR_G);
	diff_gdt_set(ram, 2, 0, 0xfffff, AR_P | AR_S | AR_TYPE_WRITABLE |
				 AR_DB | AR_G);
	diff_idt_install(ram, 0x08);
	s->cr0 = CR0_PE | CR0_ET | cr0;
	diff_flat_segments(s, AR_DB | AR_G);
}

/* Puts guest RAM and `s` (read from a fresh vCPU) into 64-bit long mode as
 * the differential tests run it: identity paging, the GDT (0x08 64-bit
 * code, 0x10 data) and the IDT of diff_idt_install(), flat segments.
 * Callers add the CR0/CR4 bits their instructions need. */
static inline void diff_long_mode(uint8_t *ram, struct x86_state *s)
{
	uint64_t e = DIFF_PDPT | 0x7;
	memcpy(ram + DIFF_PML4, &e, 8);
	e = DIFF_PD | 0x7;
	memcpy(ram + DIFF_PDPT, &e, 8);
	for (uint64_t i = 0; i < 512; i++) {
		e = (i << 21) | 0x87;
		memcpy(ram + DIFF_PD + 8 * i, &e, 8);
	}
	diff_gdt_set(ram, 1, 0, 0xfffff, AR_P | AR_S | AR_TYPE_CODE |
				 AR_TYPE_READABLE | AR_L | AR_G);
	diff_gdt_set(ram, 2, 0, 0xfffff, AR_P | AR_S | AR_TYPE_WRITABLE |
				 AR_DB | AR_G);
	diff_idt_install(ram, 0x08);
	s->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE;
	s->cr4 = CR4_PAE;
	s->cr3 = DIFF_PML4;
	s->efer = EFER_LME | EFER_LMA;
	diff_flat_segments(s, AR_L | AR_G);
}

/* The host side of a differential test: 8 KiB of data and a 4 KiB
 * executable page at fixed addresses (the same numbers the emulator sees),
 * an alternate signal stack, and `handler` for every signal an instruction
 * under test can raise. 0, or -1 if the host refuses any of it. */
static inline int diff_host_setup(uint64_t data, uint64_t code, void **data_p,
				  void **code_p, void **altstack,
				  void (*handler)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	stack_t ss;
	void *p;

	p = mmap((void *)(uintptr_t)data, 0x2000, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)(uintptr_t)data)
		return -1;
	*data_p = p;
	p = mmap((void *)(uintptr_t)code, 0x1000,
		 PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)(uintptr_t)code)
		return -1;
	*code_p = p;
	ss.ss_sp = *altstack = malloc(1 << 16);
	ss.ss_size = 1 << 16;
	ss.ss_flags = 0;
	if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGFPE, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL) ||
	    sigaction(SIGILL, &sa, NULL) || sigaction(SIGBUS, &sa, NULL) ||
	    sigaction(SIGTRAP, &sa, NULL))
		return -1;
	return 0;
}

#endif
