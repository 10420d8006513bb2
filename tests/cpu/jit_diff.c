/* Differential test of the native code generator (jit.c) against the
 * interpreter. Random programs for flat 32-bit protected mode at CPL 0,
 * mostly what the JIT compiles (MOV, MOVZX, the ALU ops, TEST, INC/DEC,
 * NOT, NEG, shifts, LEA, IMUL, MUL on registers and on every ModRM/SIB
 * form of memory), cut by instructions it leaves to the interpreter, by
 * forward Jcc and by loops, run on two test machines from the same state
 * and RAM, one with the JIT off and one with it on. Every way a compiled
 * run must hand back to the interpreter mid-run is provoked on purpose
 * (page crossings, addresses outside RAM, not-present and read-only
 * pages, stores into the running code and into the page table): that is
 * where the engines can part. Exit reason, registers, RIP, RFLAGS, CR0,
 * CR2, CR3, the exception vector, the instruction count and all of RAM
 * must come out the same. One category puts memory operands and the
 * moffs MOVs in FS and GS with a base and a limit (Linux's per-CPU
 * segment): accesses past the limit, writes to a read-only segment,
 * an expand-down one, and a base that wraps the sum past 4 GiB.
 *
 * One program again, described in full: cpu-jit_diff.t CATEGORY SEED.
 *
 * RAM is 512 KiB (its top 64 KiB also at 0xffff0000, read-only):
 * tcpu_pm32()'s tables and stubs below 0x13000, code in two pages at
 * 0x20000, the page directory and three page tables at 0x30000, sixteen
 * pages of random data at 0x40000 with the stack in the last, random
 * bytes in the ROM area, the hole from 0x80000 up. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "insn_util.h"

#define RAM_SIZE 0x80000u
#define CODE_PAGE 0x20000u
#define CODE_ROOM 0x2000u
#define PD 0x30000u
#define PT_LOW 0x31000u /* maps 0-4 MiB: RAM and the hole above it */
#define PT_TOP 0x32000u /* maps the last 4 MiB: the ROM alias */
#define DATA 0x40000u
#define DATA_SIZE 0x10000u
/* With paging: a not-present page, a good one, a read-only one (CR0.WP
 * is set), then good pages up to the stack's; SMC programs see the two
 * code pages again at ALIAS. */
#define NP_PAGE 0x40000u
#define RO_PAGE 0x42000u
#define GOOD 0x43000u
#define ALIAS 0x4d000u
#define STACK_PAGE 0x4f000u
/* C_PAGED maps the good pages again 4 MiB up (through PT_TWIN): the
 * same slots of the 1,024-entry TLB (vcpu.h, TLB_SIZE), so that accesses
 * to both miss into its victims. */
#define TLB_TWIN 0x400000u
#define PT_TWIN 0x33000u
#define STACK_TOP 0x4f800u
#define BUDGET 200000u
#define PROGRAMS 250 /* per category: about 2.5 s under ASan in all */

enum cat { C_REGS, C_MEM, C_PAGED, C_SMC, C_CROSS, C_OOR, C_SEG, C_NR };

static const char *const cat_name[C_NR] = {
	"registers", "memory", "paged", "smc", "crossing", "outside-ram", "segments",
};
static const char *const cat_what[C_NR] = {
	"registers only",
	"memory operands in RAM",
	"paging: not-present and read-only pages, page-table stores",
	"stores into the running code, half with paging and an alias",
	"accesses crossing a page, into the hole and into bad pages",
	"accesses outside RAM, to the ROM alias and past 4 GiB",
	"FS and GS with a base and a limit, moffs MOVs",
};

struct rng {
	uint64_t s;
};

static void rng_seed(struct rng *r, uint64_t seed)
{
	/* splitmix64 first: neighbouring seeds give unrelated streams */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	r->s = (z ^ (z >> 31)) | 1;
}

static uint64_t rnd(struct rng *r)
{
	/* xorshift64*: the same programs on every host and run */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* ---- the generator ----
 * One RNG call per expression at most: the programs must not depend on
 * the compiler's order of evaluation. */

/* What an SMC store may rewrite: the imm32 of a MOV r, imm32 (any value
 * keeps it valid), a slot of two 2-byte register ALU instructions
 * (another such pair replaces it), or bytes after the program's end (the
 * code's page, but no code). */
enum { K_IMM, K_SLOT, K_SCRATCH };

struct site {
	uint32_t off;   /* code offset of the site, or of a pending store's carrier */
	uint8_t kind, sub;
	uint32_t delta; /* ALIAS - CODE_PAGE when the store goes through the alias */
};

struct gen {
	struct rng r;
	enum cat cat;
	bool paging, alias;
	unsigned bad;          /* per cent of data accesses aimed at bad pages */
	uint8_t *ram;
	uint32_t code, len, limit;
	int depth;             /* PUSHes outstanding: ESP = STACK_TOP - 4 * depth */
	uint32_t loop_count;   /* ECX's highest value in a loop body, else 0 */
	bool skip;             /* in a forward Jcc's shadow: ESP must not move */
	uint64_t est, mult;    /* instructions the program runs, skips ignored */
	struct site pend[4];   /* SMC stores waiting for their target */
	unsigned npend;
	struct site sites[16]; /* targets earlier in this loop body */
	unsigned nsites;
	uint8_t pfx;           /* a segment prefix for the next memory instruction */
	uint32_t seg_base[2];  /* C_SEG: FS's and GS's bases */
};

static uint32_t below(struct gen *g, uint32_t n)
{
	return (uint32_t)(rnd(&g->r) % n);
}

/* Registers random code may write: not ECX (the loop counter, also an
 * index) nor ESP (the stack, also a base), so that both stay known. */
static unsigned vreg(struct gen *g)
{
	static const uint8_t v[6] = {R_AX, R_DX, R_BX, R_BP, R_SI, R_DI};
	return v[below(g, 6)];
}

static unsigned breg(struct gen *g)
{
	static const uint8_t v[6] = {0, 2, 3, 4, 6, 7}; /* AL DL BL AH DH BH */
	return v[below(g, 6)];
}

static uint32_t value(struct gen *g)
{
	static const uint32_t edge[8] = {0, 1, 0xffffffffu, 0x7fffffffu,
					 0x80000000u, 0xff, 0xffff, 32};
	switch (below(g, 4)) {
	case 0: return edge[below(g, 8)];
	case 1: return (uint32_t)(int32_t)(int8_t)rnd(&g->r);
	default: return (uint32_t)rnd(&g->r);
	}
}

static uint32_t disp8(struct gen *g)
{
	return (uint32_t)(int32_t)(int8_t)rnd(&g->r);
}

static uint32_t disp32(struct gen *g)
{
	/* Half of them wrap the address past 4 GiB. */
	return below(g, 2) ? below(g, 0x1000) - 0x800 : (uint32_t)rnd(&g->r);
}

static void bn(struct gen *g, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		g->ram[g->code + g->len++] = (uint8_t)(v >> (8 * i));
}

/* Opcodes are written little-endian in a uint32_t (0xaf0f: 0F AF); no
 * opcode byte is 0. */
static void op(struct gen *g, uint32_t o)
{
	bn(g, o, o > 0xffff ? 3 : o > 0xff ? 2 : 1);
}

static void done(struct gen *g)
{
	g->est += g->mult;
}

/* A register-form instruction, counted. */
static void rr(struct gen *g, uint32_t o, unsigned reg, unsigned rm, uint32_t imm,
	       unsigned nimm)
{
	op(g, o);
	bn(g, 0xc0 | reg << 3 | rm, 1);
	bn(g, imm, nimm);
	done(g);
}

static bool room(const struct gen *g)
{
	/* The largest item (a page-table store and its INVLPG) is < 64. */
	return g->len + 64 < g->limit;
}

static void patch(struct gen *g, uint32_t at, uint32_t add)
{
	uint32_t v;
	memcpy(&v, g->ram + g->code + at, 4);
	v += add;
	memcpy(g->ram + g->code + at, &v, 4);
}

/* Loads `v` into `reg` for an address; returns the code offset of the
 * imm32, in which the address is linear (an SMC store's target is added
 * there later). Sometimes the last step is an ADD or a LEA, so that the
 * address is an ALU result rather than a constant. */
static uint32_t set_reg(struct gen *g, unsigned reg, uint32_t v)
{
	uint32_t k = below(g, 4) ? 0 : 1 + below(g, 100), at;
	op(g, 0xb8 + reg);
	at = g->len;
	bn(g, v - k, 4);
	done(g);
	if (k && below(g, 2))
		rr(g, 0x83, 0, reg, k, 1); /* add reg, k */
	else if (k)
		bn(g, 0x408d | (reg << 3 | reg) << 8 | k << 16, 3), done(g); /* lea reg, [reg+k] */
	return at;
}

/* A memory operand: ModRM (reg field clear), SIB, displacement. */
struct ea {
	uint8_t b[7];
	unsigned n;
	int disp_at; /* index in b of a disp32 carrying the address, or -1 */
	int carrier; /* code offset of the field carrying the address, or -1 */
};

static void ea_put(struct ea *e, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		e->b[e->n++] = (uint8_t)(v >> (8 * i));
}

/* Emits what sets up an operand addressing `t`: base none, ESP or a
 * register, index none, a register or (in loops) ECX, every scale and
 * displacement, in every ModRM/SIB encoding. With `exact` the address is
 * t on every iteration and carried by one 32-bit field, so that it can be
 * patched later; otherwise ECX may move it and [esp + disp8] ignores it. */
static void gen_ea(struct gen *g, uint32_t t, bool exact, struct ea *e)
{
	enum { NONE = 8 };
	unsigned k = below(g, 10), base = k < 2 ? NONE : k < 4 ? R_SP : vreg(g);
	unsigned idx = below(g, 2) ? 4 : vreg(g), ss = below(g, 4), mod = below(g, 3);
	uint32_t esp = STACK_TOP - 4u * (uint32_t)g->depth, iv = 0, d;
	bool by_disp;

	if (idx != 4 && !exact && g->loop_count && below(g, 3) == 0)
		idx = R_CX;
	else if (idx == base)
		idx = 4;
	if (base == NONE)
		mod = 0;
	else if (base == R_BP && mod == 0)
		mod = 1;
	else if (base == R_SP && exact && idx == 4)
		mod = 2;
	by_disp = base == NONE || (base == R_SP && mod == 2);
	d = by_disp || mod == 2 ? disp32(g) : mod == 1 ? disp8(g) : 0;
	*e = (struct ea){.disp_at = -1, .carrier = -1};
	if (idx != 4 && idx != R_CX) {
		/* [esp + index + disp0/8] reaches t through the index. */
		bool carry = base == R_SP && !by_disp;
		iv = below(g, 4) ? below(g, 0x400) : (uint32_t)rnd(&g->r);
		iv = ss == 3 ? -iv : iv;
		ss = carry ? 0 : ss;
		k = set_reg(g, idx, carry ? t - esp - d : iv);
		if (carry)
			e->carrier = (int)k, iv = t - esp - d;
	}
	if (base < NONE && base != R_SP)
		e->carrier = (int)set_reg(g, base, t - (iv << ss) - d);
	if (by_disp)
		d = t - (base == R_SP ? esp : 0) - (iv << ss);
	if (idx == 4 && base != R_SP && below(g, 4)) { /* else SIB, no index */
		ea_put(e, mod << 6 | (base == NONE ? 5 : base), 1);
	} else {
		ea_put(e, mod << 6 | 4, 1);
		ea_put(e, ss << 6 | idx << 3 | (base == NONE ? 5 : base), 1);
	}
	if (by_disp)
		e->disp_at = (int)e->n;
	ea_put(e, d, by_disp || mod == 2 ? 4 : mod);
}

/* Emits the instruction around `e` with `reg` in ModRM.reg, counted. */
static void put_insn(struct gen *g, uint32_t o, unsigned reg, struct ea *e,
		     uint32_t imm, unsigned nimm)
{
	if (g->pfx)
		bn(g, g->pfx, 1);
	g->pfx = 0;
	op(g, o);
	if (e->disp_at >= 0)
		e->carrier = (int)g->len + e->disp_at;
	bn(g, e->b[0] | reg << 3, 1);
	for (unsigned i = 1; i < e->n; i++)
		bn(g, e->b[i], 1);
	bn(g, imm, nimm);
	done(g);
}

/* Some instruction with a `size`-byte memory operand at `e`, one that
 * writes it if `write`. Mostly compiled forms; CMOVcc, NEG, XCHG, byte
 * ADC/SBB and the 16-bit ALU forms are the interpreter's. */
static void mem_insn(struct gen *g, unsigned size, struct ea *e, bool write)
{
	static const uint8_t w4[8] = {1, 2, 3, 5, 6, 8, 9, 14};
	static const uint8_t w2[4] = {1, 3, 4, 5}, w1[4] = {1, 3, 5, 6};
	unsigned r = vreg(g), any = below(g, 8), alu = below(g, write ? 7 : 8);
	uint32_t v = value(g), cc = below(g, 16);

	if (size == 4) {
		switch (write ? w4[below(g, 8)] : below(g, 17)) {
		case 0: put_insn(g, 0x8b, r, e, 0, 0); break;
		case 1: put_insn(g, 0x89, any, e, 0, 0); break;
		case 2: put_insn(g, 0xc7, 0, e, v, 4); break;
		case 3: put_insn(g, alu * 8 + 1, any, e, 0, 0); break;
		case 4: put_insn(g, alu * 8 + 3, alu == 7 ? any : r, e, 0, 0); break;
		case 5: put_insn(g, 0x81, alu, e, v, 4); break;
		case 6: put_insn(g, 0x83, alu, e, v, 1); break;
		case 7: put_insn(g, 0x85, any, e, 0, 0); break;
		case 8: put_insn(g, 0xff, cc & 1, e, 0, 0); break; /* INC, DEC */
		case 9: put_insn(g, 0xf7, 2, e, 0, 0); break;      /* NOT */
		case 10: put_insn(g, 0xaf0f, r, e, 0, 0); break;
		case 11: put_insn(g, 0x69, r, e, v, 4); break;
		case 12: put_insn(g, 0x6b, r, e, v, 1); break;
		case 13: put_insn(g, 0xf7, 4 + (cc & 1), e, 0, 0); break; /* MUL, IMUL */
		case 14: put_insn(g, cc & 1 ? 0xf7 : 0x87, cc & 1 ? 3 : r, e, 0, 0); break; /* NEG, XCHG */
		case 15: /* PUSH it, POP it: ESP as it was */
			put_insn(g, 0xff, 6, e, 0, 0);
			op(g, 0x58 + r), done(g);
			break;
		default: /* CMOVcc, half the time right after TEST (compiled
			  * on the host's flags) */
			if (cc & 2)
				rr(g, 0x85, below(g, 8), below(g, 8), 0, 0);
			put_insn(g, 0x400f | cc << 8, r, e, 0, 0);
			break;
		}
	} else if (size == 2) {
		switch (write ? w2[below(g, 4)] : below(g, 6)) {
		case 0: put_insn(g, 0x8b66, r, e, 0, 0); break;
		case 1: put_insn(g, 0x8966, any, e, 0, 0); break;
		case 2: put_insn(g, 0xb70f, r, e, 0, 0); break;
		case 3: put_insn(g, 0x66 | (alu * 8 + 1) << 8, any, e, 0, 0); break;
		case 4: put_insn(g, 0xc766, 0, e, v, 2); break;
		default: put_insn(g, 0x8366, alu, e, v, 1); break;
		}
	} else {
		switch (write ? w1[below(g, 4)] : below(g, 7)) {
		case 0: put_insn(g, 0x8a, breg(g), e, 0, 0); break;
		case 1: put_insn(g, 0x88, any, e, 0, 0); break;
		case 2: put_insn(g, 0xb60f, r, e, 0, 0); break;
		case 3: put_insn(g, cc & 1 ? 0x10 : 0x18, any, e, 0, 0); break;
		case 4: put_insn(g, cc & 1 ? 0x12 : 0x1a, breg(g), e, 0, 0); break;
		case 5: put_insn(g, 0x80, alu, e, v, 1); break;
		default: put_insn(g, 0xc6, 0, e, v, 1); break;
		}
	}
}

/* Where a memory operand goes: random data (with paging, rarely the bad
 * pages), and by category across pages or outside RAM. `unknown`: from a
 * register holding whatever it holds. */
static uint32_t target(struct gen *g, unsigned size, bool *unknown)
{
	static const uint32_t bad_edges[4] = {NP_PAGE, NP_PAGE + 0x1000, RO_PAGE, GOOD};
	/* 256 bytes of slack for [base + ECX*8 + disp] in loops. */
	uint32_t lo = g->paging ? GOOD : DATA, hi = g->alias ? ALIAS : DATA + DATA_SIZE;
	uint32_t k = below(g, 200), t = lo + below(g, hi - lo - 256);

	*unknown = false;
	if (g->cat == C_CROSS && k < 100 && size > 1) {
		if (k < 8)
			t = RAM_SIZE; /* the rest in the hole */
		else if (g->paging && k < 14)
			t = bad_edges[k & 3];
		else
			t = (t & ~0xfffu) + 0x1000;
		return t - 1 - below(g, size - 1);
	}
	if (g->cat == C_OOR && k < 100) {
		if (k < 30) /* the hole; mapped with paging */
			return RAM_SIZE + below(g, 0x400000 - RAM_SIZE - 8);
		if (k < 40) /* RAM's last bytes, maybe on into the hole */
			return RAM_SIZE - 1 - below(g, size);
		if (k < 60) /* the ROM alias of RAM's top: no writes */
			return 0xffff0000u + below(g, 0x10000 - size);
		if (k < 70) /* the hole mapped in the last 4 MiB */
			return 0xffc00000u + below(g, 0x3f0000);
		if (k < 73) /* the last bytes below 4 GiB, or across (#GP) */
			return 0xffffffffu - below(g, 4);
		if (k < 80) /* anywhere: with paging mostly not mapped */
			return (uint32_t)rnd(&g->r);
		*unknown = true;
		return 0;
	}
	if (g->paging && k < g->bad)
		return (k % 3 ? RO_PAGE : NP_PAGE) + below(g, 4096);
	if (g->cat == C_PAGED && k >= 150)
		t += TLB_TWIN;
	return k & 3 ? t & ~(size - 1) : t;
}

/* C_SEG: half the operands through FS or GS, whose base is taken off the
 * target so that most land in RAM; a quarter of those a moffs MOV. */
static uint32_t seg_operand(struct gen *g, unsigned size, uint32_t t, bool *moffs_done)
{
	unsigned s;
	*moffs_done = false;
	if (g->cat != C_SEG || below(g, 2))
		return t;
	s = below(g, 2);
	g->pfx = s ? 0x65 : 0x64;
	t -= g->seg_base[s];
	if (below(g, 4))
		return t;
	bn(g, g->pfx, 1);
	g->pfx = 0;
	if (size == 2)
		bn(g, 0x66, 1);
	bn(g, (size == 1 ? 0xa0 : 0xa1) + 2 * below(g, 2), 1); /* to or from AL/AX/EAX */
	bn(g, t, 4);
	done(g);
	*moffs_done = true;
	return t;
}

static void mem_op(struct gen *g)
{
	unsigned size = below(g, 10) < 7 ? 4 : below(g, 2) ? 2 : 1;
	bool unknown, moffs;
	uint32_t t;
	struct ea e;

	t = target(g, size, &unknown);
	t = seg_operand(g, size, t, &moffs);
	if (moffs)
		return;
	if (unknown) { /* [base + disp8] with whatever the base holds */
		e = (struct ea){.b = {(uint8_t)(0x40 | vreg(g))}, .n = 1, .disp_at = -1,
				.carrier = -1};
		ea_put(&e, disp8(g), 1);
	} else {
		gen_ea(g, t, false, &e);
	}
	mem_insn(g, size, &e, below(g, 3) == 0);
}

/* Two 2-byte register ALU instructions. */
static uint32_t slot_ops(struct gen *g)
{
	static const uint8_t ops[10] = {0x01, 0x09, 0x11, 0x19, 0x21, 0x29,
					0x31, 0x39, 0x89, 0x85};
	uint32_t v = 0;
	for (int i = 0; i < 2; i++) {
		uint32_t o = ops[below(g, 10)], src = below(g, 8);
		v |= (o | (0xc0 | src << 3 | vreg(g)) << 8) << 16 * i;
	}
	return v;
}

/* A rewritable instruction at code offset `off`: waiting SMC stores of
 * its kind may take it as their target. */
static void site(struct gen *g, unsigned kind, uint32_t off)
{
	for (unsigned i = 0; i < g->npend;) {
		struct site *p = &g->pend[i];
		if (p->kind == kind && below(g, 10) < 6) {
			patch(g, p->off, g->code + off + p->sub + p->delta);
			*p = g->pend[--g->npend];
		} else {
			i++;
		}
	}
	if (g->loop_count && g->nsites < 16)
		g->sites[g->nsites++] = (struct site){.off = off, .kind = (uint8_t)kind};
}

static void mov_imm(struct gen *g)
{
	op(g, 0xb8 + vreg(g));
	bn(g, value(g), 4);
	done(g);
	if (g->cat == C_SMC)
		site(g, K_IMM, g->len - 4);
}

/* A store into code: into an instruction later in this block or a later
 * one (its address is patched in when that instruction is emitted), into
 * one earlier in the current loop body (the next iteration runs it), or
 * into the page after the program. */
static void smc_store(struct gen *g)
{
	struct site p = {0};
	struct ea e;
	unsigned k = below(g, 10), size;
	bool known = k < 3 && g->nsites;

	if (!known && g->npend == 4) {
		mem_op(g);
		return;
	}
	p.delta = g->alias && below(g, 10) < 4 ? ALIAS - CODE_PAGE : 0;
	if (known)
		p = (struct site){.off = g->sites[k % g->nsites].off,
				  .kind = g->sites[k % g->nsites].kind, .delta = p.delta};
	else
		p.kind = k < 7 ? K_IMM : k < 9 ? K_SLOT : K_SCRATCH;
	size = p.kind == K_SLOT ? 2 + 2 * below(g, 2) : 1u << below(g, 3);
	p.sub = (uint8_t)(p.kind == K_SLOT ? (4 - size) * below(g, 2) : below(g, 5 - size));
	gen_ea(g, known ? g->code + p.off + p.sub + p.delta : 0, true, &e);
	if (p.kind == K_SLOT)
		put_insn(g, size == 4 ? 0xc7 : 0xc766, 0, &e, slot_ops(g), size);
	else
		mem_insn(g, size, &e, true);
	if (!known) {
		p.off = (uint32_t)e.carrier;
		g->pend[g->npend++] = p;
	}
}

/* A store into the page table: remap, unmap, write-protect, or whatever
 * a register holds; then a TLB flush, an INVLPG or nothing (a stale
 * entry may then be used, as on a real CPU). */
static void pt_store(struct gen *g)
{
	uint32_t page = GOOD + 0x1000 * below(g, 12);
	uint32_t frame = GOOD + 0x1000 * below(g, 12);
	struct ea e;

	frame |= (uint32_t)rnd(&g->r) & 0x60; /* A, D */
	gen_ea(g, PT_LOW + (page >> 12) * 4, true, &e);
	switch (below(g, 6)) {
	case 0: case 1: put_insn(g, 0xc7, 0, &e, frame | 3, 4); break;
	case 2: put_insn(g, 0xc7, 0, &e, frame, 4); break;       /* not present */
	case 3: put_insn(g, 0x83, 4, &e, 0xfd, 1); break;        /* and: read-only */
	case 4: put_insn(g, 0x83, 1, &e, 2, 1); break;           /* or: writable */
	default: put_insn(g, 0x89, below(g, 8), &e, 0, 0); break;
	}
	switch (below(g, 5)) {
	case 0: case 1: /* mov eax, cr3; mov cr3, eax */
		rr(g, 0x200f, 3, R_AX, 0, 0);
		rr(g, 0x220f, 3, R_AX, 0, 0);
		break;
	case 2:
		gen_ea(g, page + below(g, 4096), false, &e);
		put_insn(g, 0x010f, 7, &e, 0, 0); /* invlpg */
		break;
	}
}

/* Register instructions the JIT compiles: `kind` of them, or any if 20. */
static void reg_insn(struct gen *g, unsigned kind)
{
	static const uint8_t shifts[5] = {0, 1, 4, 5, 7}; /* ROL ROR SHL SHR SAR */
	unsigned d = vreg(g), s = below(g, 8), o = below(g, 8), m = shifts[below(g, 5)];
	uint32_t c = below(g, 10);

	switch (kind < 20 ? kind : below(g, 20)) {
	case 0: rr(g, 0x89, s, d, 0, 0); break;
	case 1: rr(g, 0x8b, d, s, 0, 0); break;
	case 2: mov_imm(g); break;
	case 3: case 4: rr(g, o * 8 + 1, s, o == 7 ? c & 7 : d, 0, 0); break; /* CMP: any */
	case 5: rr(g, o * 8 + 3, d, s, 0, 0); break;
	case 6: rr(g, 0x81, o, d, value(g), 4); break;
	case 7: rr(g, 0x83, o, d, value(g), 1); break;
	case 8: rr(g, 0x85, s, c & 7, 0, 0); break;
	case 9: op(g, (c & 1 ? 0x40 : 0x48) + d), done(g); break; /* INC, DEC */
	case 10: rr(g, 0xf7, 2 + (c & 1), d, 0, 0); break;         /* NOT, NEG */
	case 11: case 12: /* LEA: any form, any registers, no access */
		m = below(g, 3);
		op(g, 0x8d);
		bn(g, m << 6 | d << 3 | (c & 7), 1);
		if ((c & 7) == 4)
			bn(g, s = below(g, 256), 1);
		if (m == 0 && ((c & 7) == 5 || ((c & 7) == 4 && (s & 7) == 5)))
			bn(g, disp32(g), 4);
		bn(g, disp32(g), m == 1 ? 1 : m == 2 ? 4 : 0);
		done(g);
		break;
	case 13: case 14: /* counts 0, 1, 2-31, multiples of 32 (none), above; CL; words */
		c = c == 0 ? 0 : c == 1 ? 1 : c < 6 ? 2 + below(g, 30) : c < 8 ? 32 * below(g, 8) : below(g, 256);
		if (below(g, 3) == 0) /* by CL, whatever ECX holds */
			rr(g, 0xd3, m, d, 0, 0);
		else if (below(g, 4) == 0) /* a word, by an immediate */
			rr(g, 0xc166, m, d, c, 1);
		else if (below(g, 3) == 0) {
			/* SHLD, SHRD by an immediate or CL: compiled where a
			 * flag writer follows, as here half the time */
			static const uint32_t dsh[4] = {0xa40f, 0xa50f, 0xac0f, 0xad0f};
			uint32_t o2 = dsh[below(g, 4)];
			rr(g, o2, s, d, c, (o2 & 0x100) ? 0 : 1);
			if (below(g, 2))
				rr(g, 0x01, s, d, 0, 0);
		}
		else if (c == 1 && below(g, 2))
			rr(g, 0xd1, m, d, 0, 0);
		else
			rr(g, 0xc1, m, d, c, 1);
		break;
	case 15: rr(g, 0xaf0f, d, s, 0, 0); break;
	case 16: rr(g, c & 1 ? 0x69 : 0x6b, d, s, value(g), c & 1 ? 4 : 1); break;
	case 17: rr(g, 0xf7, 4 + (c & 1), s, 0, 0); break; /* MUL, IMUL: EDX:EAX */
	case 18: rr(g, c & 1 ? 0xb60f : 0xb70f, d, s, 0, 0); break; /* MOVZX, AH..BH too */
	default:
		if (c < 3)
			rr(g, 0x88, s, breg(g), 0, 0);
		else if (c < 6)
			rr(g, 0x8a, breg(g), s, 0, 0);
		else
			rr(g, c & 1 ? 0x8966 : 0x8b66, c & 1 ? s : d, c & 1 ? d : s, 0, 0);
		break;
	}
}

/* Half the time, what a Jcc, SETcc or CMOVcc reads is made on purpose by
 * what compiled code has to get right: INC/DEC (CF from before them), a
 * shift (OF only for a count of 1, nothing for 0), a rotate, NEG, TEST,
 * an ALU op; sometimes a load follows, whose TLB probe uses the host's
 * flags. */
static void flag_producer(struct gen *g)
{
	static const uint8_t kinds[8] = {9, 9, 13, 13, 10, 8, 3, 6};
	if (below(g, 2))
		return;
	reg_insn(g, kinds[below(g, 8)]);
	if (g->cat != C_REGS && below(g, 3) == 0) {
		struct ea e;
		gen_ea(g, DATA + 0x8000 + below(g, 0x4000), false, &e);
		put_insn(g, 0x8b, vreg(g), &e, 0, 0);
	}
}

/* Instructions outside the JIT's core: some it leaves to the interpreter
 * (CDQ, BSWAP, XCHG, byte ADC/SBB, 16-bit ALU, CLC, STC, CMC, SAHF),
 * some it compiles only where the host's flags hold their condition or
 * SS is flat (SETcc, CMOVcc, PUSH, POP, CALL, RET, LEAVE). They cut
 * compiled runs and read or write flags across them. */
static void other_insn(struct gen *g)
{
	unsigned d = vreg(g), s = below(g, 8), cc = below(g, 16), b = breg(g);

	switch (below(g, 11)) {
	case 0: /* PUSH, POP; not where a Jcc may skip them: ESP stays known */
		if (g->skip)
			op(g, 0x99);
		else if (g->depth > 0 && (g->depth >= 12 || cc & 1))
			op(g, 0x58 + d), g->depth--;
		else if (cc & 2)
			op(g, 0x50 + s), g->depth++;
		else if (cc & 4) /* PUSH imm32, PUSH imm8 (sign-extended) */
			(cc & 8 ? (op(g, 0x68), bn(g, value(g), 4))
				: (op(g, 0x6a), bn(g, value(g), 1))),
				g->depth++;
		else /* CALL to the next instruction: pushes its address */
			op(g, 0xe8), bn(g, 0, 4), g->depth++;
		done(g);
		break;
	case 1: flag_producer(g), rr(g, 0x900f | cc << 8, 0, b, 0, 0); break; /* SETcc */
	case 2: flag_producer(g), rr(g, 0x400f | cc << 8, d, s, 0, 0); break; /* CMOVcc */
	case 3: rr(g, cc & 1 ? 0x10 : 0x18, s, b, 0, 0); break;   /* ADC, SBB r8 */
	case 4: rr(g, 0x80, 2 + (cc & 1), b, value(g), 1); break;
	case 5: rr(g, 0x87, vreg(g), d, 0, 0); break;             /* XCHG */
	case 6: op(g, cc & 1 ? 0x99 : 0xc80f + (d << 8)), done(g); break; /* CDQ, BSWAP */
	case 7: rr(g, 0x66 | (cc / 2 * 8 + 1) << 8, s, d, 0, 0); break; /* 16-bit ALU */
	case 8: rr(g, 0x8366, cc / 2, d, value(g), 1); break;
	case 9: /* RET and LEAVE, leaving ESP as it was */
		if (cc % 3 == 2) {
			/* PUSH EBP; MOV EBP, ESP; LEAVE: a frame, gone. */
			op(g, 0x55), done(g);
			rr(g, 0x89, R_SP, R_BP, 0, 0);
			op(g, 0xc9), done(g);
		} else if (cc & 1) {
			/* CALL L; JMP over; L: ADD; RET; over: the return
			 * the return stack expects. */
			uint32_t at;
			op(g, 0xe8), bn(g, 2, 4), done(g);
			op(g, 0xeb), at = g->len, bn(g, 0, 1), done(g);
			rr(g, 0x01, s, d, 0, 0);
			op(g, 0xc3), done(g);
			g->ram[g->code + at] = (uint8_t)(g->len - at - 1);
		} else {
			/* PUSH the address after the RET; RET: one it does
			 * not. */
			op(g, 0x68), bn(g, g->code + g->len + 5, 4), done(g);
			op(g, 0xc3), done(g);
		}
		break;
	default: /* CLC, STC, CMC, SAHF: CF for the next ADC */
		op(g, (const uint8_t[4]){0xf8, 0xf9, 0xf5, 0x9e}[cc & 3]);
		done(g);
		break;
	}
}

static void item(struct gen *g)
{
	unsigned k = below(g, 100);
	if (g->cat == C_SMC && k < 28) {
		if (k < 12) {
			smc_store(g);
		} else if (k < 20) { /* a slot */
			uint32_t off = g->len;
			bn(g, slot_ops(g), 4);
			done(g);
			done(g);
			site(g, K_SLOT, off);
		} else {
			mov_imm(g);
		}
		return;
	}
	if (g->cat == C_PAGED && k < 2) {
		pt_store(g);
		return;
	}
	k = below(g, 100);
	if (g->cat != C_REGS && k < 45)
		mem_op(g);
	else if (k < 85)
		reg_insn(g, 20);
	else
		other_insn(g);
}

static void items(struct gen *g, unsigned n)
{
	while (n-- && room(g))
		item(g);
}

/* A Jcc over a few instructions: the flags it reads come from anything
 * before it, compiled or not. */
static void fwd_jcc(struct gen *g)
{
	bool near = below(g, 4) != 0, was = g->skip;
	uint32_t cc = below(g, 16), at, from;

	flag_producer(g);
	op(g, near ? 0x70 + cc : 0x800f | cc << 8);
	at = g->len;
	bn(g, 0, near ? 1 : 4);
	done(g);
	from = g->len;
	g->skip = true;
	items(g, near ? 1 + below(g, 2) : 1 + below(g, 8)); /* two fit in rel8 */
	g->skip = was;
	if (near)
		g->ram[g->code + at] = (uint8_t)(g->len - from);
	else
		patch(g, at, g->len - from);
}

/* mov ecx, n; body; dec ecx; jnz body: blocks that run many times, with
 * flags crossing the back edge. */
static void loop(struct gen *g)
{
	uint32_t n = 1 + below(g, 24), top;
	int depth0 = g->depth;

	op(g, 0xb9);
	bn(g, n, 4);
	done(g);
	g->loop_count = n;
	g->mult = n;
	g->nsites = 0;
	top = g->len;
	for (unsigned i = 2 + below(g, 16); i-- && room(g);) {
		if (below(g, 8) == 0)
			fwd_jcc(g);
		else
			item(g);
	}
	/* The same ESP at the top of every iteration. */
	for (; g->depth > depth0; g->depth--, done(g))
		op(g, 0x58 + vreg(g));
	for (; g->depth < depth0; g->depth++, done(g))
		op(g, 0x50 + below(g, 8));
	op(g, 0x49);
	done(g);
	if ((int32_t)(top - g->len - 2) >= -128)
		bn(g, 0x75 | (top - g->len - 2) << 8, 2);
	else
		op(g, 0x850f), bn(g, top - g->len - 4, 4);
	done(g);
	g->loop_count = 0;
	g->mult = 1;
	g->nsites = 0;
}

/* ---- programs, machines, outcomes ---- */

struct prog {
	uint64_t seed;
	enum cat cat;
	bool paging;
	uint32_t code, len;
	uint64_t budget;
	struct x86_state s;
};

struct rig {
	struct testbus interp, jit;
	struct x86_state base_state;
	uint8_t *base;  /* tcpu_pm32()'s tables and stubs */
	uint8_t *image; /* the program's RAM before it runs */
	uint8_t *saved; /* a first run's RAM */
};

static void build(struct rig *rig, enum cat cat, uint64_t seed, struct prog *p)
{
	struct gen g = {.cat = cat, .ram = rig->image, .mult = 1};
	uint32_t *pd = (uint32_t *)(rig->image + PD), *lo = (uint32_t *)(rig->image + PT_LOW);
	uint32_t *top = (uint32_t *)(rig->image + PT_TOP);
	uint32_t *twin = (uint32_t *)(rig->image + PT_TWIN);

	rng_seed(&g.r, seed);
	memcpy(rig->image, rig->base, RAM_SIZE);
	for (uint32_t a = 0; a < DATA_SIZE; a += 8) {
		uint64_t v = rnd(&g.r);
		memcpy(rig->image + DATA + a, &v, 8);
		v = rnd(&g.r);
		memcpy(rig->image + RAM_SIZE - 0x10000 + a, &v, 8);
	}
	g.seg_base[0] = below(&g, DATA);
	g.seg_base[1] = 0xfffff000u + below(&g, 0x1000);
	g.paging = cat == C_PAGED || ((cat == C_SMC || cat == C_CROSS) && below(&g, 2)) ||
		   (cat == C_OOR && below(&g, 10) < 3);
	g.alias = g.paging && cat == C_SMC;
	g.bad = cat == C_PAGED ? 2 : 0;
	if (g.paging) {
		/* Identity, A and D clear: the CPU sets them, in RAM. */
		pd[0] = PT_LOW | 3;
		pd[1023] = PT_TOP | 3;
		for (uint32_t i = 0; i < 1024; i++) {
			lo[i] = i << 12 | 3;
			top[i] = (0xffc00000u + (i << 12)) | 3;
		}
		lo[NP_PAGE >> 12] = NP_PAGE | 2;
		lo[RO_PAGE >> 12] = RO_PAGE | 1;
		if (cat == C_PAGED) {
			pd[TLB_TWIN >> 22] = PT_TWIN | 3;
			for (uint32_t a = GOOD; a < DATA + DATA_SIZE; a += 0x1000)
				twin[((a + TLB_TWIN) >> 12) & 1023] = a | 3;
		}
		if (g.alias) {
			lo[ALIAS >> 12] = CODE_PAGE | 3;
			lo[(ALIAS >> 12) + 1] = (CODE_PAGE + 0x1000) | 3;
		}
	}
	/* Anywhere in the first page, so that code crosses into the next;
	 * room at the end for a loop's tail and the SMC scratch bytes. */
	g.code = CODE_PAGE + below(&g, 0x800);
	g.limit = CODE_PAGE + CODE_ROOM - g.code - 128;
	for (uint32_t want = 200 + below(&g, 1000); g.len < want && room(&g);) {
		uint32_t k = below(&g, 20);
		if (k < 8)
			items(&g, 1 + below(&g, 10));
		else if (k < 12)
			fwd_jcc(&g);
		else if (k < 19)
			loop(&g);
		else
			items(&g, 40 + below(&g, 50)); /* past a block's 64 */
	}
	bn(&g, 0xf4e6, 2); /* out 0xf4, al: the end */
	done(&g);
	for (unsigned i = 0; i < g.npend; i++)
		patch(&g, g.pend[i].off, g.code + g.len + 8 + below(&g, 32) + g.pend[i].delta);

	*p = (struct prog){.seed = seed, .cat = cat, .paging = g.paging, .code = g.code,
			   .len = g.len, .s = rig->base_state};
	p->budget = below(&g, 4) ? BUDGET : 1 + rnd(&g.r) % g.est;
	for (int i = 0; i < 8; i++)
		p->s.gpr[i] = value(&g);
	p->s.gpr[R_SP] = STACK_TOP;
	p->s.rflags = FL_FIXED1 | (rnd(&g.r) & FL_ARITH);
	p->s.rip = g.code;
	if (g.paging) {
		p->s.cr0 |= CR0_PG | CR0_WP;
		p->s.cr3 = PD;
	}
	if (cat == C_SEG) {
		/* FS: writable, read-only or expand-down, its limit mostly
		 * 4 GiB, else somewhere in the data; GS: a base that wraps. */
		uint32_t ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_ACCESSED;
		uint32_t k = below(&g, 8), type = AR_TYPE_WRITABLE, lim = 0xffffffffu;
		if (k == 0)
			type = 0; /* read-only: the first write is #GP */
		else if (k == 1) /* expand-down: offsets above the limit */
			type |= AR_TYPE_EXPDOWN, lim = below(&g, 0x100);
		else if (k == 2) /* ends somewhere in the data */
			lim = DATA + below(&g, DATA_SIZE) - g.seg_base[0];
		p->s.seg[S_FS] = (struct x86_segment){.base = g.seg_base[0], .limit = lim,
						      .selector = 0x10, .ar = ar | type};
		p->s.seg[S_GS] = (struct x86_segment){.base = g.seg_base[1], .limit = 0xffffffffu,
						      .selector = 0x10,
						      .ar = ar | AR_TYPE_WRITABLE};
	}
}

struct outcome {
	enum cpu_exit exit;
	int exited, vec;
	uint64_t insns;
	struct x86_state s;
	const uint8_t *ram;
};

/* Runs `p` from the image; `sliced` splits the budget into bursts of 1
 * to 64 instructions, which stop compiled code anywhere. */
static void run(struct testbus *tb, const uint8_t *image, const struct prog *p,
		bool sliced, struct outcome *o)
{
	uint64_t start, end;
	struct rng r;

	memcpy(tb->ram, image, RAM_SIZE);
	cpu_set_state(tb->cpu, &p->s);
	tb->exited = 0;
	tb->out_len = 0;
	start = cpu_icount(tb->cpu);
	end = start + p->budget;
	rng_seed(&r, p->seed);
	o->exit = sliced ? CPU_EXIT_BUDGET : testbus_run(tb, p->budget);
	while (sliced && !tb->exited && cpu_icount(tb->cpu) < end) {
		uint64_t n = 1 + rnd(&r) % 64;
		o->exit = cpu_run(tb->cpu, n < end - cpu_icount(tb->cpu) ? n : end - cpu_icount(tb->cpu));
		if (o->exit == CPU_EXIT_HALT || o->exit == CPU_EXIT_SHUTDOWN)
			break;
	}
	o->insns = cpu_icount(tb->cpu) - start;
	cpu_get_state(tb->cpu, &o->s);
	o->exited = tb->exited;
	o->vec = tb->out_len ? (uint8_t)tb->out[0] : -1;
	o->ram = tb->ram;
}

struct why {
	char s[1024];
	size_t n;
	unsigned count;
};

static void differ(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void differ(struct why *w, const char *fmt, ...)
{
	va_list ap;
	int k;
	w->count++;
	va_start(ap, fmt);
	k = vsnprintf(w->s + w->n, sizeof(w->s) - w->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		w->n += (size_t)k < sizeof(w->s) - w->n ? (size_t)k : sizeof(w->s) - w->n - 1;
}

/* What differs between two outcomes, described in w; the number of
 * fields. `exits`: the exit reason too (bursts of another size may see
 * the final OUT as the end of the budget instead). */
static unsigned compare(const struct outcome *a, const struct outcome *b,
			bool exits, struct why *w)
{
	static const char *const reg_name[8] = {"eax", "ecx", "edx", "ebx",
						"esp", "ebp", "esi", "edi"};
	const uint64_t x[] = {a->exit, (uint64_t)a->exited, (uint64_t)a->vec, a->insns,
			      a->s.rip, a->s.rflags, a->s.cr0, a->s.cr2, a->s.cr3,
			      a->s.ev.shutdown};
	const uint64_t y[] = {b->exit, (uint64_t)b->exited, (uint64_t)b->vec, b->insns,
			      b->s.rip, b->s.rflags, b->s.cr0, b->s.cr2, b->s.cr3,
			      b->s.ev.shutdown};
	static const char *const name[] = {"exit", "exited", "vector", "icount+", "rip",
					   "rflags", "cr0", "cr2", "cr3", "shutdown"};

	w->n = 0;
	w->count = 0;
	w->s[0] = 0;
	for (unsigned i = exits ? 0 : 1; i < sizeof(x) / sizeof(x[0]); i++)
		if (x[i] != y[i])
			differ(w, "%s %#llx / %#llx; ", name[i], (unsigned long long)x[i],
			       (unsigned long long)y[i]);
	for (int i = 0; i < 8; i++)
		if (a->s.gpr[i] != b->s.gpr[i])
			differ(w, "%s %#llx / %#llx; ", reg_name[i],
			       (unsigned long long)a->s.gpr[i], (unsigned long long)b->s.gpr[i]);
	if (memcmp(a->ram, b->ram, RAM_SIZE) != 0) {
		uint32_t first = 0, n = 0;
		for (uint32_t i = RAM_SIZE; i-- > 0;)
			if (a->ram[i] != b->ram[i])
				first = i, n++;
		differ(w, "RAM: %u bytes, first at %#x (%02x / %02x); ", n, first,
		       a->ram[first], b->ram[first]);
	}
	return w->count;
}

static void show(const struct prog *p, const uint8_t *image, const char *what,
		 const struct why *w)
{
	const uint64_t *r = p->s.gpr;
	char line[3 * 32 + 1];

	tap_diag("%s: %s %#llx: %s", what, cat_name[p->cat], (unsigned long long)p->seed, w->s);
	tap_diag("  paging %s, budget %llu, eax..edi %08x %08x %08x %08x %08x %08x %08x %08x, eflags %#x",
		 p->paging ? "on" : "off", (unsigned long long)p->budget, (unsigned)r[0],
		 (unsigned)r[1], (unsigned)r[2], (unsigned)r[3], (unsigned)r[4],
		 (unsigned)r[5], (unsigned)r[6], (unsigned)r[7], (unsigned)p->s.rflags);
	tap_diag("  code at %#x, %u bytes (objdump -D -b binary -mi386 --adjust-vma=%#x; "
		 "rerun: cpu-jit_diff.t %s %#llx):", p->code, p->len, p->code,
		 cat_name[p->cat], (unsigned long long)p->seed);
	for (uint32_t off = 0; off < p->len; off += 32) {
		size_t n = 0;
		for (uint32_t i = off; i < p->len && i < off + 32; i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %02x", image[p->code + i]);
		tap_diag("  %04x:%s", off, line);
	}
}

struct tally {
	const char *label;
	unsigned n, bad, show;
};

static void check(struct tally *t, const struct prog *p, const uint8_t *image,
		  const struct outcome *a, const struct outcome *b, bool exits)
{
	struct why w;
	t->n++;
	if (compare(a, b, exits, &w) && (t->bad++ < t->show))
		show(p, image, t->label, &w);
}

/* Programs first_seed.. of a category on both engines; each fourth again
 * under the JIT, each eighth under the JIT in bursts. */
static void category(struct tap *t, struct rig *rig, enum cat cat, uint64_t first_seed,
		     unsigned n, struct tally *det, struct tally *sl, bool verbose)
{
	struct tally diff = {"interpreter / JIT", 0, 0, verbose ? 0 : 3};
	unsigned paged = 0, faults = 0, pf = 0, cut = 0;
	uint64_t insns = 0;

	for (unsigned i = 0; i < n; i++) {
		struct prog p;
		struct outcome a, b, c;

		build(rig, cat, first_seed + i, &p);
		run(&rig->interp, rig->image, &p, false, &a);
		run(&rig->jit, rig->image, &p, false, &b);
		check(&diff, &p, rig->image, &a, &b, true);
		insns += a.insns;
		paged += p.paging;
		faults += a.vec >= 0 || a.s.ev.shutdown;
		pf += a.vec == EXC_PF;
		cut += !a.exited && a.exit == CPU_EXIT_BUDGET;
		if (n > 1 && i % 4 == 0) {
			memcpy(rig->saved, rig->jit.ram, RAM_SIZE);
			b.ram = rig->saved;
			run(&rig->jit, rig->image, &p, false, &c);
			check(det, &p, rig->image, &b, &c, true);
		}
		if (n > 1 && i % 8 == 1) {
			run(&rig->jit, rig->image, &p, true, &c);
			check(sl, &p, rig->image, &a, &c, false);
		}
		if (verbose) { /* one program, asked for by name */
			struct why w;
			compare(&a, &b, true, &w);
			show(&p, rig->image, "interpreter / JIT", &w);
			for (const struct outcome *o = &a; o; o = o == &a ? &b : NULL)
				tap_diag("%s: exit %d, vector %d, %llu instructions, eip %#x, eflags %#x, cr2 %#x",
					 o == &a ? "interpreter" : "JIT", (int)o->exit, o->vec,
					 (unsigned long long)o->insns, (unsigned)o->s.rip,
					 (unsigned)o->s.rflags, (unsigned)o->s.cr2);
		}
	}
	tap_ok(t, diff.bad == 0,
	       "%s (%s): %u programs, %u differ; %llu instructions, %u with paging, "
	       "%u faulted (%u #PF), %u stopped by the budget",
	       cat_name[cat], cat_what[cat], n, diff.bad, (unsigned long long)insns,
	       paged, faults, pf, cut);
}

/* The interpreter is the reference: check that it (and the JIT) run
 * rewritten code, as a real CPU does. A store into the next instruction
 * of the same block, then one into a loop's own body each iteration:
 *   mov dword [A+1], 0x12345678; A: mov edx, 0
 *   mov ecx, 50; L: mov [B+1], ecx; B: mov eax, 0; add ebx, eax
 *   dec ecx; jnz L; out 0xf4, al */
static void smc_sanity(struct tap *t, struct rig *rig)
{
	static const uint8_t code[] = {
		0xc7, 0x05, 0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, 0xba, 0, 0, 0, 0,
		0xb9, 50, 0, 0, 0, 0x89, 0x0d, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0,
		0x01, 0xc3, 0x49, 0x75, 0xf0, 0xe6, 0xf4,
	};
	struct prog p = {.cat = C_SMC, .code = CODE_PAGE, .len = sizeof(code),
			 .budget = BUDGET, .s = rig->base_state};
	struct tally same = {"smc sanity", 0, 0, 1};
	struct outcome a, b;
	bool ok = true;

	memcpy(rig->image, rig->base, RAM_SIZE);
	memcpy(rig->image + CODE_PAGE, code, sizeof(code));
	memcpy(rig->image + CODE_PAGE + 2, &(uint32_t){CODE_PAGE + 11}, 4);
	memcpy(rig->image + CODE_PAGE + 22, &(uint32_t){CODE_PAGE + 27}, 4);
	p.s.gpr[R_BX] = 0;
	p.s.gpr[R_SP] = STACK_TOP;
	p.s.rip = CODE_PAGE;
	run(&rig->interp, rig->image, &p, false, &a);
	run(&rig->jit, rig->image, &p, false, &b);
	check(&same, &p, rig->image, &a, &b, true);
	for (const struct outcome *o = &a; o; o = o == &a ? &b : NULL)
		ok = ok && o->exited && o->vec == -1 &&
		     (uint32_t)o->s.gpr[R_DX] == 0x12345678u && (uint32_t)o->s.gpr[R_BX] == 1275;
	tap_ok(t, ok && same.bad == 0,
	       "smc sanity: rewritten code runs (edx %#x / %#x, ebx %u / %u; want 0x12345678, 1275)",
	       (unsigned)a.s.gpr[R_DX], (unsigned)b.s.gpr[R_DX], (unsigned)a.s.gpr[R_BX],
	       (unsigned)b.s.gpr[R_BX]);
}

/* The comparison must see what it is there to see: a copy of a JIT
 * outcome with one register, one flag, one RAM byte or the count off. */
/* The largest run: a whole block of 63 byte read-modify-writes (two
 * translations checked each) and a CALL (its target and its stack slot),
 * with the stack check: every way out the compiler may record. */
static void longest_run(struct tap *t, struct rig *rig)
{
	uint8_t code[63 * 3 + 7];
	struct prog p = {.cat = C_MEM, .code = CODE_PAGE, .len = sizeof(code),
			 .budget = BUDGET, .s = rig->base_state};
	struct tally same = {"longest run", 0, 0, 1};
	struct outcome a, b;
	bool ok;

	for (unsigned i = 0; i < 63; i++)
		memcpy(code + 3 * i, (const uint8_t[3]){0x80, 0x03, 0x01}, 3);
	memcpy(code + 189, (const uint8_t[7]){0xe8, 0, 0, 0, 0, 0xe6, 0xf4}, 7);
	memcpy(rig->image, rig->base, RAM_SIZE);
	memcpy(rig->image + CODE_PAGE, code, sizeof(code));
	rig->image[DATA] = 7;
	p.s.gpr[R_BX] = DATA;
	p.s.gpr[R_SP] = STACK_TOP;
	p.s.rip = CODE_PAGE;
	run(&rig->interp, rig->image, &p, false, &a);
	run(&rig->jit, rig->image, &p, false, &b);
	check(&same, &p, rig->image, &a, &b, true);
	ok = a.exited && b.exited && a.ram[DATA] == 70 && b.ram[DATA] == 70;
	tap_ok(t, ok && same.bad == 0,
	       "longest run: 63 byte read-modify-writes and a CALL in one block (%u / %u, want 70)",
	       a.ram[DATA], b.ram[DATA]);
}

/* Loops that jump to themselves, which run until something outside
 * stops them: each must end at the budget, under the JIT as under the
 * interpreter, with the same state (the JIT's loop exit once jumped to
 * itself when the chain budget ran out, spinning for ever; the alarm
 * turns such a hang into a failure). */
static void self_loops(struct tap *t, struct rig *rig)
{
	static const struct {
		const char *what;
		uint8_t code[12];
		unsigned len;
	} loops[] = {
		{"l: inc eax; jmp l", {0x40, 0xeb, 0xfd}, 3},
		{"l: mov dword [DATA], 1; jmp l",
		 {0xc7, 0x05, DATA & 0xff, (DATA >> 8) & 0xff, (DATA >> 16) & 0xff, DATA >> 24,
		  1, 0, 0, 0, 0xeb, 0xf4}, 12},
		{"l: jmp l", {0xeb, 0xfe}, 2},
		{"l: add eax, ebx; jnz l", {0x01, 0xd8, 0x75, 0xfc}, 4},
	};

	alarm(30);
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		struct prog p = {.cat = C_REGS, .code = CODE_PAGE, .len = loops[i].len,
				 .budget = BUDGET, .s = rig->base_state};
		struct tally same = {"self loop", 0, 0, 1};
		struct outcome a, b;

		memcpy(rig->image, rig->base, RAM_SIZE);
		memcpy(rig->image + CODE_PAGE, loops[i].code, loops[i].len);
		p.s.gpr[R_AX] = 0;
		p.s.gpr[R_BX] = 1;
		p.s.gpr[R_SP] = STACK_TOP;
		p.s.rip = CODE_PAGE;
		run(&rig->interp, rig->image, &p, false, &a);
		run(&rig->jit, rig->image, &p, false, &b);
		check(&same, &p, rig->image, &a, &b, true);
		tap_ok(t, a.exit == CPU_EXIT_BUDGET && b.exit == CPU_EXIT_BUDGET &&
			  a.insns == BUDGET && b.insns == BUDGET && same.bad == 0,
		       "self loop '%s' ends at the budget (%llu / %llu steps, want %u)",
		       loops[i].what, (unsigned long long)a.insns,
		       (unsigned long long)b.insns, BUDGET);
	}
	alarm(0);
}

static void self_check(struct tap *t, struct rig *rig)
{
	static const char *const want[4] = {"ebx 0x", "rflags 0x", "first at 0x40123", "icount+"};
	struct prog p;
	struct outcome b, bad;
	struct why w;
	unsigned n[4];
	bool ok;

	build(rig, C_MEM, 1, &p);
	run(&rig->jit, rig->image, &p, false, &b);
	memcpy(rig->saved, rig->jit.ram, RAM_SIZE);
	rig->saved[DATA + 0x123] ^= 0x80;
	ok = compare(&b, &b, true, &w) == 0;
	for (int i = 0; i < 4; i++) {
		bad = b;
		bad.s.gpr[R_BX] ^= i == 0 ? 0x100 : 0;
		bad.s.rflags ^= i == 1 ? FL_CF : 0;
		bad.ram = i == 2 ? rig->saved : b.ram;
		bad.insns += i == 3;
		n[i] = compare(&b, &bad, true, &w);
		ok = ok && n[i] == 1 && strstr(w.s, want[i]);
	}
	tap_ok(t, ok, "self-check: a corrupted ebx, CF, RAM byte and icount are each reported (%u %u %u %u)",
	       n[0], n[1], n[2], n[3]);
}

int main(int argc, char **argv)
{
	struct tap t = {0};
	struct tally det = {"JIT / JIT again", 0, 0, 3}, sl = {"interpreter / JIT in bursts", 0, 0, 3};
	struct rig *rig = calloc(1, sizeof(*rig));
	int cat = 0;

	if (!rig || testbus_init(&rig->interp, RAM_SIZE) || testbus_init(&rig->jit, RAM_SIZE) ||
	    !(rig->base = malloc(RAM_SIZE)) || !(rig->image = malloc(RAM_SIZE)) ||
	    !(rig->saved = malloc(RAM_SIZE)))
		return 1;
	cpu_set_jit(rig->interp.cpu, false);
	cpu_set_jit(rig->jit.cpu, true);
	tcpu_pm32(&rig->interp, &rig->base_state, 0, 0);
	memcpy(rig->base, rig->interp.ram, RAM_SIZE);

	if (argc == 3) {
		while (cat < C_NR && strcmp(cat_name[cat], argv[1]) != 0)
			cat++;
		if (cat == C_NR)
			return 2;
		category(&t, rig, (enum cat)cat, strtoull(argv[2], NULL, 0), 1, &det, &sl, true);
	} else {
		smc_sanity(&t, rig);
		longest_run(&t, rig);
		self_loops(&t, rig);
		for (cat = 0; cat < C_NR; cat++)
			category(&t, rig, (enum cat)cat, (uint64_t)(cat + 1) << 32, PROGRAMS,
				 &det, &sl, false);
		tap_ok(&t, det.bad == 0, "determinism: %u programs run twice under the JIT, %u differ",
		       det.n, det.bad);
		tap_ok(&t, sl.bad == 0,
		       "bursts: %u programs under the JIT in bursts of 1-64 instructions, %u differ from the interpreter",
		       sl.n, sl.bad);
		self_check(&t, rig);
	}
	free(rig->base);
	free(rig->image);
	free(rig->saved);
	testbus_free(&rig->interp);
	testbus_free(&rig->jit);
	free(rig);
	return tap_done(&t);
}
