/* Unit tests of the MMX/SSE/SSE2 rules a differential run on the host
 * cannot grade (Intel SDM vol. 3, 2.5 and 13.1-13.2; vol. 2, the
 * exception tables of each instruction): CR0.EM (#UD), CR4.OSFXSR (#UD for
 * SSE/SSE2 only), CR0.TS (#NM), a pending x87 exception (#MF before MMX
 * instructions only), unmasked SIMD exceptions (#XM with
 * CR4.OSXMMEXCPT, #UD without, destination untouched), 16-byte alignment
 * (#GP) of the aligned forms and packed operands, LDMXCSR's reserved bits
 * (#GP), page faults in the middle of an operand (nothing committed), the
 * MMX/x87 aliasing (TOP, tags, exponent) and EMMS, and the
 * instructions outside those rules (MOVNTI, CLFLUSH, the fences). */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "testbus.h"
#include "tests/tap.h"

#define RAM (2u << 20)
#define CODE32 0x10000u

/* The bare test machine (testbus.c), which also records FERR#. */
struct ut {
	struct testbus tb;
};

static int ut_init(struct ut *u)
{
	struct cpu_model m;
	cpu_model_default(&m);
	m.features_edx |= 1u | 1u << 23 | 1u << 24 | 1u << 25 | 1u << 26;
	return testbus_init_model(&u->tb, RAM, &m) == 0 ? 0 : -1;
}

static void ut_free(struct ut *u)
{
	testbus_free(&u->tb);
}

/* 32-bit flat protected mode (diff.h), the stack and code of these tests. */
static void prot_mode(struct ut *u, struct x86_state *s, uint32_t cr0)
{
	cpu_reset(u->tb.cpu);
	cpu_get_state(u->tb.cpu, s);
	diff_flat32(u->tb.ram, s, cr0);
	s->gpr[R_SP] = 0x9000;
	s->rip = CODE32;
}

/* Runs `n` instructions of `code` placed at the state's CS:IP; returns
 * the vector raised (-1 none). */
static int run(struct ut *u, struct x86_state *s, const char *code,
	       unsigned len, unsigned n)
{
	uint64_t lin = s->seg[S_CS].base + s->rip;
	memcpy(u->tb.ram + lin, code, len);
	cpu_set_state(u->tb.cpu, s);
	for (unsigned i = 0; i < n; i++) {
		uint64_t rip;
		cpu_run(u->tb.cpu, 1);
		cpu_get_state(u->tb.cpu, s);
		rip = s->rip;
		if (diff_vector_at(rip) >= 0)
			return diff_vector_at(rip);
	}
	return -1;
}


#define C(s) s, sizeof(s) - 1

/* 32-bit protected mode with the given CR0 extras and CR4; MXCSR default,
 * x87 initialised. */
static void setup(struct ut *u, struct x86_state *s, uint32_t cr0,
		  uint64_t cr4)
{
	uint32_t mx = 0x1f80;
	uint16_t cw = 0x037f;
	prot_mode(u, s, cr0 | CR0_NE | CR0_MP);
	s->cr4 = cr4;
	memset(s->fxsave, 0, sizeof(s->fxsave));
	memcpy(s->fxsave, &cw, 2);
	memcpy(s->fxsave + 24, &mx, 4);
}

struct rule {
	const char *name;
	const char *code;
	unsigned len;
	bool sse;  /* gated by CR4.OSFXSR */
	bool mmx;  /* MMX register: #MF for a pending x87 exception */
	bool exempt; /* no CR0/CR4 rules at all */
};

static const struct rule rules[] = {
	{ "addps xmm0, xmm1", C("\x0f\x58\xc1"), true, false, false },
	{ "addsd xmm0, xmm1", C("\xf2\x0f\x58\xc1"), true, false, false },
	{ "paddd xmm0, xmm1", C("\x66\x0f\xfe\xc1"), true, false, false },
	{ "movaps xmm0, xmm1", C("\x0f\x28\xc1"), true, false, false },
	{ "cvtpi2ps xmm0, mm1", C("\x0f\x2a\xc1"), true, true, false },
	{ "movq2dq xmm0, mm1", C("\xf3\x0f\xd6\xc1"), true, true, false },
	{ "ldmxcsr [0x100]", C("\x0f\xae\x15\x00\x01\x00\x00"), true, false, false },
	{ "paddb mm0, mm1", C("\x0f\xfc\xc1"), false, true, false },
	{ "pshufw mm0, mm1, 0", C("\x0f\x70\xc1\x00"), false, true, false },
	{ "movd mm0, eax", C("\x0f\x6e\xc0"), false, true, false },
	{ "psllq mm0, 3", C("\x0f\x73\xf0\x03"), false, true, false },
	{ "emms", C("\x0f\x77"), false, true, false },
	{ "movnti [0x100], eax", C("\x0f\xc3\x05\x00\x01\x00\x00"), false, false, true },
	{ "clflush [0x100]", C("\x0f\xae\x3d\x00\x01\x00\x00"), false, false, true },
	{ "lfence", C("\x0f\xae\xe8"), false, false, true },
	{ "mfence", C("\x0f\xae\xf0"), false, false, true },
	{ "sfence", C("\x0f\xae\xf8"), false, false, true },
};

static void test_rules(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	uint32_t mx = 0x1f80;

	if (ut_init(&u))
		return;
	memcpy(u.tb.ram + 0x100, &mx, 4);
	for (unsigned i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];
		int v, exp;

		setup(&u, &s, CR0_EM, CR4_OSFXSR);
		v = run(&u, &s, r->code, r->len, 1);
		exp = r->exempt ? -1 : EXC_UD;
		tap_ok(t, v == exp, "%s with CR0.EM: %s", r->name, diff_vector_name(v));

		setup(&u, &s, 0, 0);
		v = run(&u, &s, r->code, r->len, 1);
		exp = r->sse ? EXC_UD : -1;
		tap_ok(t, v == exp, "%s without CR4.OSFXSR: %s", r->name,
		       diff_vector_name(v));

		setup(&u, &s, CR0_TS, CR4_OSFXSR);
		v = run(&u, &s, r->code, r->len, 1);
		exp = r->exempt ? -1 : EXC_NM;
		tap_ok(t, v == exp, "%s with CR0.TS: %s", r->name, diff_vector_name(v));

		/* a pending unmasked x87 exception (ZE, ES) */
		setup(&u, &s, 0, CR4_OSFXSR);
		s.fxsave[0] = 0x7b;
		s.fxsave[2] = 0x84;
		s.fxsave[3] = 0x80;
		v = run(&u, &s, r->code, r->len, 1);
		exp = r->mmx ? EXC_MF : -1;
		tap_ok(t, v == exp, "%s with a pending x87 exception: %s", r->name,
		       diff_vector_name(v));
	}
	ut_free(&u);
}

static void put_ps(struct x86_state *s, unsigned reg, float a, float b,
		   float c, float d)
{
	float v[4] = {a, b, c, d};
	memcpy(s->fxsave + 160 + 16 * reg, v, 16);
}

static void test_xm(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	uint32_t mx;
	float r[4];
	int v;

	if (ut_init(&u))
		return;
	for (unsigned osx = 0; osx < 2; osx++) {
		setup(&u, &s, 0, CR4_OSFXSR | (osx ? CR4_OSXMMEXCPT : 0));
		mx = 0x1f80 & ~0x200u; /* ZM clear */
		memcpy(s.fxsave + 24, &mx, 4);
		put_ps(&s, 0, 1, 2, 3, 4);
		put_ps(&s, 1, 1, 0, 1, 1);
		v = run(&u, &s, C("\x0f\x5e\xc1"), 1); /* divps xmm0, xmm1 */
		memcpy(r, s.fxsave + 160, 16);
		memcpy(&mx, s.fxsave + 24, 4);
		tap_ok(t, v == (osx ? EXC_XM : EXC_UD),
		       "divps by zero, ZM clear, OSXMMEXCPT=%u: %s", osx,
		       diff_vector_name(v));
		tap_ok(t, r[0] == 1 && r[1] == 2 && r[2] == 3 && r[3] == 4,
		       "  destination untouched");
		tap_ok(t, (mx & 0x3f) == 0x04, "  MXCSR.ZE set (%04x)", mx);
	}
	/* masked: the result is written, ZE set */
	setup(&u, &s, 0, CR4_OSFXSR);
	put_ps(&s, 0, 1, 2, 3, 4);
	put_ps(&s, 1, 1, 0, 1, 1);
	v = run(&u, &s, C("\x0f\x5e\xc1"), 1);
	memcpy(r, s.fxsave + 160, 16);
	memcpy(&mx, s.fxsave + 24, 4);
	tap_ok(t, v < 0 && r[0] == 1 && r[1] > 1e38f && (mx & 0x3f) == 0x04,
	       "divps by zero masked: inf, ZE (%04x)", mx);
	ut_free(&u);
}

static void test_align(struct tap *t)
{
	static const struct {
		const char *name, *code;
		unsigned len;
		bool aligned;
	} f[] = {
		{ "movaps xmm0, [0x108]", C("\x0f\x28\x05\x08\x01\x00\x00"), true },
		{ "movaps [0x108], xmm0", C("\x0f\x29\x05\x08\x01\x00\x00"), true },
		{ "movapd xmm0, [0x108]", C("\x66\x0f\x28\x05\x08\x01\x00\x00"), true },
		{ "movdqa xmm0, [0x108]", C("\x66\x0f\x6f\x05\x08\x01\x00\x00"), true },
		{ "movntps [0x108], xmm0", C("\x0f\x2b\x05\x08\x01\x00\x00"), true },
		{ "addps xmm0, [0x108]", C("\x0f\x58\x05\x08\x01\x00\x00"), true },
		{ "paddb xmm0, [0x108]", C("\x66\x0f\xfc\x05\x08\x01\x00\x00"), true },
		{ "pshufd xmm0, [0x108], 0", C("\x66\x0f\x70\x05\x08\x01\x00\x00\x00"), true },
		{ "movups xmm0, [0x108]", C("\x0f\x10\x05\x08\x01\x00\x00"), false },
		{ "movdqu xmm0, [0x108]", C("\xf3\x0f\x6f\x05\x08\x01\x00\x00"), false },
		{ "addss xmm0, [0x101]", C("\xf3\x0f\x58\x05\x01\x01\x00\x00"), false },
		{ "movlps xmm0, [0x108]", C("\x0f\x12\x05\x08\x01\x00\x00"), false },
		{ "paddb mm0, [0x101]", C("\x0f\xfc\x05\x01\x01\x00\x00"), false },
	};
	struct ut u;
	struct x86_state s;

	if (ut_init(&u))
		return;
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		int v;
		setup(&u, &s, 0, CR4_OSFXSR);
		v = run(&u, &s, f[i].code, f[i].len, 1);
		tap_ok(t, v == (f[i].aligned ? EXC_GP : -1), "%s: %s", f[i].name,
		       diff_vector_name(v));
	}
	ut_free(&u);
}

static void test_mxcsr_mmx(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	uint32_t mx;
	uint16_t sw;
	int v;

	if (ut_init(&u))
		return;
	mx = 0x10000 | 0x1f80;
	memcpy(u.tb.ram + 0x100, &mx, 4);
	setup(&u, &s, 0, CR4_OSFXSR);
	v = run(&u, &s, C("\x0f\xae\x15\x00\x01\x00\x00"), 1);
	tap_ok(t, v == EXC_GP, "ldmxcsr with a reserved bit: %s", diff_vector_name(v));
	mx = 0x1f80 | 0x8040 | 0x6000;
	memcpy(u.tb.ram + 0x100, &mx, 4);
	setup(&u, &s, 0, CR4_OSFXSR);
	v = run(&u, &s, C("\x0f\xae\x15\x00\x01\x00\x00\x0f\xae\x1d\x04\x01\x00\x00"), 2);
	memcpy(&mx, u.tb.ram + 0x104, 4);
	tap_ok(t, v < 0 && mx == 0xffc0, "ldmxcsr/stmxcsr with DAZ FTZ RC: %04x", mx);

	/* MMX aliasing: TOP=5, some tags empty; movd mm3, eax */
	setup(&u, &s, 0, CR4_OSFXSR);
	s.fxsave[3] = 5 << 3;
	s.fxsave[4] = 0x0f;
	s.gpr[R_AX] = 0x12345678;
	v = run(&u, &s, C("\x0f\x6e\xd8"), 1);
	memcpy(&sw, s.fxsave + 2, 2);
	tap_ok(t, v < 0 && (sw & 0x3800) == 0 && s.fxsave[4] == 0xff,
	       "MMX instruction: TOP 0, all tags valid (fsw %04x ftw %02x)", sw,
	       s.fxsave[4]);
	tap_ok(t, !memcmp(s.fxsave + 32 + 48, "\x78\x56\x34\x12\0\0\0\0\xff\xff", 10),
	       "MM3 is physical register 3 with exponent all ones");
	v = run(&u, &s, C("\x0f\x77"), 1);
	tap_ok(t, v < 0 && s.fxsave[4] == 0, "EMMS: all tags empty");
	ut_free(&u);
}

static void test_cpuid(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	struct cpu_model m;
	uint32_t want = 1u << 23 | 1u << 25 | 1u << 26;

	cpu_model_default(&m);
	tap_ok(t, (m.features_edx & want) == want,
	       "the default model reports MMX, SSE and SSE2 (edx %08x)",
	       m.features_edx);
	if (ut_init(&u))
		return;
	setup(&u, &s, 0, 0);
	s.gpr[R_AX] = CR4_OSFXSR | CR4_OSXMMEXCPT;
	tap_ok(t, run(&u, &s, C("\x0f\x22\xe0"), 1) < 0 &&
		  s.cr4 == (CR4_OSFXSR | CR4_OSXMMEXCPT),
	       "mov cr4 accepts OSXMMEXCPT");
	ut_free(&u);
}

/* Paging with the page at 0x20000 not present: an operand that straddles
 * it faults (#PF) and leaves registers and memory as they were. */
static void paged(struct ut *u, struct x86_state *s)
{
	setup(u, s, CR0_PG, CR4_OSFXSR);
	for (uint32_t i = 0; i < 512; i++) {
		uint32_t e = i == 0x20 ? 0 : (i << 12 | 3);
		memcpy(u->tb.ram + 0x81000 + 4 * i, &e, 4);
	}
	{
		uint32_t e = 0x81000 | 3;
		memset(u->tb.ram + 0x80000, 0, 4096);
		memcpy(u->tb.ram + 0x80000, &e, 4);
	}
	s->cr3 = 0x80000;
}

static void test_pf(struct tap *t)
{
	static const uint8_t pat[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					12, 13, 14, 15, 16};
	struct ut u;
	struct x86_state s;
	uint8_t before[8];
	int v;

	if (ut_init(&u))
		return;
	paged(&u, &s);
	memcpy(s.fxsave + 160, pat, 16);
	v = run(&u, &s, C("\x0f\x10\x05\xf8\xff\x01\x00"), 1); /* movups xmm0, [0x1fff8] */
	tap_ok(t, v == EXC_PF && !memcmp(s.fxsave + 160, pat, 16),
	       "movups load across a missing page: #PF, xmm0 kept (%s)",
	       diff_vector_name(v));
	paged(&u, &s);
	memcpy(before, u.tb.ram + 0x1fff8, 8);
	v = run(&u, &s, C("\x0f\x11\x05\xf8\xff\x01\x00"), 1); /* movups [0x1fff8], xmm0 */
	tap_ok(t, v == EXC_PF && !memcmp(u.tb.ram + 0x1fff8, before, 8),
	       "movups store across a missing page: #PF, nothing written (%s)",
	       diff_vector_name(v));
	paged(&u, &s);
	s.fxsave[3] = 3 << 3;
	s.fxsave[4] = 0x01;
	v = run(&u, &s, C("\x0f\x6f\x05\xfc\xff\x01\x00"), 1); /* movq mm0, [0x1fffc] */
	tap_ok(t, v == EXC_PF && s.fxsave[3] == 3 << 3 && s.fxsave[4] == 0x01,
	       "movq mm0 across a missing page: #PF, x87 TOP and tags kept (%s)",
	       diff_vector_name(v));
	paged(&u, &s);
	memcpy(before, u.tb.ram + 0x1fffc, 4);
	s.gpr[R_DI] = 0x1fffc;
	memset(s.fxsave + 32 + 16, 0xff, 8); /* MM1: every byte selected */
	v = run(&u, &s, C("\x0f\xf7\xc1"), 1); /* maskmovq mm0, mm1 */
	tap_ok(t, v == EXC_PF && !memcmp(u.tb.ram + 0x1fffc, before, 4),
	       "maskmovq across a missing page: #PF, nothing written (%s)",
	       diff_vector_name(v));
	ut_free(&u);
}

int main(void)
{
	struct tap t = {0};

	test_rules(&t);
	test_xm(&t);
	test_align(&t);
	test_mxcsr_mmx(&t);
	test_pf(&t);
	test_cpuid(&t);
	return tap_done(&t);
}
