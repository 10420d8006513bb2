/* Helpers for the instruction tests (tests/cpu/insn_*.c): run a snippet of
 * hand-assembled bytes on the test machine in real mode or in flat 32-bit
 * protected mode, and report which exception, if any, it raised.
 *
 * Layout of the 1 MiB test machine: IVT at 0, real-mode exception stubs at
 * 0x600, GDT at 0x800, IDT at 0x900, protected-mode stubs at 0xc00, code
 * at 0x1000, stacks below 0x7000 (ring 0) and 0x8000, data from 0x2000,
 * the TSS and its I/O bitmap at 0x10000. Each exception stub prints its
 * vector on port 0xe9 and ends the run; a snippet that completes ends with
 * OUT 0xf4, AL appended by tcpu_run(). */
#ifndef V2E_TESTS_CPU_INSN_UTIL_H
#define V2E_TESTS_CPU_INSN_UTIL_H

#include <stdio.h>
#include <string.h>

#include "testbus.h"
#include "tests/tap.h"

#define T_CODE 0x1000
#define T_RSTUB 0x600
#define T_GDT 0x800
#define T_IDT 0x900
#define T_PSTUB 0xc00
#define T_TSS 0x10000
#define T_TSS_LIMIT_FULL (0x68 + 0x2000) /* bitmap + the trailing 0xff */

#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b
#define SEL_DATA3 0x23
#define SEL_TSS 0x28

/* Arithmetic flags, for comparisons. */
#define T_ARITH 0x8d5u

static inline void t_put32(struct testbus *tb, uint64_t a, uint32_t v)
{
	memcpy(tb->ram + a, &v, 4);
}

static inline uint32_t t_get32(struct testbus *tb, uint64_t a)
{
	uint32_t v;
	memcpy(&v, tb->ram + a, 4);
	return v;
}

static inline uint16_t t_get16(struct testbus *tb, uint64_t a)
{
	uint16_t v;
	memcpy(&v, tb->ram + a, 2);
	return v;
}

static inline void t_seg(struct x86_segment *s, uint16_t sel, uint64_t base,
			 uint32_t limit, uint32_t ar)
{
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->ar = ar;
}

/* Real mode at 0:T_CODE, SS:SP = 0:0x8000, DS = ES = 0, IVT entries for
 * vectors 0-31 pointing to stubs: push ax; mov al, v; out 0xe9, al; pop ax;
 * out 0xf4, al. */
static inline void tcpu_real(struct testbus *tb, struct x86_state *s)
{
	for (unsigned v = 0; v < 32; v++) {
		uint8_t *p = tb->ram + T_RSTUB + v * 8;
		static const uint8_t stub[8] = {0x50, 0xb0, 0, 0xe6, 0xe9,
						0x58, 0xe6, 0xf4};
		memcpy(p, stub, 8);
		p[2] = (uint8_t)v;
		t_put32(tb, v * 4, (uint32_t)(T_RSTUB + v * 8));
	}
	cpu_reset(tb->cpu);
	cpu_get_state(tb->cpu, s);
	for (int i = 0; i < S_NR; i++)
		t_seg(&s->seg[i], 0, 0, 0xffff,
		      AR_P | AR_S | AR_TYPE_WRITABLE | AR_TYPE_ACCESSED);
	s->seg[S_CS].ar = AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_READABLE |
			  AR_TYPE_ACCESSED;
	s->idtr.base = 0;
	s->idtr.limit = 0x3ff;
	s->gpr[R_SP] = 0x8000;
	s->rip = T_CODE;
	s->rflags = 0x2;
}

/* Flat 32-bit protected mode at privilege `cpl` (0 or 3) with IOPL
 * `iopl`: GDT, an IDT of interrupt gates to stubs that print the vector
 * (mov al, v; out 0xe9, al; out 0xf4, al), and a busy 32-bit TSS with ring
 * 0 stack and an all-clear I/O bitmap. */
static inline void tcpu_pm32(struct testbus *tb, struct x86_state *s,
			     unsigned cpl, unsigned iopl)
{
	static const uint32_t gdt[] = {
		0, 0,
		0x0000ffff, 0x00cf9a00, /* 0x08 code, DPL 0 */
		0x0000ffff, 0x00cf9200, /* 0x10 data, DPL 0 */
		0x0000ffff, 0x00cffa00, /* 0x18 code, DPL 3 */
		0x0000ffff, 0x00cff200, /* 0x20 data, DPL 3 */
	};
	uint32_t code_ar = 0xb | AR_S | AR_P | AR_DB | AR_G;
	uint32_t data_ar = 0x3 | AR_S | AR_P | AR_DB | AR_G;
	uint32_t lim = T_TSS_LIMIT_FULL;

	memcpy(tb->ram + T_GDT, gdt, sizeof(gdt));
	/* 0x28: the TSS, busy. */
	t_put32(tb, T_GDT + 0x28, ((T_TSS & 0xffff) << 16) | (lim & 0xffff));
	t_put32(tb, T_GDT + 0x2c, ((T_TSS >> 16) & 0xff) | 0x8b00 |
					  (lim & 0xf0000) | (T_TSS & 0xff000000u));
	for (unsigned v = 0; v < 32; v++) {
		uint32_t off = T_PSTUB + v * 8;
		uint8_t *p = tb->ram + off;
		static const uint8_t stub[6] = {0xb0, 0, 0xe6, 0xe9, 0xe6, 0xf4};
		memcpy(p, stub, 6);
		p[1] = (uint8_t)v;
		t_put32(tb, T_IDT + v * 8, (SEL_CODE0 << 16) | (off & 0xffff));
		t_put32(tb, T_IDT + v * 8 + 4, (off & 0xffff0000u) | 0x8e00);
	}
	memset(tb->ram + T_TSS, 0, T_TSS_LIMIT_FULL + 1);
	t_put32(tb, T_TSS + 4, 0x7000); /* ESP0 */
	t_put32(tb, T_TSS + 8, SEL_DATA0); /* SS0 */
	t_put32(tb, T_TSS + 0x64, 0x68u << 16); /* I/O map base */
	tb->ram[T_TSS + T_TSS_LIMIT_FULL] = 0xff;

	cpu_reset(tb->cpu);
	cpu_get_state(tb->cpu, s);
	s->cr0 |= CR0_PE;
	s->gdtr.base = T_GDT;
	s->gdtr.limit = 0x2f;
	s->idtr.base = T_IDT;
	s->idtr.limit = 32 * 8 - 1;
	for (int i = 0; i < S_NR; i++)
		t_seg(&s->seg[i], cpl ? SEL_DATA3 : SEL_DATA0, 0, 0xffffffffu,
		      data_ar | (cpl << AR_DPL_SHIFT));
	t_seg(&s->seg[S_CS], cpl ? SEL_CODE3 : SEL_CODE0, 0, 0xffffffffu,
	      code_ar | (cpl << AR_DPL_SHIFT));
	t_seg(&s->tr, SEL_TSS, T_TSS, lim, 0xb | AR_P);
	s->gpr[R_SP] = 0x8000;
	s->rip = T_CODE;
	s->rflags = 0x2 | ((uint64_t)iopl << FL_IOPL_SHIFT);
}

/* Runs `code` (with OUT 0xf4, AL appended) from state *s and stores the
 * final state back. Returns the exception vector raised, or -1. */
static inline int tcpu_run(struct testbus *tb, struct x86_state *s,
			   const uint8_t *code, size_t len)
{
	static const uint8_t tail[] = {0xe6, 0xf4};
	memcpy(tb->ram + T_CODE, code, len);
	memcpy(tb->ram + T_CODE + len, tail, sizeof(tail));
	s->rip = T_CODE;
	cpu_set_state(tb->cpu, s);
	tb->exited = 0;
	tb->out_len = 0;
	testbus_run(tb, 1000000);
	cpu_get_state(tb->cpu, s);
	if (!tb->exited)
		return -2;
	return tb->out_len ? (uint8_t)tb->out[0] : -1;
}

/* After a real-mode exception: the IP of the faulting instruction, from
 * the frame the stub left on the stack. */
static inline uint16_t t_real_fault_ip(struct testbus *tb,
				       const struct x86_state *s)
{
	return t_get16(tb, s->seg[S_SS].base + (s->gpr[R_SP] & 0xffff));
}


/* A register-only instruction and what the host CPU (x86-64) produced for
 * it from the same inputs: bytes assembled for 16-bit and 32-bit code,
 * EAX ECX EDX EBX and the arithmetic flags in and out, or `fault` for #DE.
 * The tables were generated by running each instruction natively. */
struct tvec {
	const char *name;
	uint8_t code16[16];
	uint8_t len16;
	uint8_t code32[16];
	uint8_t len32;
	uint32_t a, c, d, b, f;
	uint8_t fault;
	uint32_t ra, rc, rd, rb, rf;
};

/* tcpu_pm32() at CPL 0 with paging on: a page directory at T_PDIR whose
 * first table (T_PTAB) maps `n_ptes` pages, page i to physical page
 * i mod 256: the first MiB to itself, any further MiB onto it again. */
#define T_PDIR 0x20000
#define T_PTAB 0x21000
static inline void tcpu_pm32_paged(struct testbus *tb, struct x86_state *s,
				   unsigned n_ptes)
{
	tcpu_pm32(tb, s, 0, 0);
	memset(tb->ram + T_PDIR, 0, 4096);
	t_put32(tb, T_PDIR, T_PTAB | 3);
	for (unsigned i = 0; i < n_ptes && i < 1024; i++)
		t_put32(tb, T_PTAB + i * 4, (i & 255) * 0x1000 | 3);
	s->cr3 = T_PDIR;
	s->cr0 |= CR0_PG;
}

/* Runs every vector in real mode and in 32-bit protected mode; one TAP
 * line per mode summarizing the table, with each mismatch as a diagnostic. */
static inline void tvec_run(struct tap *t, struct testbus *tb, const char *what,
			    const struct tvec *v, size_t n, uint32_t fmask)
{
	for (int pm = 0; pm < 2; pm++) {
		unsigned bad = 0;
		for (size_t i = 0; i < n; i++) {
			struct x86_state s;
			int vec;
			if (pm)
				tcpu_pm32(tb, &s, 0, 0);
			else
				tcpu_real(tb, &s);
			s.gpr[R_AX] = v[i].a;
			s.gpr[R_CX] = v[i].c;
			s.gpr[R_DX] = v[i].d;
			s.gpr[R_BX] = v[i].b;
			s.rflags = 0x2 | v[i].f;
			vec = pm ? tcpu_run(tb, &s, v[i].code32, v[i].len32)
				 : tcpu_run(tb, &s, v[i].code16, v[i].len16);
			if (v[i].fault) {
				if (vec != EXC_DE) {
					bad++;
					tap_diag("%s [%zu] %s: expected #DE, got %d",
						 pm ? "pm32" : "real", i, v[i].name, vec);
				}
				continue;
			}
			if (vec != -1 || (uint32_t)s.gpr[R_AX] != v[i].ra ||
			    (uint32_t)s.gpr[R_CX] != v[i].rc ||
			    (uint32_t)s.gpr[R_DX] != v[i].rd ||
			    (uint32_t)s.gpr[R_BX] != v[i].rb ||
			    ((s.rflags ^ v[i].rf) & fmask)) {
				bad++;
				tap_diag("%s [%zu] %s (a=%#x c=%#x d=%#x f=%#x): "
					 "got vec %d a=%#x c=%#x d=%#x b=%#x f=%#x, "
					 "want a=%#x c=%#x d=%#x b=%#x f=%#x",
					 pm ? "pm32" : "real", i, v[i].name, v[i].a,
					 v[i].c, v[i].d, v[i].f, vec,
					 (uint32_t)s.gpr[R_AX], (uint32_t)s.gpr[R_CX],
					 (uint32_t)s.gpr[R_DX], (uint32_t)s.gpr[R_BX],
					 (uint32_t)(s.rflags & T_ARITH), v[i].ra,
					 v[i].rc, v[i].rd, v[i].rb, v[i].rf);
			}
		}
		tap_ok(t, bad == 0, "%s: %zu host-checked vectors in %s mode, %u wrong",
		       what, n, pm ? "32-bit protected" : "real", bad);
	}
}

#define AX(s) ((s).gpr[R_AX] & 0xffff)
#define EAX(s) ((uint32_t)(s).gpr[R_AX])

#endif
