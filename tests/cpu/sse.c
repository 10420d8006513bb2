/* Differential test of MMX, SSE and SSE2 (issue 5) against the host CPU:
 * every 0F-map opcode of the three extensions under every mandatory prefix
 * (none, 66, F3, F2), in its register and its memory form, CMPcc with all
 * eight predicates, the shuffles, PINSRW/PEXTRW and the shifts by
 * immediate with a spread of counts, LDMXCSR/STMXCSR and the 0F AE fences,
 * REX forms (64-bit general registers, XMM8-15),
 * run natively in 64-bit mode and in the emulator in 64-bit long mode from
 * the same random and special states: lanes of zeros, denormals, NaNs,
 * infinities, extreme exponents and integer edges; every rounding mode,
 * DAZ and FTZ, masked and unmasked exceptions (#XM), x87 states with
 * pending exceptions (#MF before MMX), and misaligned operands (#GP).
 * Compared: FCW/FSW/FTW, the eight x87/MMX registers, MXCSR, XMM0-15, RDX
 * and RCX (the general-register operands), the arithmetic flags, the
 * memory area and the exception raised. At an exception the host's
 * state comes from the signal frame, so even the MXCSR flags an unmasked
 * exception leaves are compared. Encodings of SSE3 and SSE4a are #UD in the
 * emulator (the model reports neither) whatever the host does. */
#include <signal.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "diff.h"
#include "testbus.h"
#include "tests/tap.h"

#define DATA 0x200000ull   /* memory operand area (16-aligned) */
#define REGION 0x100u      /* compared bytes from DATA */
#define CTX 0x201000ull    /* host only: images and slots */
#define IMG_IN (CTX)
#define IMG_OUT (CTX + 0x200)
#define OUT_FL (CTX + 0x400)
#define IN_RBX (CTX + 0x408)
#define IO_RDX (CTX + 0x410)
#define IO_RCX (CTX + 0x418)
#define HOST_MX (CTX + 0x420)
#define CTX_PTR (CTX + 0x800)
#define CODE 0x300000ull
#define INSN (CODE + 0x800)
#define RAM_SIZE (4u << 20)
#define NSTATES 200
#define RDI_IN (DATA + 0x40)

struct form {
	char name[24];
	uint8_t code[8];
	uint8_t len;
	bool emu_ud; /* SSE3's, SSE4a's: the model must say #UD */
	bool mem;
};

struct state {
	uint8_t img[512] __attribute__((aligned(16)));
	uint64_t flags, rbx, rdx, rcx;
	uint8_t mem[REGION];
};

struct result {
	uint8_t img[512];
	uint64_t flags, rdx, rcx;
	int vec;
	uint8_t mem[REGION];
};

struct ctx {
	struct form f[2600];
	unsigned n;
	struct testbus tb;
	struct x86_state tmpl;
	uint8_t *code;
	uint8_t *data;
	void *altstack;
	sigjmp_buf jb;
	int trapno;
	uint8_t fault_img[512];
	struct state in;
	struct result h, e;
	unsigned mismatch_forms;
	uint64_t runs, host_faults;
};

static struct ctx *ctx_of_signal(void)
{
	struct ctx *c;
	memcpy(&c, (void *)(uintptr_t)CTX_PTR, sizeof(c));
	return c;
}

/* ---- forms ---- */

static struct form *add(struct ctx *c, const uint8_t *code, unsigned len,
			bool mem)
{
	struct form *f = &c->f[c->n++];
	memset(f, 0, sizeof(*f));
	memcpy(f->code, code, len);
	f->len = (uint8_t)len;
	f->mem = mem;
	for (unsigned i = 0; i < len; i++)
		snprintf(f->name + 3 * i, sizeof(f->name) - 3 * i, "%02x ",
			 code[i]);
	f->name[3 * len - 1] = 0;
	return f;
}

static bool sse3(unsigned pfx, unsigned op)
{
	return (op == 0x12 && (pfx == 0xf2 || pfx == 0xf3)) ||
	       (op == 0x16 && pfx == 0xf3) ||
	       (op == 0xd0 && (pfx == 0x66 || pfx == 0xf2)) ||
	       (op == 0xf0 && pfx == 0xf2) ||
	       (op == 0x2b && (pfx == 0xf2 || pfx == 0xf3)); /* SSE4a */
}

static bool has_imm(unsigned op)
{
	return op == 0x70 || (op >= 0xc2 && op <= 0xc6 && op != 0xc3);
}

static void build_forms(struct ctx *c)
{
	static const uint8_t pfxs[4] = {0, 0x66, 0xf3, 0xf2};
	static const uint8_t imms[] = {0x00, 0x1b, 0xe4, 0x4e, 0xff, 0x39};
	static const uint8_t counts[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33,
					 63, 64, 127, 200};
	for (unsigned op = 0x10; op <= 0xff; op++) {
		bool ours = (op >= 0x10 && op <= 0x17) ||
			    (op >= 0x28 && op <= 0x2f) ||
			    (op >= 0x50 && op <= 0x7f && !(op >= 0x71 && op <= 0x73) &&
			     !(op >= 0x78 && op <= 0x7d)) ||
			    (op >= 0xc2 && op <= 0xc6) || op >= 0xd0;
		if (!ours)
			continue;
		for (unsigned p = 0; p < 4; p++) {
			for (unsigned m = 0; m < 2; m++) {
				uint8_t b[8];
				unsigned n = 0, ni = 1;
				const uint8_t *iv = imms;
				if (pfxs[p])
					b[n++] = pfxs[p];
				b[n++] = 0x0f;
				b[n++] = (uint8_t)op;
				b[n++] = m ? 0x13 : 0xd1; /* [rbx] / rcx, xmm1, mm1 */
				if (op == 0x77) /* no ModRM */
					n--;
				if (op == 0x77 && m)
					continue;
				if (has_imm(op))
					ni = op == 0xc2 ? 8 : 6;
				for (unsigned k = 0; k < ni; k++) {
					struct form *f;
					if (has_imm(op))
						b[n] = op == 0xc2 ? (uint8_t)k : iv[k];
					f = add(c, b, n + has_imm(op), m);
					f->emu_ud = sse3(pfxs[p], op);
				}
			}
		}
	}
	/* REX: 64-bit general registers (W), XMM8-15 (R, B) */
	{
		static const uint8_t rx[][8] = {
			{5, 0xf3, 0x48, 0x0f, 0x2a, 0xd1}, {5, 0xf2, 0x48, 0x0f, 0x2a, 0x13},
			{5, 0xf3, 0x48, 0x0f, 0x2c, 0xd1}, {5, 0xf3, 0x48, 0x0f, 0x2d, 0x13},
			{5, 0xf2, 0x48, 0x0f, 0x2c, 0x13}, {5, 0xf2, 0x48, 0x0f, 0x2d, 0xd1},
			{5, 0x66, 0x48, 0x0f, 0x6e, 0xd1}, {5, 0x66, 0x48, 0x0f, 0x7e, 0xd1},
			{4, 0x48, 0x0f, 0x6e, 0xd1}, {4, 0x48, 0x0f, 0x7e, 0x13},
			{4, 0x48, 0x0f, 0xc3, 0x13}, {4, 0x48, 0x0f, 0x50, 0xd1},
			{5, 0x66, 0x45, 0x0f, 0x58, 0xd1}, {5, 0x66, 0x44, 0x0f, 0xfe, 0x13},
			{4, 0x41, 0x0f, 0x28, 0xd1}, {5, 0xf3, 0x44, 0x0f, 0x10, 0xd1},
			{6, 0x66, 0x41, 0x0f, 0x73, 0xf9, 0x03},
			{6, 0x66, 0x44, 0x0f, 0xc5, 0xd1, 0x05},
			{5, 0x66, 0x44, 0x0f, 0xd7, 0xd1}, {4, 0x44, 0x0f, 0x2d, 0xd1},
		};
		for (unsigned i = 0; i < sizeof(rx) / sizeof(rx[0]); i++) {
			const uint8_t *b = rx[i] + 1;
			unsigned o = b[0] == 0x0f ? 2 : (b[1] == 0x0f ? 3 : 4);
			add(c, b, rx[i][0], (b[o] & 0xc0) != 0xc0);
		}
	}
	/* 0F 71-73 by immediate */
	for (unsigned op = 0x71; op <= 0x73; op++) {
		for (unsigned p = 0; p < 2; p++) {
			for (unsigned r = 0; r < 8; r++) {
				bool valid = r == 2 || r == 6 || (r == 4 && op != 0x73) ||
					     ((r == 3 || r == 7) && op == 0x73);
				for (unsigned k = 0; k < (valid ? sizeof(counts) : 1); k++) {
					uint8_t b[6];
					unsigned n = 0;
					if (p)
						b[n++] = 0x66;
					b[n++] = 0x0f;
					b[n++] = (uint8_t)op;
					b[n++] = (uint8_t)(0xc0 | r << 3 | 1);
					b[n++] = counts[k];
					add(c, b, n, false);
				}
			}
		}
	}
	/* 0F AE: LDMXCSR, STMXCSR, the fences, CLFLUSH */
	{
		static const uint8_t ae[][3] = {
			{0x0f, 0xae, 0x13}, {0x0f, 0xae, 0x1b}, {0x0f, 0xae, 0xe8},
			{0x0f, 0xae, 0xf0}, {0x0f, 0xae, 0xf8}, {0x0f, 0xae, 0x3b},
		};
		for (unsigned i = 0; i < 6; i++)
			add(c, ae[i], 3, (ae[i][2] & 0xc0) != 0xc0);
	}
}

/* ---- operands ---- */

static void gen_f64(struct diff_rng *r, uint8_t *p)
{
	uint64_t s = diff_below(r, 2) << 63, v;
	uint64_t m = diff_rand(r) & ((1ull << 52) - 1);
	switch (diff_below(r, 12)) {
	case 0: v = s; break;
	case 1: v = s | (m >> diff_below(r, 52)); break;   /* denormal */
	case 2: v = s | (0x7ffull << 52); break;
	case 3: v = s | (0x7ffull << 52) | (1ull << 51) | m; break;
	case 4: v = s | (0x7ffull << 52) | ((m >> 1) | 1); break;
	case 5: v = s | ((uint64_t)(diff_below(r, 2) ? 1 + diff_below(r, 4) : 0x7fe - diff_below(r, 4)) << 52) | m; break;
	case 6: /* integer boundaries for the conversions */
		v = s | ((uint64_t)(1023 + 29 + diff_below(r, 5)) << 52) |
		    (diff_below(r, 2) ? m : 0);
		break;
	case 7: { /* small values, halves (rounding ties) */
		double d = ((double)(int64_t)diff_below(r, 40) - 20) / 2;
		memcpy(&v, &d, 8);
		break;
	}
	default: v = s | ((uint64_t)(1023 + diff_below(r, 80) - 40) << 52) | m;
	}
	memcpy(p, &v, 8);
}

static void gen_f32(struct diff_rng *r, uint8_t *p)
{
	uint32_t s = (uint32_t)diff_below(r, 2) << 31, v;
	uint32_t m = (uint32_t)diff_rand(r) & 0x7fffff;
	switch (diff_below(r, 12)) {
	case 0: v = s; break;
	case 1: v = s | (m >> diff_below(r, 23)); break;
	case 2: v = s | 0x7f800000u; break;
	case 3: v = s | 0x7fc00000u | m; break;
	case 4: v = s | 0x7f800000u | ((m >> 1) | 1); break;
	case 5: v = s | (uint32_t)(diff_below(r, 2) ? 1 + diff_below(r, 4) : 0xfe - diff_below(r, 4)) << 23 | m; break;
	case 6: v = s | (uint32_t)(127 + 29 + diff_below(r, 5)) << 23 | (diff_below(r, 2) ? m : 0); break;
	case 7: {
		float f = ((float)(int)diff_below(r, 40) - 20) / 2;
		memcpy(&v, &f, 4);
		break;
	}
	default: v = s | (uint32_t)(127 + diff_below(r, 60) - 30) << 23 | m;
	}
	memcpy(p, &v, 4);
}

/* 16 bytes of one lane type: singles, doubles or integers. */
static void gen_vec(struct diff_rng *r, uint8_t *p, unsigned type)
{
	for (unsigned i = 0; i < 16; i += 8) {
		uint64_t v;
		switch (type) {
		case 0:
			gen_f32(r, p + i);
			gen_f32(r, p + i + 4);
			break;
		case 1:
			gen_f64(r, p + i);
			break;
		default:
			v = diff_value(r);
			if (diff_below(r, 2))
				v = diff_rand(r);
			memcpy(p + i, &v, 8);
		}
	}
}

static uint32_t gen_mxcsr(struct diff_rng *r)
{
	uint32_t mx = 0x1f80;
	if (diff_below(r, 3) == 0)
		mx = (uint32_t)(diff_rand(r) & 0x1f80) | 0x1000;
	if (diff_below(r, 6) == 0)
		mx &= (uint32_t)diff_rand(r) | ~0x1f80u; /* more unmasked */
	mx |= (uint32_t)diff_below(r, 4) << 13;          /* RC */
	if (diff_below(r, 4) == 0)
		mx |= 0x8000;                            /* FTZ */
	if (diff_below(r, 4) == 0)
		mx |= 0x0040;                            /* DAZ */
	if (diff_below(r, 3) == 0)
		mx |= (uint32_t)diff_rand(r) & 0x3f;     /* flags */
	return mx;
}

static void gen_state(struct diff_rng *r, const struct form *f, struct state *s)
{
	unsigned type = (unsigned)diff_below(r, 3);
	uint32_t mx = gen_mxcsr(r);
	uint16_t cw = (uint16_t)(0x037f & ~(diff_below(r, 8) == 0 ? diff_rand(r) & 0x3f : 0));
	uint16_t sw = (uint16_t)(diff_below(r, 8) << 11);

	memset(s, 0, sizeof(*s));
	if (diff_below(r, 10) == 0)
		sw |= (uint16_t)(diff_rand(r) & 0x3f & ~cw); /* pending */
	if (sw & ~cw & 0x3f)
		sw |= 0x8080;
	memcpy(s->img, &cw, 2);
	memcpy(s->img + 2, &sw, 2);
	s->img[4] = (uint8_t)(diff_below(r, 2) ? 0 : diff_rand(r));
	memcpy(s->img + 24, &mx, 4);
	for (unsigned i = 0; i < 8; i++) {
		uint8_t v[16];
		uint16_t e = (uint16_t)diff_rand(r);
		gen_vec(r, v, diff_below(r, 2) ? type : 2);
		memcpy(s->img + 32 + 16 * i, v, 8);
		memcpy(s->img + 40 + 16 * i, &e, 2);
	}
	for (unsigned i = 0; i < 16; i++)
		gen_vec(r, s->img + 160 + 16 * i,
			diff_below(r, 4) ? type : (unsigned)diff_below(r, 3));
	s->flags = (diff_rand(r) & FL_ARITH) | FL_FIXED1;
	for (unsigned i = 0; i < REGION; i += 16)
		gen_vec(r, s->mem + i, type);
	s->rbx = DATA;
	if (f->mem && diff_below(r, 10) == 0)
		s->rbx = DATA + 4 * (1 + diff_below(r, 3)); /* misaligned */
	s->rdx = diff_value(r);
	s->rcx = diff_value(r);
	if (diff_below(r, 3) == 0) {
		/* integers at the ends of the conversions' ranges */
		int32_t v = (int32_t)(diff_rand(r) >> 40) - (1 << 23);
		s->rcx = (uint64_t)(int64_t)v;
		memcpy(s->mem, &v, 4);
	}
	if (f->code[f->len - 2] == 0xae || f->code[f->len - 1] == 0xae) {
		/* LDMXCSR's operand: valid mostly, reserved bits sometimes */
		uint32_t m = diff_below(r, 6) ? gen_mxcsr(r) : (uint32_t)diff_rand(r);
		memcpy(s->mem, &m, 4);
	}
}

/* ---- host ---- */

static unsigned put_movabs(uint8_t *p, unsigned reg, uint64_t v)
{
	p[0] = 0x48;
	p[1] = (uint8_t)(0xb8 + reg);
	memcpy(p + 2, &v, 8);
	return 10;
}

/* mov reg, [abs32] (load) or mov [abs32], reg (store), 64-bit. */
static unsigned put_mov_abs(uint8_t *p, unsigned reg, uint32_t a, bool store)
{
	p[0] = 0x48;
	p[1] = store ? 0x89 : 0x8b;
	p[2] = (uint8_t)(0x04 | reg << 3);
	p[3] = 0x25;
	memcpy(p + 4, &a, 4);
	return 8;
}

static void stub_emit(uint8_t *code, const struct form *f)
{
	uint8_t *p = code;
	memset(code, 0x90, 4096);
	*p++ = 0x53;                                 /* push rbx */
	p += put_movabs(p, 0, IMG_IN);
	memcpy(p, "\x0f\xae\x08", 3);                 /* fxrstor [rax] */
	p += 3;
	p += put_movabs(p, 0, OUT_FL);               /* push [OUT_FL]; popfq */
	memcpy(p, "\xff\x30\x9d", 3);
	p += 3;
	p += put_mov_abs(p, 3, (uint32_t)IN_RBX, false);
	p += put_mov_abs(p, 2, (uint32_t)IO_RDX, false);
	p += put_mov_abs(p, 1, (uint32_t)IO_RCX, false);
	p += put_movabs(p, 7, RDI_IN);
	*p++ = 0xe9;                                 /* jmp INSN */
	{
		int32_t rel = (int32_t)((INSN - CODE) - (uint64_t)(p + 4 - code));
		memcpy(p, &rel, 4);
	}
	p = code + (INSN - CODE);
	memcpy(p, f->code, f->len);
	p += f->len;
	p += put_mov_abs(p, 2, (uint32_t)IO_RDX, true);
	p += put_mov_abs(p, 1, (uint32_t)IO_RCX, true);
	memcpy(p, "\x9c\x58", 2);                     /* pushfq; pop rax */
	p += 2;
	p += put_mov_abs(p, 0, (uint32_t)OUT_FL, true);
	p += put_movabs(p, 0, IMG_OUT);
	memcpy(p, "\x0f\xae\x00", 3);                 /* fxsave [rax] */
	p += 3;
	memcpy(p, "\x0f\xae\x14\x25", 4);             /* ldmxcsr [HOST_MX] */
	p += 4;
	{
		uint32_t a = (uint32_t)HOST_MX;
		memcpy(p, &a, 4);
		p += 4;
	}
	memcpy(p, "\xdb\xe3\x5b\xc3", 4);             /* fninit; pop rbx; ret */
}

static void host_signal(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	struct ctx *c = ctx_of_signal();
	(void)sig;
	(void)si;
	c->trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
	memcpy(c->fault_img, uc->uc_mcontext.fpregs, 512);
	siglongjmp(c->jb, 1);
}

static void host_run(struct ctx *c, const struct state *in, struct result *out)
{
	void (*fn)(void) = (void (*)(void))(uintptr_t)CODE;
	uint8_t *ctxp = (uint8_t *)(uintptr_t)CTX;
	uint64_t fl = in->flags | FL_FIXED1;
	uint32_t hmx = 0x1f80;
	memcpy(ctxp, in->img, 512);
	memcpy(ctxp + (OUT_FL - CTX), &fl, 8);
	memcpy(ctxp + (IN_RBX - CTX), &in->rbx, 8);
	memcpy(ctxp + (IO_RDX - CTX), &in->rdx, 8);
	memcpy(ctxp + (IO_RCX - CTX), &in->rcx, 8);
	memcpy(ctxp + (HOST_MX - CTX), &hmx, 4);
	memcpy(c->data, in->mem, REGION);
	memset(out, 0, sizeof(*out));
	if (sigsetjmp(c->jb, 1) == 0) {
		fn();
		memcpy(out->img, ctxp + (IMG_OUT - CTX), 512);
		memcpy(&out->rdx, ctxp + (IO_RDX - CTX), 8);
		memcpy(&out->rcx, ctxp + (IO_RCX - CTX), 8);
		memcpy(&out->flags, ctxp + (OUT_FL - CTX), 8);
		out->vec = -1;
	} else {
		out->vec = c->trapno;
		memcpy(out->img, c->fault_img, 512);
		__asm__ volatile("fninit");
		__builtin_ia32_ldmxcsr(0x1f80);
	}
	memcpy(out->mem, c->data, REGION);
}

static int host_init(struct ctx *c)
{
	void *data, *code;
	if (diff_host_setup(DATA, CODE, &data, &code, &c->altstack,
			    host_signal) != 0)
		return -1;
	c->data = data;
	c->code = code;
	memcpy((void *)(uintptr_t)CTX_PTR, &c, sizeof(c));
	return 0;
}

/* ---- emulator: 64-bit long mode, identity paging ---- */

static int emu_init(struct ctx *c)
{
	struct testbus *tb = &c->tb;
	struct x86_state *s = &c->tmpl;
	struct cpu_model m;

	cpu_model_default(&m);
	/* FPU, MMX, FXSR, SSE, SSE2 */
	m.features_edx |= 1u | 1u << 23 | 1u << 24 | 1u << 25 | 1u << 26;
	if (testbus_init_model(tb, RAM_SIZE, &m) != 0)
		return -1;
	cpu_get_state(tb->cpu, s);
	diff_long_mode(tb->ram, s);
	s->cr0 |= CR0_MP;
	s->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	s->gpr[R_SP] = DATA + 0x1800;
	return 0;
}

static void emu_run(struct ctx *c, const struct state *in, struct result *out)
{
	struct testbus *tb = &c->tb;
	struct x86_state s = c->tmpl;
	enum cpu_exit ex;

	memcpy(tb->ram + DATA, in->mem, REGION);
	memcpy(tb->ram + CODE, c->code, 0x1000);
	memcpy(s.fxsave, in->img, 512);
	s.gpr[R_BX] = in->rbx;
	s.gpr[R_DX] = in->rdx;
	s.gpr[R_CX] = in->rcx;
	s.gpr[R_DI] = RDI_IN;
	s.rip = INSN;
	s.rflags = in->flags | FL_FIXED1;
	cpu_set_state(tb->cpu, &s);
	ex = cpu_run(tb->cpu, 1);
	cpu_get_state(tb->cpu, &s);
	memset(out, 0, sizeof(*out));
	memcpy(out->img, s.fxsave, 512);
	out->rdx = s.gpr[R_DX];
	out->rcx = s.gpr[R_CX];
	out->flags = s.rflags;
	out->vec = ex == CPU_EXIT_SHUTDOWN ? 8 : diff_vector_at(s.rip);
	memcpy(out->mem, tb->ram + DATA, REGION);
}

/* ---- comparison ---- */

static int compare(const struct result *h, const struct result *e, char *why,
		   size_t n)
{
	uint32_t hm, em;
	if (h->vec != e->vec) {
		snprintf(why, n, "exception host %s emu %s",
			 diff_vector_name(h->vec), diff_vector_name(e->vec));
		return 1;
	}
	if (h->vec == EXC_UD || h->vec == EXC_NM)
		return 0;
	if (memcmp(h->img, e->img, 5)) {
		snprintf(why, n, "fcw/fsw/ftw host %02x%02x %02x%02x %02x emu %02x%02x %02x%02x %02x",
			 h->img[1], h->img[0], h->img[3], h->img[2], h->img[4],
			 e->img[1], e->img[0], e->img[3], e->img[2], e->img[4]);
		return 1;
	}
	memcpy(&hm, h->img + 24, 4);
	memcpy(&em, e->img + 24, 4);
	if (hm != em) {
		snprintf(why, n, "mxcsr host %08x emu %08x", hm, em);
		return 1;
	}
	for (unsigned i = 0; i < 8; i++) {
		if (memcmp(h->img + 32 + 16 * i, e->img + 32 + 16 * i, 10)) {
			snprintf(why, n, "st/mm%u differs", i);
			return 1;
		}
	}
	for (unsigned i = 0; i < 16; i++) {
		if (memcmp(h->img + 160 + 16 * i, e->img + 160 + 16 * i, 16)) {
			uint64_t a[2], b[2];
			memcpy(a, h->img + 160 + 16 * i, 16);
			memcpy(b, e->img + 160 + 16 * i, 16);
			snprintf(why, n, "xmm%u host %016llx%016llx emu %016llx%016llx",
				 i, (unsigned long long)a[1], (unsigned long long)a[0],
				 (unsigned long long)b[1], (unsigned long long)b[0]);
			return 1;
		}
	}
	if (h->vec >= 0)
		return 0; /* the signal frame has no general registers of use */
	if (h->rdx != e->rdx || h->rcx != e->rcx) {
		snprintf(why, n, "rdx/rcx host %llx %llx emu %llx %llx",
			 (unsigned long long)h->rdx, (unsigned long long)h->rcx,
			 (unsigned long long)e->rdx, (unsigned long long)e->rcx);
		return 1;
	}
	if ((h->flags ^ e->flags) & FL_ARITH) {
		snprintf(why, n, "flags host %llx emu %llx",
			 (unsigned long long)h->flags, (unsigned long long)e->flags);
		return 1;
	}
	for (unsigned i = 0; i < REGION; i++) {
		if (h->mem[i] != e->mem[i]) {
			snprintf(why, n, "memory +%u host %02x emu %02x", i,
				 h->mem[i], e->mem[i]);
			return 1;
		}
	}
	return 0;
}

static void run_form(struct ctx *c, unsigned idx, struct tap *t)
{
	const struct form *f = &c->f[idx];
	struct diff_rng r = {.s = 0x55e0000ull + idx};
	struct state *in = &c->in;
	struct result *h = &c->h, *e = &c->e;
	unsigned bad = 0;
	char why[160] = "", first[200] = "";
	int hvec = -2;

	stub_emit(c->code, f);
	for (unsigned k = 0; k < NSTATES; k++) {
		gen_state(&r, f, in);
		emu_run(c, in, e);
		c->runs++;
		if (f->emu_ud) {
			if (e->vec != EXC_UD) {
				snprintf(first, sizeof(first), "expected #UD, got %s",
					 diff_vector_name(e->vec));
				bad++;
			}
			break;
		}
		host_run(c, in, h);
		if (h->vec >= 0)
			c->host_faults++;
		hvec = h->vec;
		if (compare(h, e, why, sizeof(why)) && !bad++)
			snprintf(first, sizeof(first), "state %u: %s", k, why);
		if (h->vec == EXC_UD && e->vec == EXC_UD)
			break; /* a reserved encoding: one state says it */
	}
	tap_ok(t, bad == 0, "%s%s%s", f->name, hvec == EXC_UD ? " (#UD)" : "",
	       f->emu_ud ? " (#UD: not in the model)" : "");
	if (bad) {
		c->mismatch_forms++;
		printf("#   %u states differ; first: %s\n", bad, first);
	}
}

int main(int argc, char **argv)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct tap t = {0};
	const char *only = argc > 1 ? argv[1] : NULL;
	unsigned tested = 0;

	if (!c)
		return 1;
	if (host_init(c) != 0 || emu_init(c) != 0) {
		printf("1..0 # SKIP cannot map the fixed test addresses\n");
		return 0;
	}
	build_forms(c);
	for (unsigned i = 0; i < c->n; i++) {
		if (only && !strstr(c->f[i].name, only))
			continue;
		run_form(c, i, &t);
		tested++;
	}
	tap_diag("coverage: forms tested %u / forms in table %u", tested, c->n);
	tap_diag("runs: %llu (host exceptions: %llu)",
		 (unsigned long long)c->runs, (unsigned long long)c->host_faults);
	tap_diag("mismatches: %u", c->mismatch_forms);
	{
		stack_t ss = {.ss_flags = SS_DISABLE};
		sigaltstack(&ss, NULL);
	}
	free(c->altstack);
	testbus_free(&c->tb);
	free(c);
	fflush(stdout);
	return tap_done(&t);
}
