/* Differential test of the user-mode integer instructions against the host
 * CPU (issue 2, "Tests that a real CPU grades"): every form of the table
 * below runs natively in 64-bit mode and in the emulator in 64-bit long
 * mode from the same random and edge-case registers, flags and memory, and
 * the registers, the memory, the flags the SDM defines (Intel SDM vol. 2,
 * each instruction's "Flags Affected") and the exception raised must agree.
 * Flags the SDM leaves undefined are compared too but only counted.
 *
 * Host side: the instruction is placed in a stub at a fixed address that
 * loads every GPR and RFLAGS from a context page, runs it, and stores them
 * back; data lives at a fixed address too, so the guest sees the very same
 * linear addresses (identity paging in testbus RAM) and pushes the same
 * return addresses. Host exceptions arrive as signals on an alternate stack
 * and are read from the signal context's trap number. */
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "diff.h"
#include "testbus.h"
#include "tests/tap.h"

/* Fixed addresses, the same on the host and in the guest. */
#define DATA 0x200000ull  /* memory operands and the stack */
#define REGION 0x800u     /* compared bytes from DATA */
#define STACK (DATA + 0x600) /* initial RSP */
#define CTX 0x201000ull   /* host only: stub context */
#define CODE 0x300000ull  /* host stub; the guest gets the same page */
#define INSN (CODE + 0x800) /* the instruction under test */
#define RAM_SIZE (4u << 20)

#define ARITH (FL_ARITH)
#define CMPMASK (FL_ARITH | FL_DF)
#define NSTATES 160

/* The stub's view of the context page. */
struct hctx {
	uint64_t in[16];
	uint64_t in_flags;
	uint64_t pad0;
	uint64_t out[16];
	uint64_t out_flags;
	uint64_t pad1;
	uint64_t host_rsp;
	uint64_t taken;
	uint64_t fault_gpr[16];
	int trapno;
	sigjmp_buf jb;
};

enum kind {
	K_STATIC,  /* `defined` says it all */
	K_SHIFT,   /* group 2: sub = ModRM.reg; count rules */
	K_SHXD,    /* SHLD/SHRD */
	K_BSX,     /* BSF/BSR: destination undefined for a zero source */
};

enum count_src { CNT_NONE, CNT_ONE, CNT_CL, CNT_IMM };

/* State constraints: what must hold for the form to be meaningful. */
enum {
	FX_DIV = 1u << 0,     /* bias towards quotients that fit */
	FX_IDIV = 1u << 1,
	FX_CMPXCHG = 1u << 2, /* accumulator often equals the destination */
	FX_CX8 = 1u << 3,
	FX_STR = 1u << 4,     /* RSI/RDI into the buffer, RCX small, DF random */
	FX_RCX_SMALL = 1u << 5,
	FX_BTOFF = 1u << 6,   /* bit offset register keeps the access near */
	FX_RBX_DATA = 1u << 7,
	FX_TARGET = 1u << 8,  /* r/m holds a branch target (A or B) */
	FX_RET = 1u << 9,     /* stack top is a branch target */
	FX_POPF = 1u << 10,   /* stack top is a flags image */
	FX_RBP_STACK = 1u << 11, /* RBP inside the stack area (ENTER/LEAVE) */
	FX_CNT16 = 1u << 12,  /* SHLD/SHRD 16: counts above 16 are undefined */
	FX_DF = 1u << 13,
	FX_MEM = 1u << 14,    /* memory operand at [rbp + disp] */
};

struct form {
	char name[56];
	uint8_t code[16];
	uint8_t len;
	uint8_t size;
	uint8_t imm_off, imm_len; /* randomized immediate, imm_len 0: none */
	uint8_t kind, sub, cnt;
	int8_t rm;   /* register r/m operand, -1: memory or none */
	int8_t reg;  /* ModRM.reg register, -1: none */
	uint8_t disp;
	bool rexb8;
	uint16_t defined;
	uint32_t fix;
};

struct table {
	struct form *f;
	unsigned n, cap;
};

struct state {
	uint64_t gpr[16];
	uint64_t flags;
	uint64_t imm;
	uint8_t mem[REGION];
};

struct result {
	uint64_t gpr[16];
	uint64_t flags;
	uint64_t rip;
	int vec;
	uint8_t mem[REGION];
};

struct ctx {
	struct table t;
	struct testbus tb;
	struct x86_state tmpl;
	uint8_t *code;   /* host stub page at CODE */
	struct hctx *h;  /* at CTX */
	uint8_t *data;   /* at DATA */
	void *altstack;  /* where host signals are delivered */
	unsigned mismatch_forms, undef_forms;
	uint64_t runs, undef_diffs;
};

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* ---- the form table ---- */

/* One encoding: legacy prefixes, operand size (66 / REX.W), optional REX
 * for byte registers, opcode, ModRM with a register or [rbp + disp8], and
 * an immediate the states fill in. */
struct enc {
	uint8_t pfx[3];
	unsigned npfx;
	unsigned size;     /* operand size; 1 means no 66/REX.W */
	bool rexb8;
	bool no66;         /* size 2 without a 66 (e.g. fixed-size ops) */
	uint8_t op[3];
	unsigned nop;
	bool modrm;
	unsigned reg;      /* ModRM.reg (register number or /digit) */
	int rm;            /* register, or -1 for memory */
	int regop;         /* register in the opcode's low bits, or -1 */
	unsigned disp;
	unsigned imm_len;
	uint8_t imm[8];    /* fixed immediate bytes when imm_fixed */
	bool imm_fixed;
};

static struct form *table_add(struct table *t)
{
	if (t->n == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 256;
		struct form *f = realloc(t->f, cap * sizeof(*f));
		if (!f) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		t->f = f;
		t->cap = cap;
	}
	memset(&t->f[t->n], 0, sizeof(t->f[0]));
	return &t->f[t->n++];
}

static struct form *emit(struct table *t, const struct enc *e, uint16_t defined,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct form *emit(struct table *t, const struct enc *e, uint16_t defined,
			 const char *fmt, ...)
{
	struct form *f = table_add(t);
	unsigned n = 0;
	uint8_t rex = 0x40;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->name, sizeof(f->name), fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < e->npfx; i++)
		f->code[n++] = e->pfx[i];
	if (e->size == 2 && !e->no66)
		f->code[n++] = 0x66;
	if (e->size == 8)
		rex |= 8;
	if (e->modrm && (e->reg & 8))
		rex |= 4;
	if (e->modrm && e->rm >= 8)
		rex |= 1;
	if (e->regop >= 8)
		rex |= 1;
	if (rex != 0x40 || e->rexb8)
		f->code[n++] = rex;
	for (unsigned i = 0; i < e->nop; i++)
		f->code[n++] = e->op[i];
	if (e->regop >= 0)
		f->code[n - 1] |= (uint8_t)(e->regop & 7);
	if (e->modrm) {
		if (e->rm < 0) {
			f->code[n++] = (uint8_t)(0x45 | ((e->reg & 7) << 3));
			f->code[n++] = (uint8_t)e->disp;
		} else {
			f->code[n++] = (uint8_t)(0xc0 | ((e->reg & 7) << 3) |
						 (e->rm & 7));
		}
	}
	if (e->imm_len) {
		if (e->imm_fixed) {
			memcpy(f->code + n, e->imm, e->imm_len);
		} else {
			f->imm_off = (uint8_t)n;
			f->imm_len = (uint8_t)e->imm_len;
		}
		n += e->imm_len;
	}
	f->len = (uint8_t)n;
	f->size = (uint8_t)e->size;
	f->rm = (int8_t)(e->modrm ? e->rm : -1);
	f->reg = (int8_t)(e->modrm ? (int)e->reg : -1);
	f->disp = (uint8_t)e->disp;
	f->rexb8 = e->rexb8;
	f->defined = defined;
	f->kind = K_STATIC;
	if (e->modrm && e->rm < 0)
		f->fix |= FX_MEM;
	return f;
}

static const unsigned sizes[4] = {1, 2, 4, 8};

/* A register for an operand of `size`: byte forms use AH..BH without REX
 * and all sixteen low bytes with it. */
static unsigned pick_reg(struct diff_rng *r, unsigned size, bool rexb8)
{
	if (size == 1 && !rexb8)
		return (unsigned)diff_below(r, 8);
	return (unsigned)diff_below(r, 16);
}

/* A register for a value that must stay random (not RSP, not RBP: those
 * hold the stack and the memory base). */
static unsigned pick_data_reg(struct diff_rng *r, unsigned size, bool rexb8)
{
	for (;;) {
		unsigned x = pick_reg(r, size, rexb8);
		if (size == 1 && !rexb8)
			return x;
		if (x != R_SP && x != R_BP)
			return x;
	}
}

static const char *sz_name(unsigned s)
{
	return s == 1 ? "8" : s == 2 ? "16" : s == 4 ? "32" : "64";
}

/* E,G / G,E / E,imm style form: one with a register r/m and one with a
 * memory r/m, and a locked memory variant when `lockable`. */
static void rm_forms(struct table *t, struct diff_rng *r,
			      const char *mn, const uint8_t *op, unsigned nop,
			      unsigned size, int digit, unsigned imm_len,
			      uint16_t defined, bool lockable, uint32_t fix)
{
	for (int mem = 0; mem < 2; mem++) {
		for (int lock = 0; lock < (mem && lockable ? 2 : 1); lock++) {
			struct enc e = {0};
			struct form *f;
			e.size = size;
			e.rexb8 = size == 1 && (diff_rand(r) & 1);
			memcpy(e.op, op, nop);
			e.nop = nop;
			e.modrm = true;
			e.regop = -1;
			e.reg = digit >= 0 ? (unsigned)digit
					   : pick_reg(r, size, e.rexb8);
			e.rm = mem ? -1 : (int)pick_reg(r, size, e.rexb8);
			/* With a memory operand RBP is the base and RSP the
			 * stack: neither can carry a random value. */
			if (mem && digit < 0)
				e.reg = pick_data_reg(r, size, e.rexb8);
			e.disp = (unsigned)diff_below(r, 0x70);
			e.imm_len = imm_len;
			if (lock)
				e.pfx[e.npfx++] = 0xf0;
			f = emit(t, &e, defined, "%s%s o%s %s", lock ? "lock " : "",
				 mn, sz_name(size), mem ? "mem" : "reg");
			f->fix |= fix;
		}
	}
}

#define RM(mn, op, nop, size, digit, imm, def, lock, fix)                    \
	rm_forms(t, r, mn, op, nop, size, digit, imm, def, lock, fix)

static unsigned imm_for(unsigned size)
{
	return size == 1 ? 1 : size == 2 ? 2 : 4;
}

static void forms_alu(struct table *t, struct diff_rng *r)
{
	static const char *const alu[8] = {"add", "or", "adc", "sbb",
					   "and", "sub", "xor", "cmp"};
	for (unsigned o = 0; o < 8; o++) {
		uint16_t def = (o == 1 || o == 4 || o == 6) ? ARITH & ~FL_AF
							    : ARITH;
		bool lk = o != 7;
		char mn[32];
		for (unsigned si = 0; si < 4; si++) {
			unsigned s = sizes[si];
			uint8_t w = s != 1;
			uint8_t op;
			struct enc e = {0};

			op = (uint8_t)(o * 8 + w);
			snprintf(mn, sizeof(mn), "%s E,G", alu[o]);
			RM(mn, &op, 1, s, -1, 0, def, lk, 0);
			op = (uint8_t)(o * 8 + 2 + w);
			snprintf(mn, sizeof(mn), "%s G,E", alu[o]);
			RM(mn, &op, 1, s, -1, 0, def, false, 0);
			op = (uint8_t)(0x80 + w);
			snprintf(mn, sizeof(mn), "%s E,I", alu[o]);
			RM(mn, &op, 1, s, (int)o, imm_for(s), def, lk, 0);
			if (s != 1) {
				op = 0x83;
				snprintf(mn, sizeof(mn), "%s E,Ib", alu[o]);
				RM(mn, &op, 1, s, (int)o, 1, def, lk, 0);
			}
			e.size = s;
			e.op[0] = (uint8_t)(o * 8 + 4 + w);
			e.nop = 1;
			e.regop = -1;
			e.imm_len = imm_for(s);
			emit(t, &e, def, "%s A,I o%s", alu[o], sz_name(s));
			/* Same register on both sides: XOR r,r, SUB r,r. */
			{
				struct enc e2 = {0};
				e2.size = s;
				e2.op[0] = (uint8_t)(o * 8 + w);
				e2.nop = 1;
				e2.modrm = true;
				e2.regop = -1;
				e2.reg = pick_reg(r, s, false);
				e2.rm = (int)e2.reg;
				emit(t, &e2, def, "%s r,same o%s", alu[o], sz_name(s));
			}
		}
	}
}

static void forms_unary(struct table *t, struct diff_rng *r)
{
	static const char *const g3[8] = {"test", "test/1", "not", "neg",
					  "mul", "imul", "div", "idiv"};
	static const uint16_t g3def[8] = {
		ARITH & ~FL_AF, ARITH & ~FL_AF, ARITH, ARITH,
		FL_CF | FL_OF, FL_CF | FL_OF, 0, 0,
	};
	for (unsigned si = 0; si < 4; si++) {
		unsigned s = sizes[si];
		uint8_t w = s != 1;
		uint8_t op;
		struct enc e = {0};
		char mn[32];
		for (unsigned d = 0; d < 8; d++) {
			uint32_t fix = d == 6 ? FX_DIV : d == 7 ? FX_IDIV : 0;
			op = (uint8_t)(0xf6 + w);
			snprintf(mn, sizeof(mn), "%s E", g3[d]);
			RM(mn, &op, 1, s, (int)d, d < 2 ? imm_for(s) : 0,
			   g3def[d], d == 2 || d == 3, fix);
		}
		op = (uint8_t)(0xfe + w);
		RM("inc E", &op, 1, s, 0, 0, ARITH, true, 0);
		RM("dec E", &op, 1, s, 1, 0, ARITH, true, 0);
		op = (uint8_t)(0x84 + w);
		RM("test E,G", &op, 1, s, -1, 0, ARITH & ~FL_AF, false, 0);
		e.size = s;
		e.op[0] = (uint8_t)(0xa8 + w);
		e.nop = 1;
		e.regop = -1;
		e.imm_len = imm_for(s);
		emit(t, &e, ARITH & ~FL_AF, "test A,I o%s", sz_name(s));
		if (s != 1) {
			uint8_t op2[2] = {0x0f, 0xaf};
			RM("imul G,E", op2, 2, s, -1, 0, FL_CF | FL_OF, false, 0);
			op = 0x69;
			RM("imul G,E,Iz", &op, 1, s, -1, imm_for(s), FL_CF | FL_OF,
			   false, 0);
			op = 0x6b;
			RM("imul G,E,Ib", &op, 1, s, -1, 1, FL_CF | FL_OF, false, 0);
		}
	}
}

static void forms_shift(struct table *t, struct diff_rng *r)
{
	static const char *const g2[8] = {"rol", "ror", "rcl", "rcr",
					  "shl", "shr", "sal/6", "sar"};
	static const uint8_t base[3] = {0xd0, 0xd2, 0xc0};
	static const char *const how[3] = {"1", "CL", "Ib"};
	static const uint8_t cnt[3] = {CNT_ONE, CNT_CL, CNT_IMM};
	for (unsigned si = 0; si < 4; si++) {
		unsigned s = sizes[si];
		for (unsigned k = 0; k < 3; k++) {
			for (unsigned d = 0; d < 8; d++) {
				uint8_t op = (uint8_t)(base[k] + (s != 1));
				char mn[32];
				unsigned first = t->n;
				snprintf(mn, sizeof(mn), "%s E,%s", g2[d], how[k]);
				RM(mn, &op, 1, s, (int)d, k == 2 ? 1 : 0, ARITH,
				   false, 0);
				for (unsigned i = first; i < t->n; i++) {
					t->f[i].kind = K_SHIFT;
					t->f[i].sub = (uint8_t)d;
					t->f[i].cnt = cnt[k];
				}
			}
		}
	}
	for (unsigned si = 1; si < 4; si++) {
		unsigned s = sizes[si];
		static const uint8_t ops[4] = {0xa4, 0xa5, 0xac, 0xad};
		static const char *const nm[4] = {"shld E,G,Ib", "shld E,G,CL",
						  "shrd E,G,Ib", "shrd E,G,CL"};
		for (unsigned k = 0; k < 4; k++) {
			uint8_t op[2] = {0x0f, ops[k]};
			unsigned first = t->n;
			RM(nm[k], op, 2, s, -1, (k & 1) ? 0 : 1, ARITH, false,
			   s == 2 ? FX_CNT16 : 0);
			for (unsigned i = first; i < t->n; i++) {
				t->f[i].kind = K_SHXD;
				t->f[i].sub = (uint8_t)(k >> 1);
				t->f[i].cnt = (k & 1) ? CNT_CL : CNT_IMM;
			}
		}
	}
}

static void forms_bits(struct table *t, struct diff_rng *r)
{
	static const char *const bt[4] = {"bt", "bts", "btr", "btc"};
	static const uint8_t btop[4] = {0xa3, 0xab, 0xb3, 0xbb};
	for (unsigned si = 1; si < 4; si++) {
		unsigned s = sizes[si];
		char mn[32];
		for (unsigned k = 0; k < 4; k++) {
			uint8_t op[2] = {0x0f, btop[k]};
			snprintf(mn, sizeof(mn), "%s E,G", bt[k]);
			RM(mn, op, 2, s, -1, 0, FL_CF | FL_ZF, k != 0, FX_BTOFF);
			op[1] = 0xba;
			snprintf(mn, sizeof(mn), "%s E,Ib", bt[k]);
			RM(mn, op, 2, s, (int)(4 + k), 1, FL_CF | FL_ZF, k != 0, 0);
		}
		for (unsigned k = 0; k < 2; k++) {
			uint8_t op[2] = {0x0f, (uint8_t)(0xbc + k)};
			unsigned first = t->n;
			RM(k ? "bsr G,E" : "bsf G,E", op, 2, s, -1, 0, FL_ZF, false, 0);
			for (unsigned i = first; i < t->n; i++)
				t->f[i].kind = K_BSX;
		}
	}
	for (unsigned s = 4; s <= 8; s += 4) {
		for (unsigned i = 0; i < 3; i++) {
			struct enc e = {0};
			e.size = s;
			e.op[0] = 0x0f;
			e.op[1] = 0xc8;
			e.nop = 2;
			e.regop = (int)pick_reg(r, s, false);
			emit(t, &e, ARITH, "bswap r o%s (%s)", sz_name(s),
			     reg_names[e.regop]);
		}
	}
}

static void forms_mov(struct table *t, struct diff_rng *r)
{
	for (unsigned si = 0; si < 4; si++) {
		unsigned s = sizes[si];
		uint8_t w = s != 1;
		uint8_t op;
		struct enc e = {0};

		op = (uint8_t)(0x88 + w);
		RM("mov E,G", &op, 1, s, -1, 0, ARITH, false, 0);
		op = (uint8_t)(0x8a + w);
		RM("mov G,E", &op, 1, s, -1, 0, ARITH, false, 0);
		op = (uint8_t)(0xc6 + w);
		RM("mov E,I", &op, 1, s, 0, imm_for(s), ARITH, false, 0);
		op = (uint8_t)(0x86 + w);
		RM("xchg E,G", &op, 1, s, -1, 0, ARITH, true, 0);
		{
			uint8_t o2[2] = {0x0f, (uint8_t)(0xc0 + w)};
			RM("xadd E,G", o2, 2, s, -1, 0, ARITH, true, 0);
			o2[1] = (uint8_t)(0xb0 + w);
			RM("cmpxchg E,G", o2, 2, s, -1, 0, ARITH, true, FX_CMPXCHG);
		}
		for (unsigned i = 0; i < 2; i++) {
			memset(&e, 0, sizeof(e));
			e.size = s;
			e.rexb8 = s == 1 && i;
			e.op[0] = (uint8_t)(s == 1 ? 0xb0 : 0xb8);
			e.nop = 1;
			e.regop = (int)pick_reg(r, s, e.rexb8);
			e.imm_len = s == 8 && i ? 8 : imm_for(s);
			if (s == 8 && !i) {
				/* C7 /0 is the sign-extended form; B8+r
				 * with REX.W takes a full imm64. */
				e.op[0] = 0xc7;
				e.modrm = true;
				e.regop = -1;
				e.reg = 0;
				e.rm = (int)pick_reg(r, s, false);
			}
			emit(t, &e, ARITH, "mov r,I o%s #%u", sz_name(s), i);
		}
		if (s != 1) {
			memset(&e, 0, sizeof(e));
			e.size = s;
			e.op[0] = 0x90;
			e.nop = 1;
			e.regop = (int)(1 + diff_below(r, 15));
			emit(t, &e, ARITH, "xchg rA,r o%s (%s)", sz_name(s),
			     reg_names[e.regop]);
		}
		/* moffs: A0-A3 with a 64-bit absolute address. */
		for (unsigned d = 0; d < 2; d++) {
			uint64_t addr = DATA + diff_below(r, 0x100);
			memset(&e, 0, sizeof(e));
			e.size = s;
			e.op[0] = (uint8_t)(0xa0 + 2 * d + w);
			e.nop = 1;
			e.regop = -1;
			e.imm_len = 8;
			e.imm_fixed = true;
			memcpy(e.imm, &addr, 8);
			emit(t, &e, ARITH, "mov %s o%s", d ? "moffs,A" : "A,moffs",
			     sz_name(s));
		}
	}
	/* Addressing forms through MOV G,E: SIB, disp32, RIP-relative. */
	for (unsigned i = 0; i < 8; i++) {
		struct form *f = table_add(t);
		uint8_t *c = f->code;
		unsigned n = 0;
		unsigned size = (i & 1) ? 8 : 4;
		int32_t disp;
		if (size == 8)
			c[n++] = 0x48;
		c[n++] = 0x8b;
		if (i < 4) {
			/* mov reg, [rbp + rsi*scale + disp32] */
			c[n++] = (uint8_t)(0x84 | (i << 3 & 0x38));
			c[n++] = (uint8_t)((i << 6) | (R_SI << 3) | R_BP);
			disp = (int32_t)diff_below(r, 0x40);
			memcpy(c + n, &disp, 4);
			n += 4;
			snprintf(f->name, sizeof(f->name),
				 "mov G,[rbp+rsi*%u+d32] o%s", 1u << i, sz_name(size));
			f->fix = FX_MEM | FX_STR;
		} else {
			/* mov reg, [rip + disp32] pointing into DATA */
			c[n++] = (uint8_t)(0x05 | ((i & 7) << 3));
			disp = (int32_t)(int64_t)(DATA + 0x40 * (i - 4) -
						  (INSN + n + 4));
			memcpy(c + n, &disp, 4);
			n += 4;
			snprintf(f->name, sizeof(f->name), "mov G,[rip+d32] o%s",
				 sz_name(size));
		}
		f->len = (uint8_t)n;
		f->size = (uint8_t)size;
		f->rm = -1;
		f->reg = -1;
		f->defined = ARITH;
	}
	/* MOVZX/MOVSX/MOVSXD, CBW/CWDE/CDQE, CWD/CDQ/CQO, CMOVcc, SETcc. */
	for (unsigned si = 1; si < 4; si++) {
		unsigned s = sizes[si];
		struct enc e = {0};
		static const uint8_t mx[4] = {0xb6, 0xb7, 0xbe, 0xbf};
		static const char *const mxn[4] = {"movzx G,Eb", "movzx G,Ew",
						   "movsx G,Eb", "movsx G,Ew"};
		for (unsigned k = 0; k < 4; k++) {
			uint8_t op[2] = {0x0f, mx[k]};
			RM(mxn[k], op, 2, s, -1, 0, ARITH, false, 0);
		}
		e.size = s;
		e.op[0] = 0x98;
		e.nop = 1;
		e.regop = -1;
		emit(t, &e, ARITH, "cbw/cwde/cdqe o%s", sz_name(s));
		e.op[0] = 0x99;
		emit(t, &e, ARITH, "cwd/cdq/cqo o%s", sz_name(s));
		for (unsigned cc = 0; cc < 16; cc++) {
			uint8_t op[2] = {0x0f, (uint8_t)(0x40 + cc)};
			char mn[24];
			snprintf(mn, sizeof(mn), "cmov%x G,E", cc);
			RM(mn, op, 2, s, -1, 0, ARITH, false, 0);
		}
	}
	{
		uint8_t op = 0x63;
		RM("movsxd G,Ed", &op, 1, 8, -1, 0, ARITH, false, 0);
	}
	for (unsigned cc = 0; cc < 16; cc++) {
		uint8_t op[2] = {0x0f, (uint8_t)(0x90 + cc)};
		char mn[24];
		snprintf(mn, sizeof(mn), "set%x E", cc);
		RM(mn, op, 2, 1, 0, 0, ARITH, false, 0);
	}
	{
		struct enc e = {0};
		e.size = 1;
		e.op[0] = 0xd7;
		e.nop = 1;
		e.regop = -1;
		emit(t, &e, ARITH, "xlat")->fix |= FX_RBX_DATA;
	}
}

/* LEA over ModRM/SIB shapes: every mod, base, index and scale, at each
 * operand and address size. Nothing is accessed, so all registers stay
 * random. */
static void forms_lea(struct table *t, struct diff_rng *r)
{
	for (unsigned k = 0; k < 48; k++) {
		struct form *f = table_add(t);
		uint8_t *c = f->code;
		unsigned n = 0;
		unsigned size = sizes[1 + k % 3];
		bool a32 = (k / 3) & 1;
		unsigned mod = (unsigned)diff_below(r, 3);
		bool sib = k % 4 != 0;
		unsigned reg = (unsigned)diff_below(r, 16);
		unsigned base = (unsigned)diff_below(r, 16);
		unsigned idx = (unsigned)diff_below(r, 16);
		unsigned rm = sib ? 4 : (unsigned)diff_below(r, 8) | (base & 8);
		if (!sib && (rm & 7) == 4)
			rm ^= 1; /* 4 would mean a SIB byte follows */
		uint8_t rex = 0x40 | (size == 8 ? 8 : 0) | (reg & 8 ? 4 : 0);
		if (a32)
			c[n++] = 0x67;
		if (size == 2)
			c[n++] = 0x66;
		if (sib) {
			rex |= (idx & 8 ? 2 : 0) | (base & 8 ? 1 : 0);
		} else {
			rex |= rm & 8 ? 1 : 0;
		}
		if (rex != 0x40)
			c[n++] = rex;
		c[n++] = 0x8d;
		c[n++] = (uint8_t)((mod << 6) | ((reg & 7) << 3) | (rm & 7));
		if (sib)
			c[n++] = (uint8_t)((diff_below(r, 4) << 6) |
					   ((idx & 7) << 3) | (base & 7));
		if (mod == 1) {
			c[n++] = (uint8_t)diff_rand(r);
		} else if (mod == 2 || (mod == 0 && (rm & 7) == 5) ||
			   (mod == 0 && sib && (base & 7) == 5)) {
			uint32_t d = (uint32_t)diff_value(r);
			memcpy(c + n, &d, 4);
			n += 4;
		}
		f->len = (uint8_t)n;
		f->size = (uint8_t)size;
		f->rm = -1;
		f->reg = -1;
		f->defined = ARITH;
		snprintf(f->name, sizeof(f->name), "lea o%s a%s #%u", sz_name(size),
			 a32 ? "32" : "64", k);
	}
}

static void forms_branch(struct table *t, struct diff_rng *r)
{
	struct enc e = {0};
	struct form *f;
	e.regop = -1;
	/* Targets: 13 bytes ahead is label B (see stub_emit). */
	for (unsigned cc = 0; cc < 16; cc++) {
		memset(&e, 0, sizeof(e));
		e.regop = -1;
		e.size = 1;
		e.op[0] = (uint8_t)(0x70 + cc);
		e.nop = 1;
		e.imm_len = 1;
		e.imm_fixed = true;
		e.imm[0] = 13;
		emit(t, &e, ARITH, "j%x rel8", cc);
		e.op[0] = 0x0f;
		e.op[1] = (uint8_t)(0x80 + cc);
		e.nop = 2;
		e.imm_len = 4;
		emit(t, &e, ARITH, "j%x rel32", cc);
	}
	memset(&e, 0, sizeof(e));
	e.regop = -1;
	e.size = 1;
	e.nop = 1;
	e.imm_fixed = true;
	e.imm[0] = 13;
	e.imm_len = 1;
	e.op[0] = 0xeb;
	emit(t, &e, ARITH, "jmp rel8");
	e.op[0] = 0xe9;
	e.imm_len = 4;
	emit(t, &e, ARITH, "jmp rel32");
	e.op[0] = 0xe8;
	emit(t, &e, ARITH, "call rel32");
	e.imm_len = 1;
	for (unsigned k = 0; k < 4; k++) {
		static const char *const nm[4] = {"loopne", "loope", "loop", "jrcxz"};
		e.op[0] = (uint8_t)(0xe0 + k);
		e.npfx = 0;
		emit(t, &e, ARITH, "%s", nm[k])->fix |= FX_RCX_SMALL;
		e.pfx[0] = 0x67;
		e.npfx = 1;
		emit(t, &e, ARITH, "%s a32", nm[k])->fix |= FX_RCX_SMALL;
		e.npfx = 0;
	}
	e.imm_len = 0;
	e.op[0] = 0xc3;
	emit(t, &e, ARITH, "ret")->fix |= FX_RET;
	e.op[0] = 0xc2;
	e.imm_len = 2;
	e.imm[0] = 0x18;
	e.imm[1] = 0;
	emit(t, &e, ARITH, "ret Iw")->fix |= FX_RET;
	for (unsigned k = 0; k < 2; k++) {
		for (int mem = 0; mem < 2; mem++) {
			memset(&e, 0, sizeof(e));
			e.size = 1; /* 64-bit by default: no REX.W needed */
			e.op[0] = 0xff;
			e.nop = 1;
			e.regop = -1;
			e.modrm = true;
			e.reg = k ? 2 : 4;
			e.rm = mem ? -1 : (int)pick_data_reg(r, 8, false);
			e.disp = (unsigned)diff_below(r, 0x70) & ~7u;
			f = emit(t, &e, ARITH, "%s E %s", k ? "call" : "jmp",
				 mem ? "mem" : "reg");
			f->size = 8;
			f->fix |= FX_TARGET;
		}
	}
}

static void forms_stack(struct table *t, struct diff_rng *r)
{
	struct enc e = {0};
	for (unsigned s = 2; s <= 8; s += 6) {
		for (unsigned i = 0; i < 3; i++) {
			memset(&e, 0, sizeof(e));
			e.size = s == 2 ? 2 : 1; /* 64 is the default */
			e.op[0] = 0x50;
			e.nop = 1;
			e.regop = (int)pick_reg(r, 8, false);
			emit(t, &e, ARITH, "push r o%s (%s)", sz_name(s),
			     reg_names[e.regop])->size = (uint8_t)s;
			e.op[0] = 0x58;
			e.regop = (int)pick_reg(r, 8, false);
			emit(t, &e, ARITH, "pop r o%s (%s)", sz_name(s),
			     reg_names[e.regop])->size = (uint8_t)s;
		}
		memset(&e, 0, sizeof(e));
		e.size = s == 2 ? 2 : 1;
		e.regop = -1;
		e.nop = 1;
		e.op[0] = 0x68;
		e.imm_len = s == 2 ? 2 : 4;
		emit(t, &e, ARITH, "push Iz o%s", sz_name(s))->size = (uint8_t)s;
		e.op[0] = 0x6a;
		e.imm_len = 1;
		emit(t, &e, ARITH, "push Ib o%s", sz_name(s))->size = (uint8_t)s;
		e.imm_len = 0;
		e.op[0] = 0x9c;
		emit(t, &e, ARITH, "pushf o%s", sz_name(s))->size = (uint8_t)s;
		e.op[0] = 0x9d;
		{
			struct form *f = emit(t, &e, ARITH, "popf o%s", sz_name(s));
			f->size = (uint8_t)s;
			f->fix |= FX_POPF;
		}
		e.op[0] = 0xc9;
		emit(t, &e, ARITH, "leave o%s", sz_name(s))->fix |= FX_RBP_STACK;
		for (unsigned lvl = 0; lvl < 4; lvl++) {
			struct form *f;
			e.op[0] = 0xc8;
			e.imm_len = 3;
			e.imm_fixed = true;
			e.imm[0] = (uint8_t)(8 * diff_below(r, 5));
			e.imm[1] = 0;
			e.imm[2] = (uint8_t)(lvl == 3 ? 33 + diff_below(r, 3) : lvl);
			f = emit(t, &e, ARITH, "enter Iw,%u o%s", e.imm[2], sz_name(s));
			f->fix |= FX_RBP_STACK;
			f->size = (uint8_t)s;
			e.imm_len = 0;
			e.imm_fixed = false;
		}
		for (int mem = 0; mem < 2; mem++) {
			struct form *f;
			memset(&e, 0, sizeof(e));
			e.size = s == 2 ? 2 : 1;
			e.nop = 1;
			e.regop = -1;
			e.modrm = true;
			e.op[0] = 0xff;
			e.reg = 6;
			e.rm = mem ? -1 : (int)pick_reg(r, 8, false);
			e.disp = (unsigned)diff_below(r, 0x70);
			f = emit(t, &e, ARITH, "push E o%s %s", sz_name(s),
				 mem ? "mem" : "reg");
			f->size = (uint8_t)s;
			e.op[0] = 0x8f;
			e.reg = 0;
			e.rm = mem ? -1 : (int)pick_reg(r, 8, false);
			f = emit(t, &e, ARITH, "pop E o%s %s", sz_name(s),
				 mem ? "mem" : "reg");
			f->size = (uint8_t)s;
		}
	}
}

static void forms_string(struct table *t, struct diff_rng *r)
{
	static const struct { uint8_t op; const char *nm; uint16_t def; bool cmp; } str[5] = {
		{0xa4, "movs", ARITH, false}, {0xa6, "cmps", ARITH, true},
		{0xaa, "stos", ARITH, false}, {0xac, "lods", ARITH, false},
		{0xae, "scas", ARITH, true},
	};
	(void)r;
	for (unsigned k = 0; k < 5; k++) {
		for (unsigned si = 0; si < 4; si++) {
			unsigned s = sizes[si];
			for (unsigned rep = 0; rep < (str[k].cmp ? 3u : 2u); rep++) {
				struct enc e = {0};
				e.size = s;
				e.regop = -1;
				e.op[0] = (uint8_t)(str[k].op + (s != 1));
				e.nop = 1;
				if (rep)
					e.pfx[e.npfx++] = rep == 1 ? 0xf3 : 0xf2;
				emit(t, &e, str[k].def, "%s%s o%s",
				     rep == 0 ? "" : rep == 1 ? "rep " : "repne ",
				     str[k].nm, sz_name(s))->fix |= FX_STR | FX_DF;
			}
		}
	}
}

static void forms_misc(struct table *t, struct diff_rng *r)
{
	static const struct { uint8_t op; const char *nm; } one[] = {
		{0x9e, "sahf"}, {0x9f, "lahf"}, {0xf5, "cmc"}, {0xf8, "clc"},
		{0xf9, "stc"}, {0xfc, "cld"}, {0xfd, "std"}, {0x90, "nop"},
	};
	struct enc e = {0};
	for (unsigned i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		memset(&e, 0, sizeof(e));
		e.size = 1;
		e.regop = -1;
		e.op[0] = one[i].op;
		e.nop = 1;
		emit(t, &e, ARITH, "%s", one[i].nm)->fix |= FX_DF;
	}
	{
		uint8_t op[2] = {0x0f, 0x1f};
		RM("nop E", op, 2, 4, 0, 0, ARITH, false, 0);
	}
	for (unsigned lock = 0; lock < 2; lock++) {
		uint8_t op[2] = {0x0f, 0xc7};
		RM(lock ? "lock cmpxchg8b M" : "cmpxchg8b M", op, 2, 4, 1, 0,
		   ARITH, false, FX_CX8);
		/* Only the memory form exists: drop the register one. */
		t->f[t->n - 2] = t->f[t->n - 1];
		t->n--;
		if (lock) {
			memmove(t->f[t->n - 1].code + 1, t->f[t->n - 1].code,
				t->f[t->n - 1].len);
			t->f[t->n - 1].code[0] = 0xf0;
			t->f[t->n - 1].len++;
		}
	}
	/* Encodings that must raise #UD. */
	{
		static const struct { uint8_t b[4]; uint8_t n; const char *nm; } ud[] = {
			{{0x0f, 0x0b}, 2, "ud2"},
			{{0xf0, 0x01, 0xc0}, 3, "lock add reg (#UD)"},
			{{0xf0, 0x89, 0x45, 0x08}, 4, "lock mov mem (#UD)"},
			{{0xf0, 0x90}, 2, "lock nop (#UD)"},
			{{0x8d, 0xc0}, 2, "lea reg (#UD)"},
			{{0x0f, 0xc7, 0xc8}, 3, "cmpxchg8b reg (#UD)"},
			{{0x0f, 0xb9, 0xc0}, 3, "ud1"},
			{{0xcc}, 1, "int3"},
		};
		for (unsigned i = 0; i < sizeof(ud) / sizeof(ud[0]); i++) {
			struct form *f = table_add(t);
			memcpy(f->code, ud[i].b, ud[i].n);
			f->len = ud[i].n;
			f->size = 4;
			f->rm = f->reg = -1;
			f->defined = ARITH;
			f->fix = FX_MEM;
			snprintf(f->name, sizeof(f->name), "%s", ud[i].nm);
		}
	}
	(void)r;
}

static void build_table(struct table *t)
{
	struct diff_rng r = {0x5eed0001};
	forms_alu(t, &r);
	forms_unary(t, &r);
	forms_shift(t, &r);
	forms_bits(t, &r);
	forms_mov(t, &r);
	forms_lea(t, &r);
	forms_branch(t, &r);
	forms_stack(t, &r);
	forms_string(t, &r);
	forms_misc(t, &r);
}

/* ---- states ---- */

static uint64_t *byte_reg(uint64_t *gpr, unsigned r, bool rexb8, unsigned *shift)
{
	if (!rexb8 && r >= 4 && r < 8) {
		*shift = 8;
		return &gpr[r - 4];
	}
	*shift = 0;
	return &gpr[r];
}

static uint64_t opnd_get(const uint64_t *gpr, const uint8_t *mem, int r,
			 unsigned disp, unsigned size, bool rexb8)
{
	uint64_t v = 0;
	if (r < 0) {
		uint64_t ea = gpr[R_BP] + disp - DATA;
		if (ea + size <= REGION)
			memcpy(&v, mem + ea, size);
		return v;
	}
	if (size == 1) {
		unsigned sh;
		uint64_t *p = byte_reg((uint64_t *)gpr, (unsigned)r, rexb8, &sh);
		return (*p >> sh) & 0xff;
	}
	return gpr[r] & (size == 8 ? ~0ull : (1ull << (size * 8)) - 1);
}

static void opnd_set(uint64_t *gpr, uint8_t *mem, int r, unsigned disp,
		     unsigned size, bool rexb8, uint64_t v)
{
	if (r < 0) {
		uint64_t ea = gpr[R_BP] + disp - DATA;
		if (ea + size <= REGION)
			memcpy(mem + ea, &v, size);
		return;
	}
	if (size == 1) {
		unsigned sh;
		uint64_t *p = byte_reg(gpr, (unsigned)r, rexb8, &sh);
		*p = (*p & ~(0xffull << sh)) | ((v & 0xff) << sh);
		return;
	}
	if (size == 8)
		gpr[r] = v;
	else
		gpr[r] = (gpr[r] & ~((1ull << (size * 8)) - 1)) |
			 (v & ((1ull << (size * 8)) - 1));
}

static uint64_t size_mask64(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void make_state(const struct form *f, struct diff_rng *r,
		       struct state *s)
{
	unsigned sz = f->size;
	for (unsigned i = 0; i < 16; i++)
		s->gpr[i] = diff_value(r);
	for (unsigned i = 0; i < REGION; i += 8) {
		uint64_t v = diff_value(r);
		memcpy(s->mem + i, &v, 8);
	}
	s->gpr[R_SP] = STACK;
	s->flags = diff_rand(r) & ARITH;
	if (f->fix & FX_DF)
		s->flags |= (diff_rand(r) & 1) ? FL_DF : 0;
	if (f->fix & FX_MEM)
		s->gpr[R_BP] = DATA;
	if (f->imm_len) {
		if (f->kind == K_SHIFT || f->kind == K_SHXD)
			s->imm = diff_count(r, sz * 8);
		else
			s->imm = diff_value(r);
		if (f->fix & FX_CNT16)
			s->imm %= 17;
	}
	if ((f->kind == K_SHIFT || f->kind == K_SHXD) && f->cnt == CNT_CL) {
		uint8_t c = diff_count(r, sz * 8);
		if (f->fix & FX_CNT16)
			c %= 17;
		s->gpr[R_CX] = (s->gpr[R_CX] & ~0xffull) | c;
	}
	if (f->fix & (FX_DIV | FX_IDIV)) {
		uint64_t d = opnd_get(s->gpr, s->mem, f->rm, f->disp, sz, f->rexb8);
		if (diff_below(r, 8) == 0) {
			/* leave it: zero and overflowing quotients too */
		} else if (f->fix & FX_DIV) {
			if (d == 0) {
				d = diff_value(r) & size_mask64(sz);
				d |= d ? 0 : 3;
				opnd_set(s->gpr, s->mem, f->rm, f->disp, sz,
					 f->rexb8, d);
				d = opnd_get(s->gpr, s->mem, f->rm, f->disp, sz,
					     f->rexb8);
			}
			if (d && sz == 1)
				s->gpr[R_AX] = (s->gpr[R_AX] & ~0xff00ull) |
					       ((((s->gpr[R_AX] >> 8) & 0xff) % d) << 8);
			else if (d && f->rm != R_DX)
				opnd_set(s->gpr, s->mem, R_DX, 0, sz, false,
					 (s->gpr[R_DX] & size_mask64(sz)) % d);
		} else {
			if (sz == 1) {
				int8_t lo = (int8_t)s->gpr[R_AX];
				s->gpr[R_AX] = (s->gpr[R_AX] & ~0xff00ull) |
					       (lo < 0 ? 0xff00ull : 0);
			} else if (f->rm != R_DX && f->rm != R_AX) {
				uint64_t a = s->gpr[R_AX] & size_mask64(sz);
				bool neg = (a >> (sz * 8 - 1)) & 1;
				opnd_set(s->gpr, s->mem, R_DX, 0, sz, false,
					 neg ? ~0ull : 0);
			}
		}
	}
	if ((f->fix & FX_CMPXCHG) && (diff_rand(r) & 1)) {
		uint64_t v = opnd_get(s->gpr, s->mem, f->rm, f->disp, sz, f->rexb8);
		opnd_set(s->gpr, s->mem, R_AX, 0, sz, false, v);
	}
	if ((f->fix & FX_CX8) && (diff_rand(r) & 1)) {
		uint64_t v = opnd_get(s->gpr, s->mem, -1, f->disp, 8, false);
		s->gpr[R_AX] = (s->gpr[R_AX] & ~0xffffffffull) | (uint32_t)v;
		s->gpr[R_DX] = (s->gpr[R_DX] & ~0xffffffffull) | (v >> 32);
	}
	if (f->fix & FX_STR) {
		uint64_t si = 0x80 + diff_below(r, 0x100);
		uint64_t di = 0x80 + diff_below(r, 0x100);
		if (f->fix & FX_MEM) {
			/* the SIB forms: rsi is the index, kept small */
			s->gpr[R_SI] = diff_below(r, 0x20);
		} else {
			s->gpr[R_SI] = DATA + si;
			s->gpr[R_DI] = DATA + di;
			s->gpr[R_CX] = diff_below(r, 8);
			if (diff_rand(r) & 1) {
				/* equal runs so REPE/REPNE stop early or late */
				memmove(s->mem + di, s->mem + si, 0x40);
				s->mem[di + diff_below(r, 0x40)] ^= 1;
			}
			if (diff_below(r, 4) == 0)
				memset(s->mem + di, (int)(s->gpr[R_AX] & 0xff), 0x40);
		}
	}
	if (f->fix & FX_RCX_SMALL) {
		static const uint64_t cx[] = {0, 1, 2, 0x100000000ull, 0x100000001ull,
					      ~0ull};
		s->gpr[R_CX] = cx[diff_below(r, sizeof(cx) / sizeof(cx[0]))];
	}
	if (f->fix & FX_BTOFF) {
		int64_t off = (int64_t)diff_below(r, 0x1000) - 0x800;
		s->gpr[R_BP] = DATA + 0x100;
		opnd_set(s->gpr, s->mem, f->reg, 0, sz, false, (uint64_t)off);
	}
	if (f->fix & FX_RBX_DATA)
		s->gpr[R_BX] = DATA + diff_below(r, 0x100);
	if (f->fix & (FX_TARGET | FX_RET)) {
		uint64_t a = INSN + f->len;
		uint64_t tgt = (diff_rand(r) & 1) ? a + 13 : a;
		if (f->fix & FX_RET)
			memcpy(s->mem + (STACK - DATA), &tgt, 8);
		else
			opnd_set(s->gpr, s->mem, f->rm, f->disp, 8, false, tgt);
	}
	if (f->fix & FX_POPF) {
		uint64_t fl = (diff_rand(r) & (ARITH | FL_DF)) | 0x202;
		memcpy(s->mem + (STACK - DATA), &fl, 8);
	}
	if (f->fix & FX_RBP_STACK) {
		s->gpr[R_BP] = DATA + 0x400 + 8 * diff_below(r, 0x60);
		if (diff_below(r, 4) == 0)
			s->gpr[R_BP] += diff_below(r, 8);
	}
}

/* ---- host side ---- */

static unsigned put_abs_mov(uint8_t *p, bool store, unsigned r, uint64_t addr)
{
	unsigned n = 0;
	p[n++] = (uint8_t)(0x48 | (r & 8 ? 4 : 0));
	p[n++] = store ? 0x89 : 0x8b;
	p[n++] = (uint8_t)(0x04 | ((r & 7) << 3));
	p[n++] = 0x25;
	memcpy(p + n, &addr, 4);
	return n + 4;
}

/* mov dword [abs], imm32 */
static unsigned put_abs_movi(uint8_t *p, uint64_t addr, uint32_t imm)
{
	p[0] = 0xc7;
	p[1] = 0x04;
	p[2] = 0x25;
	memcpy(p + 3, &addr, 4);
	memcpy(p + 7, &imm, 4);
	return 11;
}

/* The stub: save the host's callee-saved registers and stack pointer, load
 * RFLAGS and all sixteen GPRs from the context, run the instruction, note
 * whether it branched (label A: fell through, B: 13 bytes on), store
 * everything back, restore, return. Only absolute addressing after the
 * load, so the instruction may change any register. */
static void stub_emit(uint8_t *code, const struct form *f)
{
	struct hctx *h = (struct hctx *)(uintptr_t)CTX;
	uint8_t *p = code;
	uint64_t a;
	static const uint8_t save[] = {0x53, 0x55, 0x41, 0x54, 0x41, 0x55,
				       0x41, 0x56, 0x41, 0x57};
	static const uint8_t restore[] = {0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d,
					  0x41, 0x5c, 0x5d, 0x5b};

	memset(code, 0x90, 4096);
	memcpy(p, save, sizeof(save));
	p += sizeof(save);
	p += put_abs_mov(p, true, R_SP, (uintptr_t)&h->host_rsp);
	/* mov rsp, &in_flags; popfq */
	a = (uintptr_t)&h->in_flags;
	*p++ = 0x48;
	*p++ = 0xc7;
	*p++ = 0xc4;
	memcpy(p, &a, 4);
	p += 4;
	*p++ = 0x9d;
	for (unsigned r = 0; r < 16; r++)
		if (r != R_SP)
			p += put_abs_mov(p, false, r, (uintptr_t)&h->in[r]);
	p += put_abs_mov(p, false, R_SP, (uintptr_t)&h->in[R_SP]);

	p = code + (INSN - CODE);
	memcpy(p, f->code, f->len);
	p += f->len;
	p += put_abs_movi(p, (uintptr_t)&h->taken, 0);
	*p++ = 0xeb;
	*p++ = 11;
	p += put_abs_movi(p, (uintptr_t)&h->taken, 1);
	for (unsigned r = 0; r < 16; r++)
		p += put_abs_mov(p, true, r, (uintptr_t)&h->out[r]);
	a = (uintptr_t)&h->out_flags + 8;
	*p++ = 0x48;
	*p++ = 0xc7;
	*p++ = 0xc4;
	memcpy(p, &a, 4);
	p += 4;
	*p++ = 0x9c;
	p += put_abs_mov(p, false, R_SP, (uintptr_t)&h->host_rsp);
	*p++ = 0xfc; /* cld: the C code expects DF clear */
	memcpy(p, restore, sizeof(restore));
	p += sizeof(restore);
	*p++ = 0xc3;
}

static void host_signal(int sig, siginfo_t *si, void *uc_)
{
	struct hctx *h = (struct hctx *)(uintptr_t)CTX;
	ucontext_t *uc = uc_;
	static const int map[16] = {
		REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI,
		REG_RDI, REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13,
		REG_R14, REG_R15,
	};
	(void)sig;
	(void)si;
	h->trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
	for (unsigned i = 0; i < 16; i++)
		h->fault_gpr[i] = (uint64_t)uc->uc_mcontext.gregs[map[i]];
	siglongjmp(h->jb, 1);
}

static void host_run(struct ctx *c, const struct form *f, const struct state *in,
		     struct result *out)
{
	struct hctx *h = c->h;
	void (*fn)(void) = (void (*)(void))(uintptr_t)CODE;

	if (f->imm_len)
		memcpy(c->code + (INSN - CODE) + f->imm_off, &in->imm, f->imm_len);
	memcpy(h->in, in->gpr, sizeof(h->in));
	h->in_flags = in->flags | FL_FIXED1;
	memcpy(c->data, in->mem, REGION);
	h->taken = 2;
	if (sigsetjmp(h->jb, 1) == 0) {
		fn();
		memcpy(out->gpr, h->out, sizeof(out->gpr));
		out->flags = h->out_flags;
		out->vec = -1;
		out->rip = INSN + f->len + (h->taken == 1 ? 13 : 0);
	} else {
		memcpy(out->gpr, h->fault_gpr, sizeof(out->gpr));
		out->flags = 0;
		out->vec = h->trapno;
		out->rip = 0;
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
	c->h = (struct hctx *)(uintptr_t)CTX;
	return 0;
}

/* ---- emulator side ---- */

static int emu_init(struct ctx *c)
{
	struct testbus *tb = &c->tb;
	struct x86_state *s = &c->tmpl;

	if (testbus_init(tb, RAM_SIZE) != 0)
		return -1;
	cpu_get_state(tb->cpu, s);
	diff_long_mode(tb->ram, s);
	return 0;
}

static void emu_run(struct ctx *c, const struct state *in, struct result *out)
{
	struct testbus *tb = &c->tb;
	struct x86_state s = c->tmpl;
	enum cpu_exit ex;

	memcpy(tb->ram + DATA, in->mem, REGION);
	memcpy(tb->ram + CODE, c->code, 0x1000);
	memcpy(s.gpr, in->gpr, sizeof(s.gpr));
	s.rip = INSN;
	/* IF set as on the host (PUSHF sees it); no interrupt is pending. */
	s.rflags = in->flags | FL_FIXED1 | FL_IF;
	cpu_set_state(tb->cpu, &s);
	ex = cpu_run(tb->cpu, 1);
	cpu_get_state(tb->cpu, &s);
	memcpy(out->gpr, s.gpr, sizeof(out->gpr));
	out->flags = s.rflags;
	out->rip = s.rip;
	out->vec = ex == CPU_EXIT_SHUTDOWN ? 8 : diff_vector_at(s.rip);
	memcpy(out->mem, tb->ram + DATA, REGION);
}

/* ---- comparison ---- */

/* The arithmetic flags the SDM defines for this form in this state, and
 * registers whose result it leaves undefined. */
static uint16_t defined_flags(const struct form *f, const struct state *in,
			      unsigned *undef_reg)
{
	unsigned w = f->size * 8;
	unsigned c, m;
	*undef_reg = 0;
	switch (f->kind) {
	case K_SHIFT:
	case K_SHXD:
		c = f->cnt == CNT_ONE ? 1 : f->cnt == CNT_CL
						    ? (unsigned)(in->gpr[R_CX] & 0xff)
						    : (unsigned)(in->imm & 0xff);
		m = c & (f->size == 8 ? 63 : 31);
		if (m == 0)
			return ARITH;
		if (f->kind == K_SHXD) {
			if (m > w)
				return 0;
			return FL_CF | FL_SF | FL_ZF | FL_PF | (m == 1 ? FL_OF : 0);
		}
		if (f->sub < 4) /* rotates leave SF ZF AF PF alone */
			return FL_CF | FL_SF | FL_ZF | FL_AF | FL_PF |
			       (m == 1 ? FL_OF : 0);
		return ((f->sub != 7 && m >= w) ? 0 : FL_CF) | FL_SF | FL_ZF |
		       FL_PF | (m == 1 ? FL_OF : 0);
	case K_BSX:
		if (opnd_get(in->gpr, in->mem, f->rm, f->disp, f->size, false) == 0)
			*undef_reg = 1u << f->reg;
		return f->defined;
	default:
		return f->defined;
	}
}

static void hexbytes(char *buf, size_t n, const uint8_t *b, unsigned len)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < len && o + 4 < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%02x ", b[i]);
}

static void print_state(const char *tag, const uint64_t *g, uint64_t fl)
{
	printf("#   %s:", tag);
	for (unsigned i = 0; i < 16; i++)
		printf("%s %s=%llx", i == 8 ? "\n#      " : "", reg_names[i],
		       (unsigned long long)g[i]);
	printf(" fl=%llx\n", (unsigned long long)fl);
}

/* Compares one run; returns 0 on agreement, 1 on a mismatch (with `why`
 * filled), and counts undefined-flag differences. */
static int compare(struct ctx *c, const struct form *f, const struct state *in,
		   const struct result *h, const struct result *e, char *why,
		   size_t wn, unsigned *undef)
{
	unsigned undef_reg;
	uint16_t def = defined_flags(f, in, &undef_reg);
	size_t o = 0;

	(void)c;
	why[0] = 0;
	if (h->vec != e->vec) {
		snprintf(why, wn, "exception: host %s, emulator %s (rip %llx)",
			 diff_vector_name(h->vec), diff_vector_name(e->vec),
			 (unsigned long long)e->rip);
		return 1;
	}
	for (unsigned i = 0; i < 16; i++) {
		if (h->vec >= 0 && i == R_SP)
			continue;
		if (h->gpr[i] != e->gpr[i] && !(undef_reg & (1u << i)))
			o += (size_t)snprintf(why + o, wn - o, "%s host %llx emu %llx; ",
					      reg_names[i],
					      (unsigned long long)h->gpr[i],
					      (unsigned long long)e->gpr[i]);
		if (o >= wn)
			return 1;
	}
	if (h->vec < 0) {
		uint64_t dmask = def | FL_DF;
		if ((h->flags ^ e->flags) & dmask)
			o += (size_t)snprintf(why + o, wn - o,
					      "flags host %llx emu %llx (defined %x); ",
					      (unsigned long long)(h->flags & CMPMASK),
					      (unsigned long long)(e->flags & CMPMASK),
					      (unsigned)dmask);
		else if ((h->flags ^ e->flags) & ARITH & ~def)
			(*undef)++;
		if (o < wn && h->rip != e->rip)
			o += (size_t)snprintf(why + o, wn - o, "rip host %llx emu %llx; ",
					      (unsigned long long)h->rip,
					      (unsigned long long)e->rip);
	}
	if (o < wn) {
		for (unsigned i = 0; i < REGION; i++) {
			uint64_t lin = DATA + i;
			if (h->vec >= 0 && lin >= (in->gpr[R_SP] & 0xffffffff) - 16 &&
			    lin < (in->gpr[R_SP] & 0xffffffff))
				continue; /* the emulator's exception frame */
			if (h->mem[i] != e->mem[i]) {
				o += (size_t)snprintf(why + o, wn - o,
						      "mem[%#llx] host %02x emu %02x; ",
						      (unsigned long long)lin,
						      h->mem[i], e->mem[i]);
				break;
			}
		}
	}
	return o != 0;
}

static void run_form(struct ctx *c, unsigned idx, struct tap *t)
{
	const struct form *f = &c->t.f[idx];
	struct diff_rng r = {0xd1ff0000ull + idx * 0x10001ull};
	struct state in;
	struct result h, e;
	char why[512], bytes[64];
	unsigned undef = 0, bad = 0;
	struct state first_in;
	struct result first_h, first_e;
	char first_why[512];

	stub_emit(c->code, f);
	for (unsigned n = 0; n < NSTATES; n++) {
		make_state(f, &r, &in);
		host_run(c, f, &in, &h);
		emu_run(c, &in, &e);
		c->runs++;
		if (compare(c, f, &in, &h, &e, why, sizeof(why), &undef)) {
			if (!bad) {
				first_in = in;
				first_h = h;
				first_e = e;
				memcpy(first_why, why, sizeof(why));
			}
			bad++;
		}
	}
	memcpy(bytes, "", 1);
	hexbytes(bytes, sizeof(bytes), f->code, f->len);
	if (f->imm_len && bad) {
		uint8_t code[16];
		memcpy(code, f->code, f->len);
		memcpy(code + f->imm_off, &first_in.imm, f->imm_len);
		hexbytes(bytes, sizeof(bytes), code, f->len);
	}
	tap_ok(t, bad == 0, "%s [%s]%s", f->name, bytes,
	       bad ? " mismatch" : "");
	if (bad) {
		c->mismatch_forms++;
		printf("#   %u of %u states differ; first: %s\n", bad, NSTATES,
		       first_why);
		print_state("in", first_in.gpr, first_in.flags);
		if (first_e.vec == EXC_UD && first_h.vec != EXC_UD)
			printf("#   (emulator raised #UD: handler pending?)\n");
		else if (first_h.vec < 0 && first_e.vec < 0) {
			print_state("host", first_h.gpr, first_h.flags);
			print_state("emu ", first_e.gpr, first_e.flags);
		}
	}
	if (undef) {
		c->undef_forms++;
		c->undef_diffs += undef;
		printf("#   undefined-flag differences: %u of %u states\n", undef,
		       NSTATES);
	}
}

/* Exception delivery in the emulator's 64-bit mode goes through the IDT
 * built above; check it once so a change there shows as one clear
 * failure rather than every faulting form. */
static int check_trap(struct ctx *c)
{
	struct state in;
	struct result e;
	memset(&in, 0, sizeof(in));
	in.gpr[R_SP] = STACK;
	memset(c->code, 0x90, 0x1000);
	c->code[INSN - CODE] = 0x0f;
	c->code[INSN - CODE + 1] = 0x0b;
	emu_run(c, &in, &e);
	return e.vec == EXC_UD ? 0 : -1;
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
	build_table(&c->t);
	if (!tap_ok(&t, check_trap(c) == 0,
		    "emulator exceptions in 64-bit mode land on the IDT handlers")) {
		return tap_done(&t);
	}
	for (unsigned i = 0; i < c->t.n; i++) {
		if (only && !strstr(c->t.f[i].name, only))
			continue;
		run_form(c, i, &t);
		tested++;
	}
	tap_diag("coverage: forms tested %u / forms in table %u", tested, c->t.n);
	tap_diag("runs: %llu", (unsigned long long)c->runs);
	tap_diag("mismatches: %u forms", c->mismatch_forms);
	tap_diag("undefined-flag differences: %llu runs in %u forms (not failures)",
		 (unsigned long long)c->undef_diffs, c->undef_forms);
	{
		stack_t ss = {.ss_flags = SS_DISABLE};
		sigaltstack(&ss, NULL);
	}
	free(c->altstack);
	testbus_free(&c->tb);
	free(c->t.f);
	free(c);
	fflush(stdout);
	return tap_done(&t);
}
