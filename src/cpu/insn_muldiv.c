/* Multiplication and division: MUL, IMUL (one-, two- and three-operand
 * forms), DIV, IDIV at 8, 16, 32 and 64 bits (SDM vol. 2, "MUL", "IMUL",
 * "DIV", "IDIV").
 *
 * MUL/IMUL define CF and OF only; the other arithmetic flags are left as
 * they were, as current hardware does. DIV/IDIV define no flag; hardware
 * leaves CF and OF, sets AF and clears SF, ZF and PF, and so does this.
 * A zero divisor or a quotient that does not fit (including the most
 * negative dividend divided by -1) raises #DE with nothing written. */
#include "cpu/exec.h"

static inline int64_t sext(uint64_t v, unsigned size)
{
	unsigned sh = 64 - size * 8;
	return (int64_t)(v << sh) >> sh;
}

static inline void set_cf_of(struct cpu *cpu, bool ovf)
{
	uint64_t fl;
	if (cpu->lf.kind != LF_NONE)
		flags_get(cpu);
	fl = cpu->s.rflags & ~(uint64_t)(FL_CF | FL_OF);
	cpu->s.rflags = fl | (ovf ? FL_CF | FL_OF : 0);
}

/* The product's halves go to AH:AL, DX:AX, EDX:EAX or RDX:RAX. */
static void put_double(struct cpu *cpu, const struct insn *in, unsigned size,
		       uint64_t lo, uint64_t hi)
{
	if (size == 1) {
		reg_write(cpu, in, R_AX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
		return;
	}
	reg_write(cpu, in, R_AX, size, lo);
	reg_write(cpu, in, R_DX, size, hi);
}

void op_mul_E(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t b = rm_read(cpu, in, size);
	uint64_t a = cpu->s.gpr[R_AX] & size_mask(size);
	unsigned __int128 p = (unsigned __int128)a * b;
	uint64_t lo, hi;
	if (size == 8) {
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		lo = (uint64_t)p & size_mask(size);
		hi = ((uint64_t)p >> (size * 8)) & size_mask(size);
	}
	put_double(cpu, in, size, lo, hi);
	set_cf_of(cpu, hi != 0);
}

/* Signed product of two operands at `size`: the full result in lo and hi
 * (hi only meaningful for the one-operand form), and whether it does not
 * fit in the low half. */
static bool imul_compute(unsigned size, uint64_t a, uint64_t b, uint64_t *lo,
			 uint64_t *hi)
{
	__int128 p = (__int128)sext(a, size) * sext(b, size);
	if (size == 8) {
		*lo = (uint64_t)p;
		*hi = (uint64_t)((unsigned __int128)p >> 64);
		return p != (__int128)(int64_t)*lo;
	}
	*lo = (uint64_t)p & size_mask(size);
	*hi = ((uint64_t)p >> (size * 8)) & size_mask(size);
	return (int64_t)p != sext(*lo, size);
}

void op_imul_E(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t b = rm_read(cpu, in, size);
	uint64_t lo, hi;
	bool ovf = imul_compute(size, cpu->s.gpr[R_AX], b, &lo, &hi);
	put_double(cpu, in, size, lo, hi);
	set_cf_of(cpu, ovf);
}

/* IMUL r32 keeps SF, ZF, AF and PF, so lazy flags are materialised first:
 * inline after the operations that usually come before it (shifts, logic,
 * ADD, SUB), out of line otherwise (insn_flags_first()), so the hot path
 * has no call. CF and OF are left for IMUL to set. */
static inline __attribute__((always_inline)) bool imul_flags_inline(
	struct cpu *cpu)
{
	const struct lazy_flags *f = &cpu->lf;
	uint32_t k = f->kind;
	uint64_t fl, af;
	/* Compares, not a switch: no indirect jump on this path. */
	if (likely(k == LF_NONE))
		return true;
	if (k - LF_SHL <= LF_SAR - LF_SHL)
		af = FL_AF; /* flags.c: what x86-64 hardware does */
	else if (k == LF_LOGIC)
		af = 0;
	else if (k == LF_ADD || k == LF_SUB)
		af = (f->a ^ f->b ^ f->res) & FL_AF;
	else
		return false;
	fl = (cpu->s.rflags & ~(uint64_t)FL_ARITH) | af;
	fl |= f->res == 0 ? FL_ZF : 0;
	fl |= (int64_t)(f->res << (64 - f->size * 8)) < 0 ? FL_SF : 0;
	fl |= __builtin_parity((unsigned)(f->res & 0xff)) ? 0 : FL_PF;
	cpu->s.rflags = fl;
	cpu->lf.kind = LF_NONE;
	return true;
}

static inline __attribute__((always_inline)) void imul_r32(
	struct cpu *cpu, const struct insn *in, int32_t a, int32_t b)
{
	int64_t p = (int64_t)a * b;
	uint64_t fl = cpu->s.rflags & ~(uint64_t)(FL_CF | FL_OF);
	cpu->s.gpr[in->reg] = (uint32_t)p;
	cpu->s.rflags = fl | (p != (int32_t)p ? FL_CF | FL_OF : 0);
}

void op_imul_GE_r32(struct cpu *cpu, const struct insn *in)
{
	flags_get(cpu);
	imul_r32(cpu, in, (int32_t)cpu->s.gpr[in->reg],
		 (int32_t)cpu->s.gpr[in->rm]);
}

void op_imul_GE_r32_t(struct cpu *cpu, const struct insn *in)
{
	if (unlikely(!imul_flags_inline(cpu))) {
		insn_flags_first(cpu, in);
		return;
	}
	imul_r32(cpu, in, (int32_t)cpu->s.gpr[in->reg],
		 (int32_t)cpu->s.gpr[in->rm]);
	insn_next(cpu, in);
}

void op_imul_GEI_r32(struct cpu *cpu, const struct insn *in)
{
	flags_get(cpu);
	imul_r32(cpu, in, (int32_t)cpu->s.gpr[in->rm], (int32_t)in->imm);
}

void op_imul_GEI_r32_t(struct cpu *cpu, const struct insn *in)
{
	if (unlikely(!imul_flags_inline(cpu))) {
		insn_flags_first(cpu, in);
		return;
	}
	imul_r32(cpu, in, (int32_t)cpu->s.gpr[in->rm], (int32_t)in->imm);
	insn_next(cpu, in);
}

/* The same when their flags are dead (block_drop_dead_flags()): IMUL sets
 * CF and OF and keeps the rest, so each one otherwise works out every
 * flag the instruction before left lazy. */
void op_imul_GE_r32_nf_t(struct cpu *cpu, const struct insn *in)
{
	cpu->s.gpr[in->reg] = (uint32_t)((uint32_t)cpu->s.gpr[in->reg] *
					 (uint32_t)cpu->s.gpr[in->rm]);
	insn_next(cpu, in);
}

void op_imul_GEI_r32_nf_t(struct cpu *cpu, const struct insn *in)
{
	cpu->s.gpr[in->reg] = (uint32_t)((uint32_t)cpu->s.gpr[in->rm] *
					 (uint32_t)in->imm);
	insn_next(cpu, in);
}

FAST_LOAD(op_imul_GE_m32, 4)
{
	int32_t b = (int32_t)v;
	int64_t p = (int64_t)(int32_t)cpu->s.gpr[in->reg] * b;
	cpu->s.gpr[in->reg] = (uint32_t)p;
	set_cf_of(cpu, p != (int32_t)p);
}


FAST_HANDLER(op_imul_GE, insn_next_checked)
{
	unsigned size = in->opsize;
	uint64_t b = rm_read(cpu, in, size);
	uint64_t lo, hi;
	bool ovf = imul_compute(size, reg_read(cpu, in, in->reg, size), b, &lo, &hi);
	reg_write(cpu, in, in->reg, size, lo);
	set_cf_of(cpu, ovf);
}

FAST_HANDLER(op_imul_GEI, insn_next_checked)
{
	unsigned size = in->opsize;
	uint64_t b = rm_read(cpu, in, size);
	uint64_t lo, hi;
	bool ovf = imul_compute(size, b, in->imm, &lo, &hi);
	reg_write(cpu, in, in->reg, size, lo);
	set_cf_of(cpu, ovf);
}

static void div_flags(struct cpu *cpu)
{
	uint64_t fl = flags_get(cpu) & ~(uint64_t)(FL_SF | FL_ZF | FL_PF);
	cpu->s.rflags = fl | FL_AF;
}

/* The dividend: AX, DX:AX, EDX:EAX or RDX:RAX. */
static unsigned __int128 get_dividend(const struct cpu *cpu, unsigned size)
{
	uint64_t ax = cpu->s.gpr[R_AX], dx = cpu->s.gpr[R_DX];
	if (size == 1)
		return ax & 0xffff;
	if (size == 8)
		return ((unsigned __int128)dx << 64) | ax;
	return (((dx & size_mask(size)) << (size * 8)) | (ax & size_mask(size)));
}

static void put_quot_rem(struct cpu *cpu, const struct insn *in, unsigned size,
			 uint64_t q, uint64_t r)
{
	if (size == 1)
		reg_write(cpu, in, R_AX, 2, (q & 0xff) | ((r & 0xff) << 8));
	else
		put_double(cpu, in, size, q, r);
}

void op_div_E(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t v = rm_read(cpu, in, size);
	unsigned __int128 d, q;
	if (v == 0)
		cpu_fault_noerr(cpu, EXC_DE);
	d = get_dividend(cpu, size);
	q = d / v;
	if (q > size_mask(size))
		cpu_fault_noerr(cpu, EXC_DE);
	put_quot_rem(cpu, in, size, (uint64_t)q, (uint64_t)(d % v));
	div_flags(cpu);
}

/* Works on magnitudes so that no host division can overflow. */
void op_idiv_E(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	unsigned width = size * 8;
	int64_t v = sext(rm_read(cpu, in, size), size);
	unsigned __int128 d = get_dividend(cpu, size), ud, uq, ur;
	unsigned __int128 limit;
	bool dneg, vneg = v < 0;
	uint64_t uv, q, r;

	if (v == 0)
		cpu_fault_noerr(cpu, EXC_DE);
	/* Sign bit of the 2*width-bit dividend. */
	dneg = (d >> (2 * width - 1)) & 1;
	if (dneg) {
		unsigned __int128 full = width == 64
			? ~(unsigned __int128)0
			: ((unsigned __int128)1 << (2 * width)) - 1;
		ud = (~d + 1) & full;
	} else {
		ud = d;
	}
	uv = vneg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uq = ud / uv;
	ur = ud % uv;
	limit = (unsigned __int128)1 << (width - 1);
	if (dneg != vneg ? uq > limit : uq >= limit)
		cpu_fault_noerr(cpu, EXC_DE);
	q = dneg != vneg ? (uint64_t)0 - (uint64_t)uq : (uint64_t)uq;
	r = dneg ? (uint64_t)0 - (uint64_t)ur : (uint64_t)ur;
	put_quot_rem(cpu, in, size, q & size_mask(size), r & size_mask(size));
	div_flags(cpu);
}
