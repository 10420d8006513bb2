/* Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR by 1, CL and imm8,
 * and the double shifts SHLD SHRD (SDM vol. 2, "RCL/RCR/ROL/ROR", "SAL/SAR/
 * SHL/SHR", "SHLD", "SHRD").
 *
 * The count is masked to 5 bits (6 with a 64-bit operand); a masked count
 * of zero changes no flag. Flags the SDM leaves undefined follow what
 * current x86-64 hardware (the differential tests' host) produces: OF
 * is the rule of the last one-bit step for every count, AF is set by the
 * shifts proper and untouched by the rotates, and 16-bit SHLD/SHRD with a
 * count above 16 shift the 48-bit value dest:src:src (src:src:dest) and
 * clear CF; from a count of 16 SHLD's OF copies CF. */
#include "cpu/exec.h"

/* Flags set to `arith` in full: the arithmetic flags stop being lazy. */
static inline void flags_put(struct cpu *cpu, uint64_t arith)
{
	cpu->s.rflags = (cpu->s.rflags & ~(uint64_t)FL_ARITH) | arith;
	cpu->lf.kind = LF_NONE;
}

static inline uint64_t szp(uint64_t res, unsigned size)
{
	uint64_t f = 0;
	res &= size_mask(size);
	if (res == 0)
		f |= FL_ZF;
	if ((res >> (size * 8 - 1)) & 1)
		f |= FL_SF;
	if (!__builtin_parity((unsigned)(res & 0xff)))
		f |= FL_PF;
	return f;
}

static inline unsigned msb(uint64_t v, unsigned size)
{
	return (v >> (size * 8 - 1)) & 1;
}

static inline unsigned msb2(uint64_t v, unsigned size)
{
	return (v >> (size * 8 - 2)) & 1;
}

enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

/* Rotates only touch CF and OF. */
static void set_cf_of(struct cpu *cpu, unsigned cf, unsigned of)
{
	uint64_t fl = flags_get(cpu) & ~(uint64_t)(FL_CF | FL_OF);
	cpu->s.rflags = fl | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
}

/* `count` is already masked and non-zero. */
static uint64_t shift_compute(struct cpu *cpu, unsigned op, unsigned size,
			      uint64_t a, unsigned count)
{
	unsigned width = size * 8;
	uint64_t m = size_mask(size);
	uint64_t r;
	unsigned cf, n;

	switch (op) {
	case SH_ROL:
		n = count & (width - 1);
		r = n ? ((a << n) | (a >> (width - n))) & m : a;
		cf = r & 1;
		set_cf_of(cpu, cf, msb(r, size) ^ cf);
		return r;
	case SH_ROR:
		n = count & (width - 1);
		r = n ? ((a >> n) | (a << (width - n))) & m : a;
		set_cf_of(cpu, msb(r, size), msb(r, size) ^ msb2(r, size));
		return r;
	case SH_RCL:
	case SH_RCR: {
		/* A rotate through a (width + 1)-bit value CF:operand. */
		unsigned __int128 v, vm = ((unsigned __int128)1 << (width + 1)) - 1;
		cf = flag_cf(cpu);
		n = width < 32 ? count % (width + 1) : count;
		v = ((unsigned __int128)cf << width) | a;
		if (n) {
			if (op == SH_RCL)
				v = ((v << n) | (v >> (width + 1 - n))) & vm;
			else
				v = ((v >> n) | (v << (width + 1 - n))) & vm;
		}
		r = (uint64_t)v & m;
		cf = (unsigned)(v >> width) & 1;
		if (op == SH_RCL)
			set_cf_of(cpu, cf, msb(r, size) ^ cf);
		else
			set_cf_of(cpu, cf, msb(r, size) ^ msb2(r, size));
		return r;
	}
	case SH_SHL:
	case SH_SAL:
		/* The shifts proper leave their flags lazy (flags.c). */
		r = count < width ? (a << count) & m : 0;
		lf_set(cpu, LF_SHL, size, r, a, count, 0);
		return r;
	case SH_SHR:
		r = count < width ? a >> count : 0;
		lf_set(cpu, LF_SHR, size, r, a, count, 0);
		return r;
	default: { /* SAR */
		int64_t sa = (int64_t)(a << (64 - width)) >> (64 - width);
		r = (uint64_t)(sa >> count) & m;
		lf_set(cpu, LF_SAR, size, r, a, count, 0);
		return r;
	}
	}
}

/* Read-modify-write of the r/m operand; the write is probed before the
 * read so a fault leaves memory and flags untouched. A zero count still
 * reads the operand (its faults) but writes nothing. */
static void shift_rm(struct cpu *cpu, const struct insn *in, unsigned count)
{
	unsigned size = in->opsize;
	unsigned op = (in->modrm >> 3) & 7;
	count &= size == 8 ? 0x3f : 0x1f;
	if (in->mod == 3) {
		/* A register is written even for a zero count: a 32-bit
		 * operand in 64-bit mode is zero-extended regardless. */
		uint64_t a = reg_read(cpu, in, in->rm, size);
		reg_write(cpu, in, in->rm, size,
			  count ? shift_compute(cpu, op, size, a, count) : a);
	} else {
		uint64_t ea = insn_ea(cpu, in);
		uint64_t a;
		if (!count) {
			mem_read(cpu, in->seg, ea, size);
			return;
		}
		mem_probe_write(cpu, in->seg, ea, size);
		a = mem_read(cpu, in->seg, ea, size);
		mem_write(cpu, in->seg, ea, size,
			  shift_compute(cpu, op, size, a, count));
	}
}

FAST_HANDLER(op_shift_E1, insn_next_checked)
{
	shift_rm(cpu, in, 1);
}

FAST_HANDLER(op_shift_ECL, insn_next_checked)
{
	shift_rm(cpu, in, cpu->s.gpr[R_CX] & 0xff);
}

FAST_HANDLER(op_shift_EI, insn_next_checked)
{
	shift_rm(cpu, in, in->imm & 0xff);
}

/* Fast forms: a 32-bit register; the shifts proper inline, rotates
 * through shift_compute(). */
static inline __attribute__((always_inline)) void shift_r32(
	struct cpu *cpu, const struct insn *in, unsigned count)
{
	uint32_t a = (uint32_t)cpu->s.gpr[in->rm], r;
	unsigned op = (in->modrm >> 3) & 7;
	count &= 0x1f;
	if (!count) {
		cpu->s.gpr[in->rm] = a; /* zero-extended in 64-bit mode */
		return;
	}
	switch (op) {
	case SH_SHL:
	case SH_SAL:
		r = a << count;
		lf_set(cpu, LF_SHL, 4, r, a, count, 0);
		break;
	case SH_SHR:
		r = a >> count;
		lf_set(cpu, LF_SHR, 4, r, a, count, 0);
		break;
	case SH_SAR:
		r = (uint32_t)((int32_t)a >> count);
		lf_set(cpu, LF_SAR, 4, r, a, count, 0);
		break;
	default:
		r = (uint32_t)shift_compute(cpu, op, 4, a, count);
		break;
	}
	cpu->s.gpr[in->rm] = r;
}

/* SHL, SHR and SAR of a 32-bit register by an immediate: the operation
 * chosen when decoding (fast_form_select()). */
#define SHIFT_IMM_R32(name, kind, expr)                                  \
	void name(struct cpu *cpu, const struct insn *in)                \
	{                                                                \
		unsigned rm = in->rm;                                    \
		uint32_t a = (uint32_t)cpu->s.gpr[rm];                   \
		unsigned count = in->imm & 0x1f;                         \
		if (likely(count)) {                                     \
			uint32_t r = (expr);                             \
			lf_set(cpu, kind, 4, r, a, count, 0);            \
			a = r;                                           \
		}                                                        \
		cpu->s.gpr[rm] = a;                                      \
		insn_next(cpu, in);                                      \
	}
SHIFT_IMM_R32(op_shl_I_r32_t, LF_SHL, a << count)
SHIFT_IMM_R32(op_shr_I_r32_t, LF_SHR, a >> count)
SHIFT_IMM_R32(op_sar_I_r32_t, LF_SAR, (uint32_t)((int32_t)a >> count))

/* ROL and ROR of a 32-bit register by an immediate whose flags nothing
 * can see (block_drop_dead_flags()): the rotate alone. Rotates touch only
 * CF and OF and so must otherwise work out every flag first. */
void op_rol_I_r32_nf_t(struct cpu *cpu, const struct insn *in)
{
	uint32_t a = (uint32_t)cpu->s.gpr[in->rm];
	unsigned n = in->imm & 0x1f;
	cpu->s.gpr[in->rm] = n ? (a << n) | (a >> (32 - n)) : a;
	insn_next(cpu, in);
}

void op_ror_I_r32_nf_t(struct cpu *cpu, const struct insn *in)
{
	uint32_t a = (uint32_t)cpu->s.gpr[in->rm];
	unsigned n = in->imm & 0x1f;
	cpu->s.gpr[in->rm] = n ? (a >> n) | (a << (32 - n)) : a;
	insn_next(cpu, in);
}

/* The same for a 16-bit register (merged into the low word). The count
 * is masked to 5 bits; from 16 on SHL and SHR give 0. */
#define SHIFT_IMM_R16(name, kind, expr)                                  \
	void name(struct cpu *cpu, const struct insn *in)                \
	{                                                                \
		uint32_t a = (uint16_t)cpu->s.gpr[in->rm];               \
		unsigned count = in->imm & 0x1f;                         \
		if (likely(count)) {                                     \
			uint32_t r = (uint16_t)(expr);                   \
			lf_set(cpu, kind, 2, r, a, count, 0);            \
			cpu->s.gpr[in->rm] = (cpu->s.gpr[in->rm] &       \
					      ~0xffffull) | r;           \
		}                                                        \
		insn_next(cpu, in);                                      \
	}
SHIFT_IMM_R16(op_shl_I_r16_t, LF_SHL, a << count)
SHIFT_IMM_R16(op_shr_I_r16_t, LF_SHR, a >> count)
SHIFT_IMM_R16(op_sar_I_r16_t, LF_SAR, (int32_t)(int16_t)a >> count)

FAST_HANDLER(op_shift_E1_r32, insn_next)
{
	shift_r32(cpu, in, 1);
}

FAST_HANDLER(op_shift_ECL_r32, insn_next)
{
	shift_r32(cpu, in, cpu->s.gpr[R_CX] & 0xff);
}

FAST_HANDLER(op_shift_EI_r32, insn_next)
{
	shift_r32(cpu, in, in->imm & 0xff);
}

/* SHLD/SHRD: `d` the destination, `s` the register shifted in. */
static uint64_t dshift_compute(struct cpu *cpu, bool left, unsigned size,
			       uint64_t d, uint64_t s, unsigned count)
{
	unsigned width = size * 8;
	uint64_t m = size_mask(size);
	uint64_t r;
	unsigned cf, of;

	if (size == 2) {
		/* Counts 17..31 reach past the 32-bit pair: the source is
		 * shifted in again. */
		uint64_t x;
		if (left) {
			x = (d << 32) | (s << 16) | s;
			r = (x >> (32 - count)) & m;
			cf = (x >> (48 - count)) & 1;
		} else {
			x = (s << 32) | (s << 16) | d;
			r = (x >> count) & m;
			cf = (x >> (count - 1)) & 1;
		}
	} else if (left) {
		r = ((d << count) | (s >> (width - count))) & m;
		cf = (d >> (width - count)) & 1;
	} else {
		r = ((d >> count) | (s << (width - count))) & m;
		cf = (d >> (count - 1)) & 1;
	}
	of = left ? msb(r, size) ^ cf : msb(r, size) ^ msb2(r, size);
	if (size == 2 && count >= 16) {
		/* What hardware reports from a count of 16 on: SHLD's OF
		 * equals CF, and past the pair CF is clear. */
		if (count > 16)
			cf = 0;
		if (left)
			of = cf;
	}
	flags_put(cpu, szp(r, size) | FL_AF | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
	return r;
}

static void dshift(struct cpu *cpu, const struct insn *in, bool left,
		   unsigned count)
{
	unsigned size = in->opsize;
	uint64_t s = reg_read(cpu, in, in->reg, size);
	count &= size == 8 ? 0x3f : 0x1f;
	if (in->mod == 3) {
		uint64_t d = reg_read(cpu, in, in->rm, size);
		reg_write(cpu, in, in->rm, size,
			  count ? dshift_compute(cpu, left, size, d, s, count) : d);
	} else {
		uint64_t ea = insn_ea(cpu, in);
		uint64_t d;
		if (!count) {
			mem_read(cpu, in->seg, ea, size);
			return;
		}
		mem_probe_write(cpu, in->seg, ea, size);
		d = mem_read(cpu, in->seg, ea, size);
		mem_write(cpu, in->seg, ea, size,
			  dshift_compute(cpu, left, size, d, s, count));
	}
}

void op_shld_I(struct cpu *cpu, const struct insn *in)
{
	dshift(cpu, in, true, in->imm & 0xff);
}

void op_shld_CL(struct cpu *cpu, const struct insn *in)
{
	dshift(cpu, in, true, cpu->s.gpr[R_CX] & 0xff);
}

void op_shrd_I(struct cpu *cpu, const struct insn *in)
{
	dshift(cpu, in, false, in->imm & 0xff);
}

void op_shrd_CL(struct cpu *cpu, const struct insn *in)
{
	dshift(cpu, in, false, cpu->s.gpr[R_CX] & 0xff);
}
