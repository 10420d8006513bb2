/* Unit tests of the x87 model (issue 5) that a differential run cannot
 * grade: the CR0.EM/MP/TS rules (#NM, SDM vol. 3 table 2-2), the
 * pending-exception model (#MF at the next waiting instruction with
 * CR0.NE=1, FERR# with CR0.NE=0), the FPU pointers, the four FSTENV/FSAVE
 * layouts (16/32-bit, real/protected; SDM vol. 1 figures 8-9 to 8-12) and
 * their loads, FXSAVE/FXRSTOR gating and alignment, and FISTTP without
 * SSE3. */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "testbus.h"
#include "tests/tap.h"

#define RAM (2u << 20)
#define CODE16 0x7c00u   /* real mode: CS=0x0700 IP=0x0c00 */
#define CODE32 0x10000u
#define IVT_HANDLERS 0x3000u

/* The bare test machine (testbus.c), which also records FERR#. */
struct ut {
	struct testbus tb;
};

static int ut_init(struct ut *u, bool fxsr, bool sse3)
{
	struct cpu_model m;
	cpu_model_default(&m);
	m.features_edx |= 1;
	if (fxsr)
		m.features_edx |= 1u << 24;
	else
		m.features_edx &= ~(1u << 24);
	if (sse3)
		m.features_ecx |= 1;
	return testbus_init_model(&u->tb, RAM, &m) == 0 ? 0 : -1;
}

static void ut_free(struct ut *u)
{
	testbus_free(&u->tb);
}

/* Real mode at 0700:0c00 with DS=0x0050; vector v lands on 0:3000+4v. */
static void real_mode(struct ut *u, struct x86_state *s, uint32_t cr0)
{
	cpu_reset(u->tb.cpu);
	for (unsigned v = 0; v < 32; v++) {
		uint16_t ivt[2] = {(uint16_t)(IVT_HANDLERS + 4 * v), 0};
		memcpy(u->tb.ram + 4 * v, ivt, 4);
		u->tb.ram[IVT_HANDLERS + 4 * v] = 0xeb;
		u->tb.ram[IVT_HANDLERS + 4 * v + 1] = 0xfe;
	}
	cpu_get_state(u->tb.cpu, s);
	s->cr0 = CR0_ET | cr0;
	s->seg[S_CS].selector = 0x0700;
	s->seg[S_CS].base = 0x7000;
	s->seg[S_DS].selector = 0x0050;
	s->seg[S_DS].base = 0x500;
	s->seg[S_SS].base = 0;
	s->seg[S_SS].selector = 0;
	s->gpr[R_SP] = 0x7000;
	s->rip = 0x0c00;
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
	bool real = !(s->cr0 & CR0_PE);
	memcpy(u->tb.ram + lin, code, len);
	cpu_set_state(u->tb.cpu, s);
	for (unsigned i = 0; i < n; i++) {
		uint64_t rip;
		cpu_run(u->tb.cpu, 1);
		cpu_get_state(u->tb.cpu, s);
		rip = s->rip;
		if (real && s->seg[S_CS].base == 0 && rip >= IVT_HANDLERS &&
		    rip < IVT_HANDLERS + 128)
			return (int)(rip - IVT_HANDLERS) / 4;
		if (!real && diff_vector_at(rip) >= 0)
			return diff_vector_at(rip);
	}
	return -1;
}

static uint16_t w16(const struct ut *u, uint32_t a)
{
	uint16_t v;
	memcpy(&v, u->tb.ram + a, 2);
	return v;
}
static uint32_t w32(const struct ut *u, uint32_t a)
{
	uint32_t v;
	memcpy(&v, u->tb.ram + a, 4);
	return v;
}
static uint16_t fsw(const struct x86_state *s)
{
	return (uint16_t)(s->fxsave[2] | s->fxsave[3] << 8);
}

static void test_nm(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	if (ut_init(&u, true, false))
		return;
	for (unsigned c = 0; c < 8; c++) {
		uint32_t cr0 = (c & 1 ? CR0_MP : 0) | (c & 2 ? CR0_EM : 0) |
			       (c & 4 ? CR0_TS : 0);
		int esc_exp = (cr0 & (CR0_EM | CR0_TS)) ? EXC_NM : -1;
		int wait_exp = (cr0 & CR0_MP) && (cr0 & CR0_TS) ? EXC_NM : -1;
		int v;
		real_mode(&u, &s, cr0 | CR0_NE);
		v = run(&u, &s, "\xd9\xe8", 2, 1); /* fld1 */
		tap_ok(t, v == esc_exp, "#NM: fld1 with MP=%u EM=%u TS=%u: %s",
		       c & 1, c >> 1 & 1, c >> 2, diff_vector_name(v));
		real_mode(&u, &s, cr0 | CR0_NE);
		v = run(&u, &s, "\x9b", 1, 1);
		tap_ok(t, v == wait_exp, "#NM: fwait with MP=%u EM=%u TS=%u: %s",
		       c & 1, c >> 1 & 1, c >> 2, diff_vector_name(v));
		real_mode(&u, &s, cr0 | CR0_NE);
		v = run(&u, &s, "\x0f\xae\x06\x00\x01", 5, 1); /* fxsave [0x100] */
		tap_ok(t, v == esc_exp, "#NM: fxsave with MP=%u EM=%u TS=%u: %s",
		       c & 1, c >> 1 & 1, c >> 2, diff_vector_name(v));
	}
	/* FNINIT and FNSTSW are non-waiting but still escape opcodes */
	real_mode(&u, &s, CR0_TS | CR0_NE);
	tap_ok(t, run(&u, &s, "\xdb\xe3", 2, 1) == EXC_NM, "#NM: fninit with TS");
	ut_free(&u);
}

/* fninit; fldcw [0x100] (ZE unmasked); fldz; fld1; fdiv st0, st1 */
static const char div0[] = "\xdb\xe3\xd9\x2e\x00\x01\xd9\xee\xd9\xe8\xd8\xf1";

static void test_pending(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	int v;
	uint64_t rip;

	if (ut_init(&u, true, false))
		return;
	real_mode(&u, &s, CR0_NE);
	memcpy(u.tb.ram + 0x600, "\x7b\x03", 2);
	v = run(&u, &s, div0, sizeof(div0) - 1, 5);
	tap_ok(t, v < 0 && (fsw(&s) & 0x8085) == 0x8084,
	       "unmasked #Z: no fault yet, ZE ES B set (fsw %04x)", fsw(&s));
	rip = s.rip;
	v = run(&u, &s, "\xdf\xe0\xd9\xe8", 4, 2); /* fnstsw ax; fld1 */
	tap_ok(t, (uint16_t)s.gpr[R_AX] == fsw(&s), "fnstsw ax runs past it");
	tap_ok(t, v == EXC_MF, "next waiting instruction raises #MF: %s",
	       diff_vector_name(v));
	{
		uint16_t ret_ip;
		memcpy(&ret_ip, u.tb.ram + s.gpr[R_SP], 2);
		tap_ok(t, ret_ip == rip + 2, "#MF is a fault on that instruction");
	}
	real_mode(&u, &s, CR0_NE);
	v = run(&u, &s, div0, sizeof(div0) - 1, 5);
	v = run(&u, &s, "\x9b", 1, 1);
	tap_ok(t, v == EXC_MF, "fwait raises #MF too: %s", diff_vector_name(v));
	real_mode(&u, &s, CR0_NE);
	v = run(&u, &s, div0, sizeof(div0) - 1, 5);
	v = run(&u, &s, "\xdb\xe2\xd9\xe8", 4, 2); /* fnclex; fld1 */
	tap_ok(t, v < 0 && !(fsw(&s) & 0x80ff), "fnclex clears it");
	/* FLDCW unmasking a flag that is already set makes it pending. */
	real_mode(&u, &s, CR0_NE);
	memcpy(u.tb.ram + 0x600, "\x7f\x03\x7b\x03", 4);
	/* fninit; fldcw [0x100]; fldz; fld1; fdiv st0,st1; fldcw [0x102]; fld1 */
	v = run(&u, &s, "\xdb\xe3\xd9\x2e\x00\x01\xd9\xee\xd9\xe8\xd8\xf1"
			"\xd9\x2e\x02\x01\xd9\xe8", 18, 7);
	tap_ok(t, v == EXC_MF, "FLDCW unmasking a set flag: #MF at the next "
	       "instruction: %s", diff_vector_name(v));

	/* CR0.NE=0: FERR# at the next waiting instruction, which goes on. */
	real_mode(&u, &s, 0);
	memcpy(u.tb.ram + 0x600, "\x7b\x03", 2);
	u.tb.ferr_calls = 0;
	v = run(&u, &s, div0, sizeof(div0) - 1, 5);
	tap_ok(t, v < 0 && u.tb.ferr_calls == 0, "NE=0: nothing at the error itself");
	v = run(&u, &s, "\xd9\xe8", 2, 1);
	tap_ok(t, v < 0 && u.tb.ferr_level == 1, "NE=0: next fld1 asserts FERR# and runs");
	tap_ok(t, ((fsw(&s) >> 11) & 7) == 5 && (fsw(&s) & 0x8084) == 0x8084,
	       "NE=0: the fld1 pushed (top %u), ZE still pending (fsw %04x)",
	       (fsw(&s) >> 11) & 7, fsw(&s));
	v = run(&u, &s, "\xdb\xe2", 2, 1);
	tap_ok(t, v < 0 && u.tb.ferr_level == 0, "NE=0: fnclex drops FERR#");
	real_mode(&u, &s, 0);
	v = run(&u, &s, div0, sizeof(div0) - 1, 5);
	v = run(&u, &s, "\x9b\xdb\xe3", 3, 2);
	tap_ok(t, u.tb.ferr_level == 0 && !(fsw(&s) & 0x8000),
	       "NE=0: fwait asserts, fninit drops FERR#");
	ut_free(&u);
}

/* The layouts, filled after `fld dword [0x100]` (D9 06 0001, FOP 0x106). */
static void test_env(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	int v;

	if (ut_init(&u, true, false))
		return;
	/* 16-bit real: linear FIP 0x7c02, FDP 0x600 (1.0f there) */
	memcpy(u.tb.ram + 0x600, "\x00\x00\x80\x3f", 4);
	real_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\xdb\xe3\xd9\x06\x00\x01\xd9\x36\x00\x02", 10, 3);
	tap_ok(t, v < 0 && w16(&u, 0x700) == 0x037f &&
		       w16(&u, 0x702) == 0x3800 && w16(&u, 0x704) == 0x3fff &&
		       w16(&u, 0x706) == 0x7c02 && w16(&u, 0x708) == 0x0106 &&
		       w16(&u, 0x70a) == 0x0600 && w16(&u, 0x70c) == 0,
	       "fnstenv 16-bit real: %04x %04x %04x %04x %04x %04x %04x",
	       w16(&u, 0x700), w16(&u, 0x702), w16(&u, 0x704), w16(&u, 0x706),
	       w16(&u, 0x708), w16(&u, 0x70a), w16(&u, 0x70c));
	/* 32-bit real (operand-size prefix), with CS putting FIP above 64K */
	real_mode(&u, &s, CR0_NE);
	s.seg[S_CS].selector = 0x1700;
	s.seg[S_CS].base = 0x17000;
	v = run(&u, &s, "\xdb\xe3\xd9\x06\x00\x01\x66\xd9\x36\x00\x02", 11, 3);
	tap_ok(t, v < 0 && w32(&u, 0x700) == 0xffff037f &&
		       w32(&u, 0x704) == 0xffff3800 && w32(&u, 0x708) == 0xffff3fff &&
		       w32(&u, 0x70c) == 0xffff7c02 &&
		       w32(&u, 0x710) == (0x1u << 12 | 0x106) &&
		       w32(&u, 0x714) == 0xffff0600 && w32(&u, 0x718) == 0,
	       "fnstenv 32-bit real: %08x %08x %08x %08x %08x %08x %08x",
	       w32(&u, 0x700), w32(&u, 0x704), w32(&u, 0x708), w32(&u, 0x70c),
	       w32(&u, 0x710), w32(&u, 0x714), w32(&u, 0x718));
	/* FLDENV of the 32-bit real image brings the pointers back. */
	v = run(&u, &s, "\xdb\xe3\x66\xd9\x26\x00\x02\x66\xd9\x36\x00\x03", 12, 3);
	tap_ok(t, v < 0 && !memcmp(u.tb.ram + 0x700, u.tb.ram + 0x800, 28),
	       "fldenv/fnstenv 32-bit real round trip");

	/* 32-bit protected: FIP offset, FCS, FOP, FDP, FDS */
	prot_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\xdb\xe3\xd9\x05\x00\x11\x00\x00\xd9\x35\x00\x20\x00\x00",
		14, 3);
	tap_ok(t, v < 0 && w32(&u, 0x2000) == 0xffff037f &&
		       w32(&u, 0x200c) == CODE32 + 2 &&
		       w32(&u, 0x2010) == (0x105u << 16 | 0x08) &&
		       w32(&u, 0x2014) == 0x1100 && w32(&u, 0x2018) == 0xffff0010,
	       "fnstenv 32-bit protected: fip %08x cs/fop %08x fdp %08x fds %08x",
	       w32(&u, 0x200c), w32(&u, 0x2010), w32(&u, 0x2014), w32(&u, 0x2018));
	/* 16-bit protected */
	prot_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\xdb\xe3\xd9\x05\x00\x11\x00\x00\x66\xd9\x35\x00\x20\x00\x00",
		15, 3);
	tap_ok(t, v < 0 && w16(&u, 0x2000) == 0x037f && w16(&u, 0x2006) == 2 &&
		       w16(&u, 0x2008) == 0x08 && w16(&u, 0x200a) == 0x1100 &&
		       w16(&u, 0x200c) == 0x10,
	       "fnstenv 16-bit protected: %04x %04x %04x %04x",
	       w16(&u, 0x2006), w16(&u, 0x2008), w16(&u, 0x200a), w16(&u, 0x200c));
	/* FNSAVE: environment, then ST(0).. ST(7), then FNINIT; FRSTOR
	 * brings it back bit for bit. */
	prot_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\xdb\xe3\xd9\xeb\xd9\xe8\xdd\x35\x00\x20\x00\x00",
		12, 4);
	{
		long double pi, one;
		memcpy(&pi, u.tb.ram + 0x2000 + 38, 10);
		memcpy(&one, u.tb.ram + 0x2000 + 28, 10);
		tap_ok(t, v < 0 && one == 1.0L && pi > 3.14L && pi < 3.15L &&
			       w32(&u, 0x2008) == 0xffff0fff &&
			       (fsw(&s) & 0x3800) == 0 && s.fxsave[4] == 0 &&
			       (s.fxsave[0] | s.fxsave[1] << 8) == 0x037f,
		       "fnsave 32-bit protected: registers in stack order, "
		       "then FNINIT (tags %08x)", w32(&u, 0x2008));
	}
	v = run(&u, &s, "\xdd\x25\x00\x20\x00\x00\xdd\x35\x00\x30\x00\x00", 12, 2);
	tap_ok(t, v < 0 && !memcmp(u.tb.ram + 0x2000, u.tb.ram + 0x3000, 12) &&
		       !memcmp(u.tb.ram + 0x2000 + 28, u.tb.ram + 0x3000 + 28, 80),
	       "frstor/fnsave round trip");
	/* 16-bit real FSAVE: 94 bytes */
	real_mode(&u, &s, CR0_NE);
	memset(u.tb.ram + 0x700, 0xcc, 120);
	v = run(&u, &s, "\xdb\xe3\xd9\xe8\xdd\x36\x00\x02", 8, 3);
	tap_ok(t, v < 0 && u.tb.ram[0x700 + 93] != 0xcc && u.tb.ram[0x700 + 94] == 0xcc &&
		       w16(&u, 0x700 + 14 + 8) == 0x3fff,
	       "fnsave 16-bit real is 94 bytes, ST(0) at 14");
	ut_free(&u);
}

static void test_fx(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	int v;

	if (ut_init(&u, false, false))
		return;
	prot_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\x0f\xae\x05\x00\x20\x00\x00", 7, 1);
	tap_ok(t, v == EXC_UD, "fxsave without CPUID.FXSR: %s", diff_vector_name(v));
	ut_free(&u);
	if (ut_init(&u, true, false))
		return;
	prot_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\x0f\xae\x05\x08\x20\x00\x00", 7, 1);
	tap_ok(t, v == EXC_GP, "fxsave misaligned: %s", diff_vector_name(v));
	prot_mode(&u, &s, CR0_NE);
	s.cr4 |= CR4_OSFXSR;
	/* fninit; fldpi; fxsave [0x2000]; fninit; fxrstor [0x2000] */
	v = run(&u, &s, "\xdb\xe3\xd9\xeb\x0f\xae\x05\x00\x20\x00\x00\xdb\xe3"
			"\x0f\xae\x0d\x00\x20\x00\x00", 20, 5);
	tap_ok(t, v < 0 && u.tb.ram[0x2004] == 0x80 && (fsw(&s) & 0x3800) == 0x3800 &&
		       s.fxsave[4] == 0x80 && w32(&u, 0x2018) == 0x1f80,
	       "fxsave/fxrstor: abridged tags, TOP, MXCSR");
	prot_mode(&u, &s, CR0_NE);
	s.cr4 |= CR4_OSFXSR;
	memset(u.tb.ram + 0x2000, 0, 512);
	u.tb.ram[0x2018] = 0x80;
	u.tb.ram[0x201a] = 0x01; /* MXCSR reserved bit 16 */
	v = run(&u, &s, "\x0f\xae\x0d\x00\x20\x00\x00", 7, 1);
	tap_ok(t, v == EXC_GP, "fxrstor with reserved MXCSR bits: %s",
	       diff_vector_name(v));
	prot_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\xdb\x0d\x00\x20\x00\x00", 6, 1);
	tap_ok(t, v == EXC_UD, "fisttp without SSE3: %s", diff_vector_name(v));
	ut_free(&u);
	if (ut_init(&u, true, true))
		return;
	prot_mode(&u, &s, CR0_NE);
	/* fninit; fldpi; fisttp dword [0x2000] */
	v = run(&u, &s, "\xdb\xe3\xd9\xeb\xdb\x0d\x00\x20\x00\x00", 10, 3);
	tap_ok(t, v < 0 && w32(&u, 0x2000) == 3 && (fsw(&s) & 0x3800) == 0,
	       "fisttp with SSE3 truncates and pops");
	ut_free(&u);
}

/* A store that faults commits nothing: no pop, no flags, no pointers. */
static void test_fault_atomic(struct tap *t)
{
	struct ut u;
	struct x86_state s;
	uint16_t sw;
	int v;

	if (ut_init(&u, true, false))
		return;
	prot_mode(&u, &s, CR0_NE);
	v = run(&u, &s, "\xdb\xe3\xd9\xeb", 4, 2); /* fninit; fldpi */
	sw = fsw(&s);
	s.seg[S_DS].limit = 0x1fff;
	/* fstp dword [0x1ffe]: crosses the limit */
	v = run(&u, &s, "\xd9\x1d\xfe\x1f\x00\x00", 6, 1);
	tap_ok(t, v == EXC_GP && fsw(&s) == sw && s.fxsave[4] == 0x80 &&
		       s.fxsave[6] == 0xeb,
	       "faulting fstp leaves the stack and FOP as they were: %s",
	       diff_vector_name(v));
	ut_free(&u);
}

static void test_default_model(struct tap *t)
{
	struct cpu_model m;
	cpu_model_default(&m);
	tap_ok(t, (m.features_edx & 1) && (m.features_edx & (1u << 24)),
	       "CPUID reports FPU and FXSR");
}

int main(void)
{
	struct tap t = {0};
	test_nm(&t);
	test_pending(&t);
	test_env(&t);
	test_fx(&t);
	test_fault_atomic(&t);
	test_default_model(&t);
	return tap_done(&t);
}
