/* Differential test of the x87 (issue 5) against the host CPU: every
 * encoding of D8-DF (all 512 register forms and the 64 memory forms), WAIT
 * and FXSAVE/FXRSTOR run natively in 64-bit mode and in the emulator in
 * 64-bit long mode, from the same random and special x87 states (every
 * precision and rounding control, masked and unmasked exceptions, pending
 * exceptions, empty and full stacks) and memory operands (zeros,
 * denormals, pseudo-denormals, unnormals, quiet and signalling NaNs,
 * infinities, extreme exponents, rounding ties, BCD). Compared: the eight
 * raw 80-bit registers, TOP and the rest of the status word, the control
 * word, the tag word, RAX, the arithmetic flags, the memory operand area
 * and the exception raised. Encodings the host rejects must be #UD in the
 * emulator too. FISTTP is SSE3's and the model does not report SSE3, so it
 * must be #UD there whatever the host does.
 *
 * Host side: a stub at a fixed address loads the state with FXRSTOR, sets
 * RFLAGS and RAX, points RBX at the operand (ModRM [rbx]), runs the
 * instruction, stores RAX, RFLAGS and FXSAVE; host exceptions arrive as
 * signals (SIGFPE is #MF, SIGILL #UD). */
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
#define REGION 0x200u      /* compared bytes from DATA */
#define CTX 0x201000ull    /* host only: images */
#define IMG_IN (CTX)
#define IMG_OUT (CTX + 0x200)
#define OUT_RAX (CTX + 0x400)
#define OUT_FL (CTX + 0x408)
#define CODE 0x300000ull
#define INSN (CODE + 0x800)
#define RAM_SIZE (4u << 20)
#define NSTATES 200
#define RAX_IN 0x1122334455667788ull

enum opnd { O_NONE, O_F32, O_F64, O_F80, O_I16, O_I32, O_I64, O_BCD,
	    O_CW, O_ENV, O_SAVE, O_FX };

/* Memory bytes to leave out of the comparison (pointer fields the host
 * fills from its own history, MXCSR_MASK). */
struct skip {
	uint16_t lo, hi;
};

struct form {
	char name[40];
	uint8_t code[4];
	uint8_t len;
	uint8_t opnd;
	bool emu_ud;   /* the model must say #UD (FISTTP without SSE3) */
	struct skip skip[2];
};

struct state {
	uint8_t img[512] __attribute__((aligned(16)));
	uint64_t flags;
	uint8_t mem[REGION];
};

struct result {
	uint8_t img[512];
	uint64_t rax, flags;
	int vec;
	uint8_t mem[REGION];
};

struct ctx {
	struct form f[700];
	unsigned n;
	struct testbus tb;
	struct x86_state tmpl;
	uint8_t *code;
	uint8_t *data;
	void *altstack;
	sigjmp_buf jb;
	int trapno;
	struct state in;
	struct result h, e;
	unsigned mismatch_forms;
	uint64_t runs, host_faults;
};

/* Where the signal handler finds the context: a fixed address, as the
 * stub's images. */
#define CTX_PTR (CTX + 0x800)

static struct ctx *ctx_of_signal(void)
{
	struct ctx *c;
	memcpy(&c, (void *)(uintptr_t)CTX_PTR, sizeof(c));
	return c;
}

/* ---- forms ---- */

static const char *const mnem_mem[8][8] = {
	{"fadd m32", "fmul m32", "fcom m32", "fcomp m32", "fsub m32",
	 "fsubr m32", "fdiv m32", "fdivr m32"},
	{"fld m32", "d9/1", "fst m32", "fstp m32", "fldenv", "fldcw",
	 "fnstenv", "fnstcw"},
	{"fiadd m32", "fimul m32", "ficom m32", "ficomp m32", "fisub m32",
	 "fisubr m32", "fidiv m32", "fidivr m32"},
	{"fild m32", "fisttp m32", "fist m32", "fistp m32", "db/4",
	 "fld m80", "db/6", "fstp m80"},
	{"fadd m64", "fmul m64", "fcom m64", "fcomp m64", "fsub m64",
	 "fsubr m64", "fdiv m64", "fdivr m64"},
	{"fld m64", "fisttp m64", "fst m64", "fstp m64", "frstor", "dd/5",
	 "fnsave", "fnstsw m16"},
	{"fiadd m16", "fimul m16", "ficom m16", "ficomp m16", "fisub m16",
	 "fisubr m16", "fidiv m16", "fidivr m16"},
	{"fild m16", "fisttp m16", "fist m16", "fistp m16", "fbld",
	 "fild m64", "fbstp", "fistp m64"},
};

static const uint8_t opnd_mem[8][8] = {
	{O_F32, O_F32, O_F32, O_F32, O_F32, O_F32, O_F32, O_F32},
	{O_F32, O_NONE, O_F32, O_F32, O_ENV, O_CW, O_ENV, O_NONE},
	{O_I32, O_I32, O_I32, O_I32, O_I32, O_I32, O_I32, O_I32},
	{O_I32, O_I32, O_I32, O_I32, O_NONE, O_F80, O_NONE, O_F80},
	{O_F64, O_F64, O_F64, O_F64, O_F64, O_F64, O_F64, O_F64},
	{O_F64, O_F64, O_F64, O_F64, O_SAVE, O_NONE, O_SAVE, O_NONE},
	{O_I16, O_I16, O_I16, O_I16, O_I16, O_I16, O_I16, O_I16},
	{O_I16, O_I16, O_I16, O_I16, O_BCD, O_I64, O_BCD, O_I64},
};

static struct form *add(struct ctx *c, const char *name)
{
	struct form *f = &c->f[c->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

static void build_forms(struct ctx *c)
{
	char nm[40];
	for (unsigned op = 0; op < 8; op++) {
		for (unsigned m = 0xc0; m <= 0xff; m++) {
			struct form *f;
			snprintf(nm, sizeof(nm), "%02x %02x", 0xd8 + op, m);
			f = add(c, nm);
			f->code[0] = (uint8_t)(0xd8 + op);
			f->code[1] = (uint8_t)m;
			f->len = 2;
		}
		for (unsigned r = 0; r < 8; r++) {
			struct form *f = add(c, mnem_mem[op][r]);
			f->code[0] = (uint8_t)(0xd8 + op);
			f->code[1] = (uint8_t)(r << 3 | 3); /* [rbx] */
			f->len = 2;
			f->opnd = opnd_mem[op][r];
			f->emu_ud = r == 1 && (op == 3 || op == 5 || op == 7);
			if (f->opnd == O_ENV || f->opnd == O_SAVE)
				f->skip[0] = (struct skip){12, 28};
		}
	}
	{
		struct form *f = add(c, "fxsave");
		memcpy(f->code, "\x0f\xae\x03", 3);
		f->len = 3;
		f->opnd = O_FX;
		f->skip[0] = (struct skip){6, 24};
		f->skip[1] = (struct skip){28, 32};
		f = add(c, "fxrstor");
		memcpy(f->code, "\x0f\xae\x0b", 3);
		f->len = 3;
		f->opnd = O_FX;
		f = add(c, "fwait");
		f->code[0] = 0x9b;
		f->len = 1;
	}
}

/* ---- operands ---- */

static void put80(uint8_t *p, uint64_t mant, uint16_t se)
{
	memcpy(p, &mant, 8);
	memcpy(p + 8, &se, 2);
}

/* An 80-bit value from the classes where x87 arithmetic has its corner
 * cases. */
static void gen80(struct diff_rng *r, uint8_t *p)
{
	uint64_t m = diff_rand(r) | (1ull << 63);
	uint16_t s = (uint16_t)(diff_below(r, 2) << 15);
	uint16_t e;
	static const int16_t near[] = {
		0, -1, 1, 126, 127, 128, -126, -127, -149, -150, 1022, 1023,
		1024, -1022, -1023, -1074, -1075, 14, 15, 16, 30, 31, 32, 62,
		63, 64, 16383, -16382, -16383, 17, 18, 59, 60,
	};
	switch (diff_below(r, 20)) {
	case 0:
		put80(p, 0, s);
		return;
	case 1: /* denormal */
		put80(p, diff_rand(r) >> diff_below(r, 64) >> 1 | 1, s);
		return;
	case 2: /* pseudo-denormal */
		put80(p, (diff_rand(r) >> 1) | (1ull << 63), s);
		return;
	case 3: /* unnormal */
		put80(p, diff_rand(r) >> 1, (uint16_t)(s | (1 + diff_below(r, 0x7ffe))));
		return;
	case 4: /* infinity */
		put80(p, 1ull << 63, s | 0x7fff);
		return;
	case 5: /* QNaN */
		put80(p, (3ull << 62) | (diff_rand(r) >> diff_below(r, 64) >> 2), s | 0x7fff);
		return;
	case 6: /* SNaN */
		put80(p, (1ull << 63) | (diff_rand(r) >> 2) | 1, s | 0x7fff);
		return;
	case 7: /* indefinite */
		put80(p, 3ull << 62, 0xffff);
		return;
	case 8: /* pseudo-infinity, pseudo-NaN */
		put80(p, diff_below(r, 2) ? diff_rand(r) >> 1 : 0, s | 0x7fff);
		return;
	case 9: { /* small integer */
		long double v = (long double)(int64_t)diff_below(r, 200) - 100;
		memcpy(p, &v, 10);
		return;
	}
	case 10: /* extremes of the range */
		e = diff_below(r, 2) ? (uint16_t)(1 + diff_below(r, 70))
				     : (uint16_t)(0x7ffe - diff_below(r, 70));
		put80(p, m, s | e);
		return;
	case 11:
	case 12: /* exponents where narrower formats and integers end */
		e = (uint16_t)(0x3fff + near[diff_below(r, sizeof(near) / 2)]);
		if (diff_below(r, 2))
			m = diff_below(r, 2) ? (1ull << 63) : ~0ull;
		put80(p, m, s | e);
		return;
	case 13: { /* rounding ties for single and double */
		unsigned b = diff_below(r, 2) ? 39 : 10;
		m = (m & ~((2ull << b) - 1)) | (1ull << b) |
		    (diff_below(r, 2) ? 0 : 1);
		put80(p, m, (uint16_t)(s | (0x3fff + diff_below(r, 40) - 20)));
		return;
	}
	case 14: { /* multiples of pi/4 for the trigonometric forms */
		long double v = 0.785398163397448309615660845819875721L *
				(long double)((int64_t)diff_below(r, 64) - 32);
		memcpy(p, &v, 10);
		if (diff_below(r, 2))
			p[0] ^= (uint8_t)diff_below(r, 4);
		return;
	}
	case 15: /* beyond the trigonometric range */
		put80(p, m, (uint16_t)(s | (0x3fff + 62 + diff_below(r, 4))));
		return;
	default:
		put80(p, m, (uint16_t)(s | (0x3fff + diff_below(r, 80) - 40)));
		return;
	}
}

static void gen_f64(struct diff_rng *r, uint8_t *p)
{
	uint64_t s = diff_below(r, 2) << 63, v;
	uint64_t m = diff_rand(r) & ((1ull << 52) - 1);
	switch (diff_below(r, 10)) {
	case 0: v = s; break;
	case 1: v = s | (m ? m : 1); break;               /* denormal */
	case 2: v = s | (0x7ffull << 52); break;          /* infinity */
	case 3: v = s | (0x7ffull << 52) | (1ull << 51) | m; break; /* QNaN */
	case 4: v = s | (0x7ffull << 52) | ((m >> 1) | 1); break;   /* SNaN */
	case 5: v = s | ((uint64_t)(diff_below(r, 2) ? 1 + diff_below(r, 4) : 0x7fe - diff_below(r, 4)) << 52) | m; break;
	default: v = s | ((uint64_t)(1023 + diff_below(r, 80) - 40) << 52) | m;
	}
	memcpy(p, &v, 8);
}

static void gen_f32(struct diff_rng *r, uint8_t *p)
{
	uint32_t s = (uint32_t)diff_below(r, 2) << 31, v;
	uint32_t m = (uint32_t)diff_rand(r) & 0x7fffff;
	switch (diff_below(r, 10)) {
	case 0: v = s; break;
	case 1: v = s | (m ? m : 1); break;
	case 2: v = s | 0x7f800000u; break;
	case 3: v = s | 0x7fc00000u | m; break;
	case 4: v = s | 0x7f800000u | ((m >> 1) | 1); break;
	case 5: v = s | (uint32_t)(diff_below(r, 2) ? 1 + diff_below(r, 4) : 0xfe - diff_below(r, 4)) << 23 | m; break;
	default: v = s | (uint32_t)(127 + diff_below(r, 60) - 30) << 23 | m;
	}
	memcpy(p, &v, 4);
}

static void gen_bcd(struct diff_rng *r, uint8_t *p)
{
	unsigned nd = (unsigned)diff_below(r, 19);
	memset(p, 0, 10);
	for (unsigned i = 0; i < nd; i++) {
		unsigned d = (unsigned)diff_below(r, 10);
		p[i / 2] |= (uint8_t)(d << (4 * (i & 1)));
	}
	if (diff_below(r, 8) == 0) /* invalid digits: undefined, but the host's */
		p[diff_below(r, 9)] |= 0xa0;
	p[9] = diff_below(r, 2) ? 0x80 : 0;
	if (diff_below(r, 16) == 0)
		p[9] |= (uint8_t)diff_rand(r) & 0x7f;
}

static uint16_t gen_cw(struct diff_rng *r)
{
	uint16_t cw = diff_below(r, 2) ? 0x3f : (uint16_t)(diff_rand(r) & 0x3f);
	cw |= (uint16_t)(diff_below(r, 4) << 8 | diff_below(r, 4) << 10);
	if (diff_below(r, 8) == 0)
		cw |= 0x1000;
	return (uint16_t)(cw | 0x40);
}

/* A status word for the control word: masked exception flags may be set,
 * and sometimes an unmasked one, which makes an exception pending. */
static uint16_t gen_sw(struct diff_rng *r, uint16_t cw, unsigned top)
{
	uint16_t sw = (uint16_t)(diff_rand(r) & 0x4700);
	uint16_t fl = (uint16_t)(diff_rand(r) & 0x3f);
	switch (diff_below(r, 4)) {
	case 0:
		fl = 0;
		break;
	case 1: /* unmasked flags too: an exception is pending */
		break;
	default:
		fl &= cw;
	}
	sw |= fl;
	if ((fl & 1) && diff_below(r, 2))
		sw |= 0x40;
	if (sw & ~cw & 0x3f)
		sw |= 0x8080;
	return (uint16_t)(sw | top << 11);
}

static void gen_x87(struct diff_rng *r, uint8_t *img)
{
	uint16_t cw = gen_cw(r);
	unsigned top = (unsigned)diff_below(r, 8);
	uint8_t ftw;
	uint16_t sw = gen_sw(r, cw, top);
	switch (diff_below(r, 6)) {
	case 0: ftw = 0xff; break;
	case 1: ftw = 0; break;
	case 2: ftw = (uint8_t)~(1u << ((top + 7) & 7)); break; /* one free */
	default: ftw = (uint8_t)(diff_rand(r) | diff_rand(r));
	}
	memcpy(img, &cw, 2);
	memcpy(img + 2, &sw, 2);
	img[4] = ftw;
	for (unsigned i = 0; i < 8; i++)
		gen80(r, img + 32 + 16 * i);
}

/* ST(0) valid and at the edge of the memory format's range, where
 * stores overflow, underflow or go invalid and arithmetic with that
 * operand rounds hardest. */
static void gen_edge_st0(struct diff_rng *r, unsigned opnd, uint8_t *img)
{
	static const int16_t f32[] = {126, 127, 128, -126, -127, -149, -150};
	static const int16_t f64[] = {1022, 1023, 1024, -1022, -1023, -1074, -1075};
	static const int16_t i16[] = {14, 15, 16}, i32[] = {30, 31, 32};
	static const int16_t i64[] = {62, 63, 64}, bcd[] = {58, 59, 60};
	const int16_t *e;
	unsigned n;
	unsigned top = (img[3] >> 3) & 7;
	uint64_t m = diff_rand(r) | 1ull << 63;

	switch (opnd) {
	case O_F32: e = f32; n = 7; break;
	case O_F64: e = f64; n = 7; break;
	case O_I16: e = i16; n = 3; break;
	case O_I32: e = i32; n = 3; break;
	case O_I64: e = i64; n = 3; break;
	case O_BCD: e = bcd; n = 3; break;
	default: return;
	}
	if (diff_below(r, 2))
		m = diff_below(r, 2) ? 1ull << 63 : ~0ull;
	put80(img + 32, m, (uint16_t)(diff_below(r, 2) << 15 |
				      (0x3fff + e[diff_below(r, n)])));
	img[4] |= (uint8_t)(1u << top);
}

static void gen_state(struct diff_rng *r, const struct form *f, struct state *s)
{
	uint32_t mxcsr = 0x1f80;
	memset(s, 0, sizeof(*s));
	for (unsigned i = 160; i < 416; i++)
		s->img[i] = (uint8_t)diff_rand(r);
	gen_x87(r, s->img);
	memcpy(s->img + 24, &mxcsr, 4);
	s->flags = (diff_rand(r) & (FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF | FL_AF)) | FL_FIXED1;
	for (unsigned i = 0; i < REGION; i++)
		s->mem[i] = (uint8_t)diff_rand(r);
	if (f->opnd >= O_F32 && f->opnd <= O_BCD && diff_below(r, 3) == 0)
		gen_edge_st0(r, f->opnd, s->img);
	switch (f->opnd) {
	case O_F32: gen_f32(r, s->mem); break;
	case O_F64: gen_f64(r, s->mem); break;
	case O_F80: gen80(r, s->mem); break;
	case O_BCD:
		if (f->code[1] & 0x08) /* fbstp stores */
			break;
		gen_bcd(r, s->mem);
		break;
	case O_I16: case O_I32: case O_I64: {
		uint64_t v = diff_value(r);
		memcpy(s->mem, &v, 8);
		break;
	}
	case O_CW: {
		uint16_t cw = diff_below(r, 2) ? gen_cw(r) : (uint16_t)diff_rand(r);
		memcpy(s->mem, &cw, 2);
		break;
	}
	case O_ENV: case O_SAVE: {
		/* A protected-mode 32-bit image: FCW FSW FTW, pointers,
		 * registers. */
		uint8_t x[512];
		uint16_t tw = 0;
		gen_x87(r, x);
		for (unsigned i = 0; i < 8; i++)
			tw |= (uint16_t)((x[4] >> i & 1 ? diff_below(r, 3) : 3) << 2 * i);
		memset(s->mem, 0xff, 28);
		memcpy(s->mem, x, 2);
		memcpy(s->mem + 4, x + 2, 2);
		memcpy(s->mem + 8, &tw, 2);
		for (unsigned i = 0; i < 8; i++)
			memcpy(s->mem + 28 + 10 * i, x + 32 + 16 * i, 10);
		break;
	}
	case O_FX: {
		gen_x87(r, s->mem);
		s->mem[5] = 0;
		memcpy(s->mem + 24, &mxcsr, 4);
		for (unsigned i = 0; i < 8; i++)
			memset(s->mem + 32 + 16 * i + 10, 0, 6);
		break;
	}
	default:
		break;
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
	p += put_movabs(p, 3, DATA);
	p += put_movabs(p, 0, RAX_IN);
	*p++ = 0xe9;                                 /* jmp INSN */
	{
		int32_t rel = (int32_t)((INSN - CODE) - (uint64_t)(p + 4 - code));
		memcpy(p, &rel, 4);
	}
	p = code + (INSN - CODE);
	memcpy(p, f->code, f->len);
	p += f->len;
	*p++ = 0x48;                                 /* mov [OUT_RAX], rax */
	*p++ = 0xa3;
	{
		uint64_t a = OUT_RAX;
		memcpy(p, &a, 8);
		p += 8;
	}
	memcpy(p, "\x9c\x58", 2);                     /* pushfq; pop rax */
	p += 2;
	*p++ = 0x48;                                 /* mov [OUT_FL], rax */
	*p++ = 0xa3;
	{
		uint64_t a = OUT_FL;
		memcpy(p, &a, 8);
		p += 8;
	}
	p += put_movabs(p, 0, IMG_OUT);
	memcpy(p, "\x0f\xae\x00", 3);                 /* fxsave [rax] */
	p += 3;
	memcpy(p, "\xdb\xe3\x5b\xc3", 4);             /* fninit; pop rbx; ret */
}

static void host_signal(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	struct ctx *c = ctx_of_signal();
	(void)sig;
	(void)si;
	c->trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
	siglongjmp(c->jb, 1);
}

static void host_run(struct ctx *c, const struct state *in, struct result *out)
{
	void (*fn)(void) = (void (*)(void))(uintptr_t)CODE;
	uint8_t *ctxp = (uint8_t *)(uintptr_t)CTX;
	uint64_t fl = in->flags | FL_FIXED1;

	memcpy(ctxp, in->img, 512);
	memcpy(ctxp + (OUT_FL - CTX), &fl, 8);
	memcpy(c->data, in->mem, REGION);
	memset(out, 0, sizeof(*out));
	if (sigsetjmp(c->jb, 1) == 0) {
		fn();
		memcpy(out->img, ctxp + (IMG_OUT - CTX), 512);
		memcpy(&out->rax, ctxp + (OUT_RAX - CTX), 8);
		memcpy(&out->flags, ctxp + (OUT_FL - CTX), 8);
		out->vec = -1;
	} else {
		out->vec = c->trapno;
		/* the handler ran on a fresh FPU state: leave it clean */
		__asm__ volatile("fninit");
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
	m.features_edx |= 1u | 1u << 24; /* FPU, FXSR */
	if (testbus_init_model(tb, RAM_SIZE, &m) != 0)
		return -1;
	cpu_get_state(tb->cpu, s);
	diff_long_mode(tb->ram, s);
	s->cr0 |= CR0_MP;
	s->cr4 |= CR4_OSFXSR;
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
	s.gpr[R_BX] = DATA;
	s.gpr[R_AX] = RAX_IN;
	s.rip = INSN;
	s.rflags = in->flags | FL_FIXED1;
	cpu_set_state(tb->cpu, &s);
	ex = cpu_run(tb->cpu, 1);
	cpu_get_state(tb->cpu, &s);
	memset(out, 0, sizeof(*out));
	memcpy(out->img, s.fxsave, 512);
	out->rax = s.gpr[R_AX];
	out->flags = s.rflags;
	out->vec = ex == CPU_EXIT_SHUTDOWN ? 8 : diff_vector_at(s.rip);
	memcpy(out->mem, tb->ram + DATA, REGION);
}

/* ---- comparison ---- */

static bool skipped(const struct form *f, unsigned i)
{
	for (unsigned k = 0; k < 2; k++)
		if (i >= f->skip[k].lo && i < f->skip[k].hi)
			return true;
	return false;
}

static int compare(const struct form *f, const struct result *h,
		   const struct result *e, char *why, size_t n)
{
	if (h->vec != e->vec) {
		snprintf(why, n, "exception host %s emu %s",
			 diff_vector_name(h->vec), diff_vector_name(e->vec));
		return 1;
	}
	if (h->vec >= 0)
		return 0;
	if (memcmp(h->img, e->img, 5)) {
		uint16_t a, b;
		memcpy(&a, h->img + 2, 2);
		memcpy(&b, e->img + 2, 2);
		snprintf(why, n, "fcw/fsw/ftw host %04x %04x %02x emu %04x %04x %02x",
			 h->img[0] | h->img[1] << 8, a, h->img[4],
			 e->img[0] | e->img[1] << 8, b, e->img[4]);
		return 1;
	}
	for (unsigned i = 0; i < 8; i++) {
		if (memcmp(h->img + 32 + 16 * i, e->img + 32 + 16 * i, 10)) {
			uint64_t hm, em;
			uint16_t hx, ex;
			memcpy(&hm, h->img + 32 + 16 * i, 8);
			memcpy(&hx, h->img + 40 + 16 * i, 2);
			memcpy(&em, e->img + 32 + 16 * i, 8);
			memcpy(&ex, e->img + 40 + 16 * i, 2);
			snprintf(why, n, "st%u host %04x:%016llx emu %04x:%016llx",
				 i, hx, (unsigned long long)hm, ex,
				 (unsigned long long)em);
			return 1;
		}
	}
	if (h->rax != e->rax) {
		snprintf(why, n, "rax host %llx emu %llx",
			 (unsigned long long)h->rax, (unsigned long long)e->rax);
		return 1;
	}
	if ((h->flags ^ e->flags) & FL_ARITH) {
		snprintf(why, n, "flags host %llx emu %llx",
			 (unsigned long long)h->flags, (unsigned long long)e->flags);
		return 1;
	}
	for (unsigned i = 0; i < (f->opnd == O_FX ? 416u : REGION); i++) {
		if (!skipped(f, i) && h->mem[i] != e->mem[i]) {
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
	struct diff_rng r = {.s = 0x87f0000ull + idx};
	struct state *in = &c->in;
	struct result *h = &c->h, *e = &c->e;
	unsigned bad = 0, faults = 0;
	char why[160] = "", first[160] = "";
	int hvec = -2;

	stub_emit(c->code, f);
	for (unsigned k = 0; k < NSTATES; k++) {
		gen_state(&r, f, in);
		emu_run(c, in, e);
		c->runs++;
		if (f->emu_ud) {
			if (e->vec != EXC_UD) {
				snprintf(why, sizeof(why), "expected #UD, got %s",
					 diff_vector_name(e->vec));
				if (!bad++)
					memcpy(first, why, sizeof(why));
			}
			continue;
		}
		host_run(c, in, h);
		if (h->vec >= 0)
			faults++;
		hvec = h->vec;
		if (compare(f, h, e, why, sizeof(why))) {
			if (!bad++) {
				memcpy(first, why, sizeof(why));
			}
		}
		if (h->vec == EXC_UD)
			break; /* a reserved encoding: one state says it */
	}
	c->host_faults += faults;
	tap_ok(t, bad == 0, "%s [%02x %02x]%s%s", f->name, f->code[0],
	       f->code[1], hvec == EXC_UD ? " (#UD)" : "",
	       f->emu_ud ? " (#UD: no SSE3)" : "");
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
